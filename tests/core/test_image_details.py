"""The viewer's data: what changed from the previous image, the PNG's own text, and where it and
the manifest disagree (both values kept)."""

import io

from PIL import Image, PngImagePlugin

from sdsessions_tui.core.gallery import load_gallery
from sdsessions_tui.core.image_details import Change, changes, disagreements, read_image_text, same_model
from sdsessions_tui.core.infotext import parse_infotext
from tests.conftest import png_bytes, write_session
from tests.core import spec_examples as ex

TEXT = ("masterpiece, 1girl, neon jacket, standing, alley\nNegative prompt: lowres, bad anatomy\n"
        "Steps: 28, Sampler: Euler a, Schedule type: Karras, CFG scale: 6, Seed: {seed}, Size: 832x1216, "
        "Model hash: {model_hash}, Model: {model}, Version: v1.10.1")


def png_with_text(text):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def teasing(tmp_path, *, seed=3312870459, model="animagineXL40_v4Opt", model_hash="6327eca98b", first=None):
    manifest = ex.example_b()
    first = png_with_text(TEXT.format(seed=seed, model=model, model_hash=model_hash)) if first is None else first
    files = {"Teasing_0000.png": first,
             "Teasing_0001.png": png_bytes(), "Teasing_0002.png": png_bytes((1, 2, 3), "JPEG")}
    return load_gallery(write_session(tmp_path / "root", "20251112_181502-Teasing", manifest=manifest, files=files))


def test_what_changed_from_the_previous_image(tmp_path):
    gallery = teasing(tmp_path)
    first, second, _ = gallery.images
    assert changes(None, first) == Change() and not changes(None, first)
    change = changes(first, second, gallery.placeholders)
    assert change == Change(("Pose", "Location"), seed=True) and change
    assert changes(first, first) == Change()


def test_a_placeholder_only_one_image_has_changed_and_an_unknown_seed_did_not(tmp_path):
    manifest = {"images": [{"filename": "a_0000.png", "seed": 1, "applied_variations": {"A": "x"}},
                           {"filename": "a_0001.png", "applied_variations": {"A": "x", "B": "y"}}]}
    gallery = load_gallery(write_session(tmp_path / "root", "s", manifest=manifest,
                                         images=["a_0000.png", "a_0001.png"]))
    assert changes(*gallery.images) == Change(("B",), seed=False)


def test_the_images_own_text_parsed_and_agreeing(tmp_path):
    gallery = teasing(tmp_path)
    text = read_image_text(gallery, gallery.images[0])
    assert text.parsed.negative_prompt == "lowres, bad anatomy"
    assert text.parsed.params["Schedule type"] == "Karras" and text.parsed.params["Seed"] == "3312870459"
    assert (text.disagreements, text.reason) == ([], None)


def test_seed_and_model_disagreements_keep_both_values(tmp_path):
    gallery = teasing(tmp_path, seed=7, model="ponyDiffusionV6XL", model_hash="67ab2fd8ec")
    text = read_image_text(gallery, gallery.images[0])
    assert [(d.field, d.manifest, d.image) for d in text.disagreements] == [
        ("seed", "3312870459", "7"),
        ("model", "animagineXL40_v4Opt.safetensors [6327eca98b]", "ponyDiffusionV6XL [67ab2fd8ec]")]


def test_images_without_text_say_why(tmp_path):
    gallery = teasing(tmp_path, first=b"")  # zero bytes
    for image in gallery.images:  # empty, a PNG without text, JPEG bytes in a .png
        text = read_image_text(gallery, image)
        assert text.text is None and text.reason.startswith("no generation text")


def test_an_entry_without_a_file_is_not_read(tmp_path):
    manifest = ex.example_b()
    manifest["images"][0]["filename"] = "../../outside.png"
    gallery = load_gallery(write_session(tmp_path / "root", "s", manifest=manifest))
    text = read_image_text(gallery, gallery.images[0])
    assert text.reason == "no file to read (not opened: points outside the session folder)"


def test_model_names_compare_by_hash_then_by_name_without_extension():
    assert same_model("animagineXL40_v4Opt.safetensors [6327eca98b]", "animagineXL40_v4Opt [6327eca98b]")
    assert same_model("x.safetensors [6327eca98b12]", "y [6327eca98b]")  # the hash decides: a renamed file
    assert not same_model("x.safetensors [6327eca98b]", "x [0000000000]")
    assert same_model("Pony.ckpt", "pony")
    assert not same_model("pony.ckpt", "animagine")


def test_a_model_the_manifest_does_not_know_is_no_disagreement(tmp_path):
    gallery = teasing(tmp_path, model="other", model_hash="0000000000")
    gallery.sd_model = "unknown"  # the API did not answer (spec §8)
    assert read_image_text(gallery, gallery.images[0]).disagreements == []


def test_an_image_model_by_hash_or_name_alone(tmp_path):
    gallery = teasing(tmp_path)
    image = gallery.images[0]
    only_hash = parse_infotext("p\nSteps: 1, Sampler: Euler, Model hash: 0000000000")
    assert [d.image for d in disagreements(gallery, image, only_hash)] == ["[0000000000]"]
    only_name = parse_infotext("p\nSteps: 1, Sampler: Euler, Model: animagineXL40_v4Opt")
    assert disagreements(gallery, image, only_name) == []


def test_an_image_deleted_while_shown_says_so(tmp_path):
    gallery = teasing(tmp_path)
    (gallery.path / "Teasing_0000.png").unlink()
    assert read_image_text(gallery, gallery.images[0]).reason == (
        "the file was deleted or moved since the gallery was listed")
