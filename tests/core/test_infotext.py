"""A1111 generation text in PNG files, and the session fields older eras take from it (issue 19 #4)."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from sdsessions_tui.core import stats as stats_module
from sdsessions_tui.core.infotext import parse_infotext, png_parameters, session_fields
from sdsessions_tui.core.session_stats import FROM_FIRST_IMAGE, FROM_IMAGE_TEXT, FROM_PLAN, SOURCES_KEY
from sdsessions_tui.core.stats import read_session
from tests.conftest import png_bytes, write_session

TEXT = ("masterpiece, 1girl, smiling, front view\nNegative prompt: low quality, blurry\n"
        "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 832x1216, "
        'Model hash: 1a2b3c4d5e, Model: hassakuXLIllustrious_v13, Lora hashes: "a: 1, b: 2", Version: v1.10.1')


def png_with(text: str | None, kind: str = "tEXt", after_pixels: bool = False) -> bytes:
    """A real PNG with a ``parameters`` chunk: before the pixels as A1111 (Pillow) writes it, or after them."""
    picture = Image.new("RGB", (16, 16), (10, 120, 200))
    buffer = io.BytesIO()
    if text is None or after_pixels:
        picture.save(buffer, "PNG")
        data = buffer.getvalue()
        if text is None:
            return data
        body = b"parameters\0" + text.encode("latin-1")
        chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
        return data[:-12] + chunk + data[-12:]
    info = PngImagePlugin.PngInfo()
    if kind == "iTXt":
        info.add_itxt("parameters", text, zip=True)
    else:
        info.add_text("parameters", text, zip=kind == "zTXt")
    info.add_text("Software", "something else")
    picture.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt"])
def test_reads_the_parameters_chunk(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(png_with(TEXT, kind))
    assert png_parameters(str(path)) == TEXT


def test_reads_a_chunk_after_the_pixels(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(png_with(TEXT, after_pixels=True))
    assert png_parameters(str(path)) == TEXT


@pytest.mark.parametrize("content", [png_with(None), png_bytes(fmt="JPEG"), png_with(TEXT)[:40], b"", b"\x89PNG"])
def test_no_text_gives_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(content)
    assert png_parameters(str(path)) is None
    assert png_parameters(str(tmp_path / "missing.png")) is None


def test_parse_and_map_to_session_fields() -> None:
    info = parse_infotext(TEXT)
    assert info.prompt == "masterpiece, 1girl, smiling, front view"
    assert info.negative_prompt == "low quality, blurry"
    assert info.params["Lora hashes"] == "a: 1, b: 2" and info.params["Schedule type"] == "Karras"
    assert session_fields(info) == {
        "sd_model": "hassakuXLIllustrious_v13 [1a2b3c4d5e]", "sampler_name": "DPM++ 2M", "scheduler": "Karras",
        "steps": 25, "cfg_scale": 7.0, "width": 832, "height": 1216,
        "resolved_prompt": "masterpiece, 1girl, smiling, front view", "negative_prompt": "low quality, blurry"}


def test_multi_line_prompts_and_no_parameters_line() -> None:
    info = parse_infotext("a,\nb\nNegative prompt: c\nd\nSteps: 20, Sampler: Euler a, Seed: 1")
    assert (info.prompt, info.negative_prompt, info.params["Sampler"]) == ("a,\nb", "c\nd", "Euler a")
    only_prompt = parse_infotext("just a prompt, no: parameters")
    assert (only_prompt.prompt, only_prompt.params) == ("just a prompt, no: parameters", {})
    assert session_fields(parse_infotext("Steps: x, Size: big, CFG scale: NaN, Model: m")) == {"sd_model": "m"}


# --- sessions of the older eras ----------------------------------------------------------------------------

PLAN = [("smiling", "front view"), ("smiling", "side view"), ("serious", "front view"), ("serious", "side view")]


def phase2_manifest(plan=PLAN, seeds=None) -> dict:
    seeds = seeds or [42 + i for i in range(len(plan))]
    return {"session_name": "hassaku_actualportrait.prompt", "template_source": "/x/hassaku_actualportrait.prompt.yaml",
            "generated_at": "2025-10-12T18:04:33.120931", "total_variations": len(plan), "templating_system": "v2.0",
            "variations": [{"index": i, "prompt": f"masterpiece, 1girl, {e}, {a}, detailed face", "seed": seed,
                            "negative_prompt": "low quality, blurry",
                            "variations": {"Expression": e, "Angle": a}, "parameters": {"width": 832, "steps": 25}}
                           for i, ((e, a), seed) in enumerate(zip(plan, seeds, strict=True))]}


def phase2_session(root: Path, manifest: dict, image: bytes) -> Path:
    images = [f"hassaku_actualportrait.prompt_{i:04d}.png" for i in range(len(manifest["variations"]))]
    folder = write_session(root, "2025-10-12_180433_hassaku_actualportrait.prompt", manifest=manifest,
                           manifest_name="hassaku_actualportrait.prompt_manifest.json")
    for name in images:
        (folder / name).write_bytes(image)
    return folder


def test_mid_october_session_takes_what_it_lacks_from_the_images_and_the_plan(tmp_path: Path) -> None:
    folder = phase2_session(tmp_path, phase2_manifest(), png_with(TEXT))
    stats = read_session(folder, retry_delays=())
    assert stats.sd_model == "hassakuXLIllustrious_v13 [1a2b3c4d5e]"
    assert (stats.sampler_name, stats.scheduler, stats.cfg_scale) == ("DPM++ 2M Karras", "Karras", 7.0)
    assert (stats.width, stats.steps, stats.height) == (832, 25, 1216)  # the manifest's own values stay
    assert (stats.generation_mode, stats.seed_mode, stats.total_combinations) == ("combinatorial", "progressive", 4)
    assert stats.resolved_prompt == "masterpiece, 1girl, {Expression}, {Angle}, detailed face"
    assert stats.api_params[SOURCES_KEY] == {
        "sd_model": FROM_IMAGE_TEXT, "sampler_name": FROM_IMAGE_TEXT, "scheduler": FROM_IMAGE_TEXT,
        "cfg_scale": FROM_IMAGE_TEXT, "height": FROM_IMAGE_TEXT, "generation_mode": FROM_PLAN,
        "seed_mode": FROM_PLAN, "total_combinations": FROM_PLAN, "resolved_prompt": FROM_PLAN}
    assert stats.api_params["width"] == 832  # the manifest's parameters are kept beside


def test_plan_order_tells_the_mode(tmp_path: Path) -> None:
    shuffled = [PLAN[3], PLAN[0], PLAN[2], PLAN[1]]  # in no loop order
    random_run = read_session(phase2_session(tmp_path / "a", phase2_manifest(shuffled, [-1] * 4), png_with(None)),
                              retry_delays=())
    assert (random_run.generation_mode, random_run.seed_mode, random_run.total_combinations) == ("random", "random",
                                                                                                 None)
    reordered = [PLAN[0], PLAN[2], PLAN[1], PLAN[3]]  # the Angle loop outside ($N weights reorder loops)
    capped = read_session(phase2_session(tmp_path / "b", phase2_manifest(reordered[:3], [7] * 3), png_with(None)),
                          retry_delays=())
    assert (capped.generation_mode, capped.seed_mode, capped.total_combinations) == ("combinatorial", "fixed", None)


def test_a_template_that_cannot_be_rebuilt_says_it_is_the_first_prompt(tmp_path: Path) -> None:
    manifest = phase2_manifest()
    manifest["variations"][0]["prompt"] = "smiling, smiling, front view"  # the value twice: ambiguous
    manifest["variations"][1]["prompt"] = "something else entirely"
    stats = read_session(phase2_session(tmp_path, manifest, png_with(None)), retry_delays=())
    assert stats.resolved_prompt == "smiling, smiling, front view"
    assert stats.api_params[SOURCES_KEY]["resolved_prompt"] == FROM_FIRST_IMAGE


def test_v0_session_takes_the_model_from_the_images(tmp_path: Path) -> None:
    from tests.core.legacy_v0_examples import METADATA, v0_images

    folder = write_session(tmp_path, "2025-10-01_215220_faces", files={"metadata.json": json.dumps(METADATA)})
    for name in v0_images(15):
        (folder / name).write_bytes(png_with(TEXT))
    stats = read_session(folder, retry_delays=())
    assert stats.sd_model == "hassakuXLIllustrious_v13 [1a2b3c4d5e]"
    assert stats.sampler_name == "DPM++ 2M Karras" and stats.scheduler is None  # the era's own sampler name stays
    assert stats.resolved_prompt == "masterpiece, {Expression}, {Angle}"
    assert stats.api_params[SOURCES_KEY] == {"sd_model": FROM_IMAGE_TEXT}


def test_a_complete_manifest_reads_no_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core import spec_examples as ex

    reads: list[str] = []
    monkeypatch.setattr(stats_module, "png_parameters", lambda path: reads.append(path))
    manifest = ex.example_b()
    write_session(tmp_path, "20251112_181502-x", manifest=manifest,
                  images=[image["filename"] for image in manifest["images"]])
    stats = read_session(tmp_path / "20251112_181502-x", retry_delays=())
    assert reads == [] and SOURCES_KEY not in stats.api_params


def test_one_image_is_read_of_a_large_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what is needed: one image's text (the last one if the first has none), never every image."""
    reads: list[str] = []
    real = stats_module.png_parameters
    monkeypatch.setattr(stats_module, "png_parameters", lambda path: reads.append(Path(path).name) or real(path))
    plan = [(f"e{i}", f"a{j}") for i in range(50) for j in range(40)]
    folder = phase2_session(tmp_path, phase2_manifest(plan), png_with(None))
    (folder / "hassaku_actualportrait.prompt_1999.png").write_bytes(png_with(TEXT))
    stats = read_session(folder, retry_delays=())
    assert reads == ["hassaku_actualportrait.prompt_0000.png", "hassaku_actualportrait.prompt_1999.png"]
    assert stats.sd_model == "hassakuXLIllustrious_v13 [1a2b3c4d5e]" and stats.total_combinations == 2000


def test_a_manifest_cannot_claim_derived_fields(tmp_path: Path) -> None:
    from tests.core import spec_examples as ex

    manifest = ex.example_b()
    manifest["snapshot"]["api_params"][SOURCES_KEY] = {"sd_model": FROM_IMAGE_TEXT}
    write_session(tmp_path, "20251112_181502-x", manifest=manifest,
                  images=[image["filename"] for image in manifest["images"]])
    assert SOURCES_KEY not in read_session(tmp_path / "20251112_181502-x", retry_delays=()).api_params


def test_object_values_in_the_plan(tmp_path: Path) -> None:
    dress = [{"main": "red dress", "lora": "<lora:dress:0.7>"}, {"main": "armor", "lora": "<lora:armor:0.6>"}]
    manifest = phase2_manifest()
    plan = [(d, a) for d in dress for a in ("front", "side")]
    for entry, (outfit, angle) in zip(manifest["variations"], plan, strict=True):
        entry["variations"] = {"Outfit": outfit, "Angle": angle}
    stats = read_session(phase2_session(tmp_path, manifest, png_with(None)), retry_delays=())
    assert (stats.generation_mode, stats.total_combinations) == ("combinatorial", 4)
    assert stats.placeholders["Outfit"]["values"] == ["red dress <lora:dress:0.7>", "armor <lora:armor:0.6>"]
    assert stats.api_params[SOURCES_KEY]["resolved_prompt"] == FROM_FIRST_IMAGE  # object values: no template


def test_an_unknown_checkpoint_is_replaced_by_the_images_model(tmp_path: Path) -> None:
    """The CLI writes "unknown" when the model query failed (spec §8); images made anyway name it."""
    from tests.core import spec_examples as ex

    manifest = ex.example_b()
    manifest["snapshot"]["runtime_info"]["sd_model_checkpoint"] = "unknown"
    folder = write_session(tmp_path, "20251112_181502-x", manifest=manifest)
    for image in manifest["images"]:
        (folder / image["filename"]).write_bytes(png_with(TEXT))
    stats = read_session(folder, retry_delays=())
    assert stats.sd_model == "hassakuXLIllustrious_v13 [1a2b3c4d5e]"
    assert stats.sampler_name == "Euler a Karras"  # the manifest's own, with its scheduler
    assert stats.api_params[SOURCES_KEY] == {"sd_model": FROM_IMAGE_TEXT}
