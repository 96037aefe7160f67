"""The gallery's listing: generation order, empty entries for what failed, files nobody listed, and
nothing read outside the session folder, for every era of the spec and the issue's bad input."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsessions_tui.core.facets import FacetFilter, facets
from sdsessions_tui.core.gallery import MAX_PLANNED_GAPS, ImageState, Value, caption, load_gallery, variations_of
from sdsessions_tui.core.matrix import build_matrix, default_axes
from tests.conftest import write_session
from tests.core import spec_examples as ex
from tests.core.legacy_v0_examples import CONFIG, METADATA, v0_images
from tests.core.test_reader_fuzz import MANIFEST_NAMES, manifests

OK, UNLISTED, FAILED = ImageState.OK, ImageState.UNLISTED, ImageState.FAILED
NOT_WRITTEN, MISSING, REFUSED = ImageState.NOT_WRITTEN, ImageState.MISSING, ImageState.REFUSED


def filenames(manifest):
    return [image["filename"] for image in manifest["images"]]


def session(tmp_path, manifest, name="20251114_093010-s", *, images=None, **kwargs):
    """A session folder holding ``manifest`` and (by default) every file it lists."""
    images = filenames(manifest) if images is None else images
    return write_session(tmp_path / "root", name, manifest=manifest, images=images, **kwargs)


def states(gallery):
    return [(image.index, image.state) for image in gallery.images]


def test_a_finished_run_lists_its_images_in_manifest_order(tmp_path):
    manifest = ex.example_b()
    gallery = load_gallery(session(tmp_path, manifest))
    assert [image.filename for image in gallery.images] == filenames(manifest)
    assert states(gallery) == [(0, OK), (1, OK), (2, OK)]
    first = gallery.images[0]
    assert (first.position, first.seed, first.prompt, first.negative_prompt) == (
        0, 3312870459, "masterpiece, 1girl, neon jacket, standing, alley", "lowres, bad anatomy")
    assert first.variations == {"Outfit": Value("neon jacket"), "Pose": Value("standing"), "Location": Value("alley")}
    assert gallery.placeholders == ["Outfit", "Pose", "Location"]
    assert gallery.varying == ["Pose", "Location"]  # Outfit is fixed: no caption needs it
    assert gallery.value_order["Pose"] == ["standing", "sitting", "leaning", "crouching"]
    assert gallery.sd_model == "animagineXL40_v4Opt.safetensors [6327eca98b]"
    assert (gallery.error, gallery.warnings, gallery.is_seed_sweep) == (None, [], False)
    assert all(gallery.open_path(image) == gallery.path / image.filename for image in gallery.images)


def test_a_run_that_stopped_shows_the_planned_rest_as_not_written_with_planned_seeds(tmp_path):
    gallery = load_gallery(session(tmp_path, ex.example_a()))  # 2 of 6, no status: not said to be finished
    assert states(gallery) == [(0, OK), (1, OK), (2, NOT_WRITTEN), (3, NOT_WRITTEN), (4, NOT_WRITTEN),
                               (5, NOT_WRITTEN)]
    assert [image.seed for image in gallery.images] == [42, 43, 44, 45, 46, 47]  # progressive from 42
    assert gallery.images[2].filename is None and gallery.images[2].variations == {}
    assert gallery.open_path(gallery.images[2]) is None
    assert "stopped" in gallery.images[2].reason


def test_a_gap_in_a_completed_sweep_is_failed_and_keeps_its_seed_and_combination(tmp_path):
    manifest = ex.example_c()
    del manifest["images"][4]  # hair_test_0004_seed-1001: HTTP 500
    gallery = load_gallery(session(tmp_path, manifest))
    assert states(gallery) == [(0, OK), (1, OK), (2, OK), (3, OK), (4, FAILED), (5, OK)]
    failed = gallery.images[4]
    assert (failed.seed, failed.variations, failed.filename) == (1001, {"HairColor": Value("crimson hair")}, None)
    assert "went on without it" in failed.reason
    assert gallery.is_seed_sweep and gallery.seed_list == [1000, 1001, 1002]


def test_a_completed_run_missing_its_last_images_shows_them_failed(tmp_path):
    manifest = ex.example_c()
    del manifest["images"][4:]
    gallery = load_gallery(session(tmp_path, manifest))
    assert states(gallery)[4:] == [(4, FAILED), (5, FAILED)]
    assert "finished without it" in gallery.images[5].reason
    assert gallery.images[5].variations == {"HairColor": Value("crimson hair")}  # its group's written image


@pytest.mark.parametrize(("status", "state"), [("completed", FAILED), ("aborted", NOT_WRITTEN),
                                               ("ongoing", NOT_WRITTEN), (None, NOT_WRITTEN)])
def test_a_run_without_any_image_shows_its_plan(tmp_path, status, state):
    manifest = ex.example_e()  # API down: images [], 3 planned
    if status is None:
        manifest.pop("status")
    else:
        manifest["status"] = status
    gallery = load_gallery(session(tmp_path, manifest))
    assert states(gallery) == [(0, state), (1, state), (2, state)]
    assert [image.seed for image in gallery.images] == [None] * 3  # random seeds are not known ahead


def test_a_dry_run_lists_its_plan_as_not_written(tmp_path):
    manifest = ex.example_f()
    folder = write_session(tmp_path / "root" / "dryrun", "20251114_100000-hair_test", manifest=manifest,
                           files={"hair_test_0000_seed-1000.json": json.dumps(ex.dry_run_payload(1000))})
    gallery = load_gallery(folder)
    assert gallery.is_dry_run and gallery.root == tmp_path / "root"
    assert {image.state for image in gallery.images} == {NOT_WRITTEN}
    assert [image.filename for image in gallery.images] == filenames(manifest)
    assert gallery.images[0].reason == "a dry run writes no images"


def test_files_the_manifest_does_not_list_come_last_in_index_order(tmp_path):
    manifest = ex.example_b()
    folder = session(tmp_path, manifest, images=[*filenames(manifest), "Teasing_0010.png", "Teasing_0004.png",
                                                 "Teasing_0001_annotated.png", "notes.png"])
    gallery = load_gallery(folder)
    assert [(image.filename, image.state) for image in gallery.images[3:]] == [
        ("Teasing_0004.png", UNLISTED), ("Teasing_0010.png", UNLISTED), ("notes.png", UNLISTED)]
    assert gallery.images[3].reason == "not listed in the manifest"
    assert gallery.open_path(gallery.images[3]) == folder / "Teasing_0004.png"


def test_a_file_one_ahead_of_a_running_manifest_sits_where_it_was_planned(tmp_path):
    manifest = ex.example_a()  # 2 entries of 6: the generator wrote image 2 and not yet its entry
    gallery = load_gallery(session(tmp_path, manifest, images=[*filenames(manifest), "portrait_test.prompt_0002.png"]))
    assert states(gallery) == [(0, OK), (1, OK), (2, UNLISTED), (3, NOT_WRITTEN), (4, NOT_WRITTEN),
                               (5, NOT_WRITTEN)]


def test_an_image_deleted_since_the_run_is_a_missing_file(tmp_path):
    manifest = ex.example_b()
    gallery = load_gallery(session(tmp_path, manifest, images=filenames(manifest)[1:]))
    assert gallery.images[0].state is MISSING and gallery.images[0].filename == "Teasing_0000.png"
    assert gallery.images[0].reason == "the file is not in the session folder"
    assert gallery.images[0].seed == 3312870459  # the entry's data is still shown
    assert gallery.open_path(gallery.images[0]) is None


def test_the_multi_image_name_of_the_new_orchestrator_is_found(tmp_path):
    manifest = ex.example_b()
    gallery = load_gallery(session(tmp_path, manifest, images=["Teasing_0000_001.png", *filenames(manifest)[1:]]))
    assert (gallery.images[0].filename, gallery.images[0].state) == ("Teasing_0000_001.png", OK)


def test_a_file_listed_twice_is_one_image(tmp_path):
    manifest = ex.example_b()
    manifest["images"][1]["filename"] = manifest["images"][0]["filename"]
    gallery = load_gallery(session(tmp_path, manifest))
    assert states(gallery) == [(0, OK), (0, MISSING), (1, FAILED), (2, OK)]  # index 1 has no entry now
    assert gallery.images[1].reason == "the manifest lists this file twice"


@pytest.mark.parametrize(("name", "reason"), [
    ("../outside.png", "not opened: points outside the session folder"),
    ("/etc/outside.png", "not opened: absolute path outside the session folder"),
    ("C:\\outside.png", "not opened: absolute path outside the session folder"),
    ("sub/inner.png", "not opened: not a plain file name"),
    ("a\x00b.png", "not opened: contains a NUL byte"),
])
def test_a_filename_leading_out_of_the_folder_is_refused_with_its_reason(tmp_path, name, reason):
    manifest = ex.example_b()
    manifest["images"][0]["filename"] = name
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "outside.png").write_bytes(b"secret")
    gallery = load_gallery(session(tmp_path, manifest, images=filenames(manifest)[1:]))
    refused = gallery.images[0]
    assert (refused.state, refused.reason, refused.filename) == (REFUSED, reason, name)
    assert gallery.open_path(refused) is None
    assert gallery.warnings == [f"image entry refused ({reason.removeprefix('not opened: ')}): {name!r}"]


@pytest.mark.parametrize("name", [None, 42, "", "  ", ["a.png"]])
def test_an_entry_without_a_usable_name_is_a_missing_file(tmp_path, name):
    manifest = ex.example_b()
    manifest["images"][0]["filename"] = name
    gallery = load_gallery(session(tmp_path, manifest, images=filenames(manifest)[1:]))
    assert (gallery.images[0].state, gallery.images[0].filename) == (MISSING, None)
    assert gallery.images[0].reason == "the manifest entry names no file"


def test_a_symlink_leading_out_of_the_root_is_refused_and_one_inside_is_shown(tmp_path):
    manifest = ex.example_b()
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"secret")
    folder = session(tmp_path, manifest, images=[])
    (folder / "Teasing_0000.png").symlink_to(outside)
    (tmp_path / "root" / "shared.png").write_bytes(b"fine")
    (folder / "Teasing_0001.png").symlink_to(tmp_path / "root" / "shared.png")
    gallery = load_gallery(folder)
    assert [image.state for image in gallery.images] == [REFUSED, OK, MISSING]
    assert gallery.images[0].reason == "not opened: a symbolic link leading outside the root"
    assert gallery.open_path(gallery.images[1]) == folder / "Teasing_0001.png"


def test_a_file_replaced_by_a_link_out_of_the_root_after_listing_is_not_opened(tmp_path):
    manifest = ex.example_b()
    gallery = load_gallery(session(tmp_path, manifest))
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"secret")
    path = gallery.path / "Teasing_0000.png"
    path.unlink()
    path.symlink_to(outside)
    assert gallery.open_path(gallery.images[0]) is None
    assert gallery.open_path(gallery.images[1]) is not None


def test_ten_thousand_listed_images_that_do_not_exist(tmp_path):
    manifest = {"snapshot": {}, "status": "completed",
                "images": [{"filename": f"gone_{i:05d}.png", "seed": i} for i in range(10_000)]}
    gallery = load_gallery(session(tmp_path, manifest, images=[]))
    assert len(gallery.images) == 10_000
    assert {image.state for image in gallery.images} == {MISSING}
    assert gallery.images[-1].index == 9999 and gallery.images[-1].position == 9999


def test_an_absurd_planned_count_is_counted_not_listed(tmp_path):
    manifest = ex.example_e()
    manifest["snapshot"]["generation_params"]["num_images"] = 10**9
    gallery = load_gallery(session(tmp_path, manifest))
    assert len(gallery.images) == MAX_PLANNED_GAPS
    assert gallery.hidden_planned == 10**9 - MAX_PLANNED_GAPS
    assert gallery.warnings == [f"{10**9 - MAX_PLANNED_GAPS} more planned images not listed"]


def test_an_absurd_index_in_a_file_name_is_counted_not_listed(tmp_path):
    folder = write_session(tmp_path / "root", "20251114_093010-s", images=["x_0000.png", "x_999999999.png"])
    gallery = load_gallery(folder)  # no metadata: the gap between the files is what failed
    assert len(gallery.images) == MAX_PLANNED_GAPS + 2
    assert gallery.hidden_planned == 999999998 - MAX_PLANNED_GAPS


def test_a_phase2_plan_gives_each_written_index_its_prompt(tmp_path):
    plan = [{"index": i, "prompt": f"p{i}", "negative_prompt": "n", "seed": 42 + i,
             "variations": {"Expression": e}, "parameters": {"width": 832}}
            for i, e in enumerate(["smiling", "serious", "sad", "calm", "shy"])]
    manifest = {"session_name": "portrait", "total_variations": 5, "templating_system": "v2.0", "variations": plan}
    folder = write_session(tmp_path / "root", "2025-10-12_180433_portrait", manifest=manifest,
                           manifest_name="portrait_manifest.json",
                           images=["portrait_0000.png", "portrait_0001.png", "portrait_0003.png", "stray.png"])
    gallery = load_gallery(folder)
    assert states(gallery) == [(0, OK), (1, OK), (2, NOT_WRITTEN), (3, OK), (4, NOT_WRITTEN), (None, UNLISTED)]
    assert gallery.images[3].variations == {"Expression": Value("calm")}
    assert (gallery.images[3].prompt, gallery.images[3].seed) == ("p3", 45)
    assert gallery.images[2].variations == {"Expression": Value("sad")}  # the plan says what failed
    assert gallery.varying == ["Expression"]


def test_a_v0_run_lists_its_files_with_its_gaps_one_based(tmp_path):
    images = [name for name in v0_images(10) if "_005_" not in name]
    folder = write_session(tmp_path / "root", "2025-10-01_215220_faces", images=images,
                           files={"session_config.txt": CONFIG, "metadata.json": json.dumps(METADATA)})
    gallery = load_gallery(folder)
    assert [image.index for image in gallery.images] == list(range(1, 16))
    assert [image.state for image in gallery.images[:6]] == [OK, OK, OK, OK, FAILED, OK]
    assert {image.state for image in gallery.images[10:]} == {FAILED}  # metadata.json: the run finished
    assert gallery.images[0].reason is None  # the era lists no images: its files are the results


def test_an_interrupted_v0_run_shows_the_rest_not_written(tmp_path):
    folder = write_session(tmp_path / "root", "2025-10-01_215220_faces", images=v0_images(3),
                           files={"session_config.txt": CONFIG})
    gallery = load_gallery(folder)
    assert [image.state for image in gallery.images] == [OK] * 3 + [NOT_WRITTEN] * 12


def test_without_metadata_the_files_are_listed_by_index(tmp_path):
    folder = write_session(tmp_path / "root", "somewhere", images=["a_0012.png", "a_0010.png", "zz.png"])
    gallery = load_gallery(folder)
    assert [(image.index, image.state) for image in gallery.images] == [(10, OK), (11, FAILED), (12, OK),
                                                                         (None, OK)]
    assert gallery.placeholders == [] and gallery.error is None


@pytest.mark.parametrize("raw", [b"", b"{\"snapshot\": {\"ver", b"[1, 2]", b"\xff\xfe garbage"])
def test_an_unreadable_manifest_still_shows_the_files_with_the_reason(tmp_path, raw):
    folder = write_session(tmp_path / "root", "20251114_093010-s", manifest=raw, images=["s_0000.png", "s_0001.png"])
    gallery = load_gallery(folder, retry_delays=())
    assert gallery.error.startswith("manifest.json")
    assert [image.state for image in gallery.images] == [OK, OK]


@pytest.mark.parametrize("manifest", [{}, {"snapshot": {}}, {"images": None}, {"images": {"a": 1}}])
def test_a_manifest_without_images_lists_the_folder(tmp_path, manifest):
    folder = write_session(tmp_path / "root", "20251114_093010-s", manifest=manifest, images=["s_0000.png"])
    assert [image.state for image in load_gallery(folder).images] == [OK]


def test_every_entry_field_may_be_missing_or_of_any_type(tmp_path):
    manifest = {"images": [{}, None, "x", {"filename": "s_0001.png", "seed": "12", "prompt": 5,
                                          "applied_variations": ["a"]},
                           {"filename": "s_0002.png", "seed": True, "applied_variations": {"A": None, "B": 3}}]}
    gallery = load_gallery(session(tmp_path, manifest, images=["s_0001.png", "s_0002.png"]))
    assert states(gallery) == [(None, MISSING), (None, MISSING), (None, MISSING), (0, FAILED), (1, OK), (2, OK)]
    assert (gallery.images[4].seed, gallery.images[4].prompt, gallery.images[4].variations) == (12, "5", {})
    assert (gallery.images[5].seed, gallery.images[5].variations) == (None, {"B": Value("3")})
    assert gallery.placeholders == ["B"]


def test_a_session_of_no_images(tmp_path):
    gallery = load_gallery(write_session(tmp_path / "root", "20251114_093010-empty"))
    assert (gallery.images, gallery.error, gallery.varying) == ([], None, [])


def test_a_folder_that_vanished(tmp_path):
    gallery = load_gallery(tmp_path / "root" / "gone")
    assert gallery.images == [] and gallery.error.startswith("cannot list the session folder")


def test_object_values_keep_their_parts_main_first():
    assert variations_of({"Outfit": {"lora": "<lora:x:0.7>", "main": "red dress"}, "N": 2, "L": ["a", "b"]}) == {
        "Outfit": Value("red dress <lora:x:0.7>", (("main", "red dress"), ("lora", "<lora:x:0.7>"))),
        "N": Value("2"), "L": Value("a, b")}
    assert variations_of(None) == variations_of([1]) == {}


def test_captions_show_index_seed_varying_values_and_state_safely(tmp_path):
    manifest = ex.example_a()
    manifest["images"][1]["applied_variations"]["Angle"] = "side\x1b[31m view\nnext"
    gallery = load_gallery(session(tmp_path, manifest))
    assert caption(gallery.images[0], gallery.varying) == "#0 · 42 · front view"
    assert caption(gallery.images[1], gallery.varying) == "#1 · 43 · side\\x1b[31m view next"
    assert caption(gallery.images[2], gallery.varying) == "#2 · 44 · [not written]"


def test_a_caption_without_index_counts_from_one(tmp_path):
    folder = write_session(tmp_path / "root", "x", images=["plain.png"])
    assert caption(load_gallery(folder).images[0], []) == "(1)"


def test_the_root_given_is_the_one_links_are_checked_against(tmp_path):
    manifest = ex.example_b()
    folder = session(tmp_path, manifest, images=filenames(manifest)[1:])
    os.symlink(tmp_path / "elsewhere.png", folder / "Teasing_0000.png")
    (tmp_path / "elsewhere.png").write_bytes(b"x")
    assert load_gallery(folder, root=tmp_path).images[0].state is OK  # inside that wider root


def test_a_gap_in_a_dry_run_is_not_written_either(tmp_path):
    manifest = ex.example_f()
    del manifest["images"][1]
    folder = write_session(tmp_path / "root" / "dryrun", "20251114_100000-hair_test", manifest=manifest)
    gallery = load_gallery(folder)
    assert [image.state for image in gallery.images] == [NOT_WRITTEN] * len(ex.example_f()["images"])
    assert gallery.images[1].filename is None and gallery.images[1].seed == 1001  # the sweep's planned seed


def test_names_without_indices_leave_the_count_to_say_what_is_absent(tmp_path):
    manifest = ex.example_b()
    for image in manifest["images"]:
        image["filename"] = image["filename"].replace("_000", "-")
    manifest["snapshot"]["generation_params"]["num_images"] = 5
    gallery = load_gallery(session(tmp_path, manifest))
    assert states(gallery) == [(None, OK)] * 3 + [(None, FAILED)] * 2


def test_a_fixed_seed_run_plans_one_seed(tmp_path):
    manifest = ex.example_a()
    manifest["snapshot"]["generation_params"]["seed_mode"] = "fixed"
    gallery = load_gallery(session(tmp_path, manifest))
    assert [image.seed for image in gallery.images[2:]] == [42] * 4


def test_the_other_images_of_a_batch_take_their_prompt_not_their_seed(tmp_path):
    manifest = ex.example_b()
    files = ["Teasing_0000_001.png", "Teasing_0000_002.png", "Teasing_0001.png", "Teasing_0001_002.png",
             "Teasing_0002.png", "Other_0009_002.png"]
    gallery = load_gallery(session(tmp_path, manifest, images=files))
    assert [(image.filename, image.state) for image in gallery.images] == [
        ("Teasing_0000_001.png", OK), ("Teasing_0001.png", OK), ("Teasing_0002.png", OK),
        ("Teasing_0000_002.png", UNLISTED), ("Teasing_0001_002.png", UNLISTED), ("Other_0009_002.png", UNLISTED)]
    sibling = gallery.images[3]
    assert (sibling.index, sibling.seed, sibling.prompt) == (0, None, manifest["images"][0]["prompt"])
    assert sibling.variations == gallery.images[0].variations
    assert sibling.reason.startswith("another image of a listed image's batch")
    assert gallery.images[5].variations == {} and gallery.images[5].reason == "not listed in the manifest"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests, manifest_name=st.sampled_from(MANIFEST_NAMES),
       files=st.lists(st.sampled_from(["s_0000.png", "s_0003.png", "s_0000_002.png", "x_001_a.png", "s.png"]),
                      max_size=4, unique=True))
def test_any_manifest_gives_a_gallery_facets_and_a_matrix(tmp_path_factory, manifest, manifest_name, files):
    folder = write_session(tmp_path_factory.mktemp("fuzz") / "root", "20251114_093010-s", manifest=manifest,
                           manifest_name=manifest_name, images=files)
    gallery = load_gallery(folder, retry_delays=())
    listed = manifest.get("images")
    assert len(gallery.images) <= MAX_PLANNED_GAPS + (len(listed) if isinstance(listed, list) else 0) + len(files)
    assert [image.position for image in gallery.images] == list(range(len(gallery.images)))
    for facet in facets(gallery, FacetFilter()):
        assert sum(value.count for value in facet.values) == len(gallery.images)
    axes = default_axes(gallery)
    if axes is not None:
        matrix = build_matrix(gallery, *axes)
        assert sum(len(cell.images) for row in matrix.cells for cell in row) == len(gallery.images)
    for image in gallery.images[:50]:
        caption(image, gallery.varying)


def test_a_planned_count_beyond_any_integer_size_is_counted(tmp_path):
    manifest = ex.example_e()
    manifest["snapshot"]["generation_params"]["num_images"] = 2**70  # len(range) would overflow
    gallery = load_gallery(session(tmp_path, manifest))
    assert gallery.hidden_planned == 2**70 - MAX_PLANNED_GAPS
