"""Stats for every era and every example manifest of the spec, and the traps it lists."""

import json
import os
import time
from datetime import datetime

import pytest

from sdsessions_tui.core.session_stats import STATS_VERSION
from sdsessions_tui.core.stats import read_session
from tests.conftest import OLD, png_bytes
from tests.core import spec_examples as ex

NOW = time.time()


def stats_of(folder, **kwargs):
    return read_session(folder, retry_delays=(), **kwargs)


def filenames(manifest):
    return [image["filename"] for image in manifest["images"]]


def test_example_a_mid_run_without_status(make_session):
    manifest = ex.example_a()
    folder = make_session("2025-10-16_140211_portrait_test.prompt", manifest=manifest, images=filenames(manifest))
    stats = stats_of(folder)
    assert stats.manifest_format == "v2"
    assert stats.display_name == "portrait_test"
    assert stats.session_created_at == datetime(2025, 10, 16, 14, 2, 11)
    assert stats.manifest_generated_at == datetime(2025, 10, 16, 14, 2, 12, 482913)
    assert stats.sd_model == "hassakuXLIllustrious_v13.safetensors [1a2b3c4d5e]"
    assert (stats.template_version, stats.generation_mode, stats.seed_mode, stats.seed_base) == (
        "2.0", "combinatorial", "progressive", 42)
    assert stats.resolved_prompt == "masterpiece, 1girl, {Expression}, {Angle}, detailed face"
    assert stats.negative_prompt == "low quality, blurry"
    assert (stats.width, stats.height, stats.steps, stats.cfg_scale, stats.sampler_name, stats.scheduler) == (
        832, 1216, 25, 7.0, "DPM++ 2M Karras", None)
    assert (stats.images_expected, stats.images_actual, stats.completion_percentage) == (6, 2, 33.33)
    assert stats.placeholders["Expression"] == {
        "values": ["smiling", "serious", "surprised"], "used": ["smiling", "serious", "surprised"], "count": 3}
    assert stats.variations_summary == "Expression (3), Angle (2)"
    assert stats.status == "incomplete"  # no status field, stopped short, old files
    assert stats.is_seed_sweep is False
    assert (stats.seed_min, stats.seed_max) == (42, 43)
    assert stats.stats_error is None and stats.stats_version == STATS_VERSION


def test_example_a_recent_is_running(make_session):
    manifest = ex.example_a()
    folder = make_session("2025-10-16_140211_portrait_test.prompt", manifest=manifest,
                          images=filenames(manifest), mtime=None)
    assert stats_of(folder).status == "running"


def test_example_b_completed(make_session):
    manifest = ex.example_b()
    folder = make_session("20251112_181502-Teasing-cyberpunk-default", manifest=manifest, images=filenames(manifest))
    stats = stats_of(folder)
    assert (stats.status, stats.images_expected, stats.images_actual, stats.completion_percentage) == (
        "completed", 3, 3, 100.0)
    assert stats.display_name == "Teasing cyberpunk default"
    assert (stats.theme_name, stats.style, stats.scheduler, stats.seed_base) == ("cyberpunk", "default", "Karras", -1)
    assert stats.api_params["adetailer"]["enabled"] is True
    assert stats.placeholders["Pose"]["count"] == 4
    assert stats.placeholders["Pose"]["used"] == ["standing", "leaning", "sitting"]
    assert stats.total_combinations == 24
    assert stats.image_files == filenames(manifest)
    assert stats.first_image_created_at is not None and stats.last_image_created_at is not None


def test_completed_with_a_gap_is_completed_with_failures(make_session):
    manifest = ex.example_b()
    del manifest["images"][1]  # HTTP 500 on image 1: no entry, no file
    folder = make_session("20251112_181502-Teasing-cyberpunk-default", manifest=manifest, images=filenames(manifest))
    stats = stats_of(folder)
    assert (stats.status, stats.images_actual, stats.completion_percentage) == ("completed_with_failures", 2, 66.67)


def test_completed_with_every_image_failed(make_session):
    manifest = ex.example_b()
    manifest["images"] = []
    stats = stats_of(make_session("20251112_181502-Teasing", manifest=manifest))
    assert (stats.status, stats.images_actual, stats.completion_percentage) == ("completed_with_failures", 0, 0.0)


def test_example_c_seed_sweep(make_session):
    manifest = ex.example_c()
    folder = make_session("20251114_093010-hair_test", manifest=manifest, images=filenames(manifest))
    stats = stats_of(folder)
    assert stats.is_seed_sweep is True
    assert stats.seed_list == [1000, 1001, 1002]
    assert stats.seed_mode == "progressive"  # the template's, even in a sweep
    assert (stats.seed_min, stats.seed_max) == (1000, 1002)
    assert stats.negative_prompt is None
    assert stats.status == "completed"


def test_example_d_stale_and_running(make_session):
    manifest = ex.example_d()
    name = "20251117_111757-donmain_test_nightclub"
    stats = stats_of(make_session(name, manifest=manifest, images=filenames(manifest)))
    assert (stats.status, stats.seed_base, stats.images_actual, stats.images_expected) == ("stale", None, 1, 25)
    stats = stats_of(make_session(name, manifest=manifest, images=filenames(manifest), mtime=None))
    assert stats.status == "running"


def test_running_means_recent_relative_to_now(make_session):
    manifest = ex.example_d()
    folder = make_session("20251117_111757-x", manifest=manifest, mtime=NOW - 300)
    assert stats_of(folder, now=NOW).status == "running"
    assert stats_of(folder, now=NOW + 3600).status == "stale"


def test_in_progress_reads_as_ongoing(make_session):
    manifest = ex.example_d()
    manifest["status"] = "in_progress"
    assert stats_of(make_session("20251117_111757-x", manifest=manifest)).status == "stale"


def test_example_e_api_down(make_session):
    stats = stats_of(make_session("20251112_181502-Teasing-cyberpunk-default", manifest=ex.example_e()))
    assert (stats.status, stats.sd_model, stats.images_expected, stats.images_actual) == ("aborted", "unknown", 3, 0)
    assert stats.completion_percentage == 0.0


def test_example_f_dry_run(tmp_path):
    from tests.conftest import write_session

    manifest = ex.example_f()
    payloads = {f"hair_test_{i:04d}_seed-{seed}.json": json.dumps(ex.dry_run_payload(seed))
                for i, seed in enumerate([1000, 1001, 1002, 1000, 1001, 1002])}
    folder = write_session(tmp_path / "root" / "dryrun", "20251114_100000-hair_test", manifest=manifest, files=payloads)
    stats = stats_of(folder)
    assert stats.is_dry_run is True
    assert (stats.images_actual, stats.image_files_raw, stats.dry_run_payloads) == (0, 0, 6)
    assert stats.status == "completed"
    assert stats.completion_percentage == 0.0


def test_files_one_ahead_of_entries(make_session):
    manifest = ex.example_a()
    folder = make_session("2025-10-16_140211_portrait_test.prompt", manifest=manifest,
                          images=[*filenames(manifest), "portrait_test.prompt_0002.png"])
    stats = stats_of(folder)
    assert (stats.images_actual, stats.image_files_raw) == (2, 3)


def test_recorded_files_that_do_not_exist_are_not_done(make_session):
    manifest = ex.example_b()
    folder = make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)[:1])
    stats = stats_of(folder)
    assert (stats.images_actual, stats.status) == (1, "completed_with_failures")


def test_multi_image_response_counts_the_001_file(make_session):
    manifest = ex.example_b()
    folder = make_session("20251112_181502-x", manifest=manifest,
                          images=["Teasing_0000_001.png", "Teasing_0000_002.png", "Teasing_0001.png",
                                  "Teasing_0002.png"])
    stats = stats_of(folder)
    assert stats.images_actual == 3
    assert stats.image_files[0] == "Teasing_0000_001.png"
    assert stats.image_files_raw == 4


@pytest.mark.parametrize("bad", ["../escape.png", "/etc/passwd", "C:\\images\\x.png", "sub/dir.png", "..", "", 42])
def test_filenames_outside_the_folder_are_ignored_and_reported(make_session, tmp_path, bad):
    (tmp_path / "root" / "escape.png").parent.mkdir(exist_ok=True)
    (tmp_path / "root" / "escape.png").write_bytes(png_bytes())
    manifest = ex.example_b()
    manifest["images"][0]["filename"] = bad
    folder = make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)[1:])
    stats = stats_of(folder)
    assert stats.images_actual == 2
    assert len(stats.warnings) == 1 and "ignored" in stats.warnings[0]


def test_completion_never_exceeds_100(make_session):
    manifest = ex.example_b()
    manifest["snapshot"]["generation_params"]["num_images"] = 2
    folder = make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest))
    stats = stats_of(folder)
    assert (stats.images_expected, stats.images_actual, stats.completion_percentage) == (2, 3, 100.0)
    assert stats.has_extra_images is True


def test_expected_unknown_is_never_zero_or_len_images(make_session):
    manifest = ex.example_b()
    del manifest["snapshot"]["generation_params"]["num_images"]
    manifest["status"] = "aborted"
    stats = stats_of(make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)))
    assert (stats.images_expected, stats.completion_percentage, stats.status) == (None, None, "aborted")


def test_unexpected_types_degrade_to_unknown(make_session):
    manifest = ex.example_b()
    snapshot = manifest["snapshot"]
    snapshot["generation_params"].update(num_images="3", base_seed="12", mode=["x"])
    snapshot["api_params"].update(steps="28", cfg_scale="6.5", width=True, sampler={"name": "Euler"})
    snapshot["runtime_info"] = None
    snapshot["variations"]["Pose"] = "not an object"
    snapshot["variations"]["Lora"] = {"available": [{"main": "red hair", "lora": "<lora:red:0.7>"}, 3, None]}
    stats = stats_of(make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)))
    assert (stats.images_expected, stats.seed_base, stats.generation_mode) == (3, 12, None)
    assert (stats.steps, stats.cfg_scale, stats.width, stats.sampler_name, stats.sd_model) == (28, 6.5, None, None,
                                                                                              None)
    assert stats.placeholders["Pose"] == {"values": [], "used": [], "count": 0}
    assert stats.placeholders["Lora"]["values"] == ["red hair <lora:red:0.7>", "3", ""]
    assert stats.status == "completed"


def test_null_snapshot_uses_the_first_image_prompt(make_session):
    manifest = ex.example_b()
    manifest["snapshot"] = None
    stats = stats_of(make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)))
    assert stats.resolved_prompt == "masterpiece, 1girl, neon jacket, standing, alley"
    assert stats.images_expected is None and stats.status == "completed" and stats.stats_error is None


def test_images_missing_from_manifest_falls_back_to_files(make_session):
    manifest = ex.example_b()
    del manifest["images"]
    stats = stats_of(make_session("20251112_181502-x", manifest=manifest, images=["a_0001.png", "a_0000.png"]))
    assert stats.image_files == ["a_0000.png", "a_0001.png"]


@pytest.mark.parametrize("content", [b"", b'{"snapshot": {"version": "2.0", "times', b"\x00\xff\xfe garbage"])
def test_broken_manifest_keeps_the_session(make_session, content):
    folder = make_session("20251114_093010-broken", manifest=content, images=["broken_0000.png"])
    stats = stats_of(folder)
    assert stats.stats_available is False
    assert stats.stats_error.startswith("manifest.json is")
    assert stats.status == "unknown"
    assert stats.images_actual == 1  # what the folder shows is still known
    assert stats.session_created_at == datetime(2025, 11, 14, 9, 30, 10)


def test_torn_manifest_is_reread_until_whole(make_session):
    import threading

    manifest = ex.example_b()
    folder = make_session("20251112_181502-x", manifest=json.dumps(manifest).encode()[:50],
                          images=filenames(manifest), mtime=None)  # written just now: being written
    fixer = threading.Timer(0.05, lambda: (folder / "manifest.json").write_text(json.dumps(manifest)))
    fixer.start()
    stats = read_session(folder, retry_delays=(0.2, 0.2, 0.2))
    fixer.join()
    assert stats.stats_error is None and stats.status == "completed"


def test_no_manifest_counts_images_minus_annotated(make_session):
    folder = make_session("20251114_093010-files_only", images=[
        "files_only_10000.png", "files_only_9999.png", "files_only_0002.jpg", "files_only_0002_annotated.png",
        "notes.txt.png.json"])
    stats = stats_of(folder)
    assert stats.manifest_format == "none"
    assert stats.image_files == ["files_only_0002.jpg", "files_only_9999.png", "files_only_10000.png"]
    assert (stats.images_actual, stats.image_files_raw, stats.images_expected) == (3, 4, None)
    assert stats.status == "unknown" and stats.stats_error is None


def test_names_with_bom_non_ascii_and_non_utf8_bytes(make_session):
    folder = make_session("2025-10-01_215220_faces", images=["faces_001_Expr_\ufeffsmile.png", "faces_002_é_ü.png"])
    (folder / os.fsdecode(b"faces_003_\xff\xfe.png")).write_bytes(png_bytes())
    stats = stats_of(folder)
    assert stats.images_actual == 3
    assert stats.image_files[0] == "faces_001_Expr_\ufeffsmile.png"


def test_created_at_falls_back_to_manifest_time_then_oldest_file(make_session):
    stats = stats_of(make_session("renamed by hand", manifest=ex.example_b()))
    assert stats.session_created_at == datetime(2025, 11, 12, 18, 15, 3, 771204)
    folder = make_session("no name no manifest", images=["x_0000.png", "x_0001.png"])
    os.utime(folder / "x_0000.png", (1_600_000_000, 1_600_000_000))
    assert stats_of(folder).session_created_at == datetime.fromtimestamp(1_600_000_000)


def test_duration_from_start_to_newest_file(make_session):
    manifest = ex.example_b()
    manifest["snapshot"]["timestamp"] = datetime.fromtimestamp(OLD - 90).isoformat()
    stats = stats_of(make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)))
    assert stats.duration_seconds == pytest.approx(90, abs=0.5)


def test_to_dict_is_json_ready(make_session):
    manifest = ex.example_c()
    stats = stats_of(make_session("20251114_093010-hair_test", manifest=manifest, images=filenames(manifest)))
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["session_created_at"] == "2025-11-14T09:30:10"
    assert data["is_seed_sweep"] is True


@pytest.mark.parametrize("name", ["manifest.json", "x_manifest.json", "metadata.json", "session_config.txt"])
def test_a_metadata_file_linking_outside_the_root_is_not_read(make_session, tmp_path, name):
    """Issue 14 #14: a manifest.json linking to /etc/passwd was parsed."""
    secret = tmp_path / "outside" / "secret.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps(ex.example_b()))
    folder = make_session("20251112_181502-x", images=filenames(ex.example_b()))
    (folder / name).symlink_to(secret)
    stats = stats_of(folder)
    assert stats.manifest_format == "none" and stats.manifest_file is None and stats.sd_model is None
    assert stats.warnings == [f"{name} is a symbolic link leading outside the root; not read"]
    assert stats.images_actual == 3  # the folder's own files still count


def test_an_image_linking_outside_the_root_is_not_listed(make_session, tmp_path):
    secret = tmp_path / "outside" / "shadow.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes())
    manifest = ex.example_b()
    folder = make_session("20251112_181502-x", manifest=manifest, images=filenames(manifest)[1:])
    (folder / filenames(manifest)[0]).symlink_to(secret)
    stats = stats_of(folder)
    assert stats.images_actual == 2 and stats.image_files_raw == 2
    assert filenames(manifest)[0] not in stats.image_files
    assert stats.warnings == [f"{filenames(manifest)[0]} is a symbolic link leading outside the root; not read"]


def test_links_that_stay_inside_the_root_are_followed(make_session, tmp_path):
    manifest = ex.example_b()
    other = make_session("20251112_181500-other", manifest=manifest, images=filenames(manifest))
    folder = make_session("20251112_181502-x", images=filenames(manifest)[1:])
    (folder / "manifest.json").symlink_to(other / "manifest.json")
    (folder / filenames(manifest)[0]).symlink_to(os.path.relpath(other / filenames(manifest)[0], folder))
    stats = stats_of(folder)
    assert stats.warnings == [] and stats.manifest_format == "v2" and stats.images_actual == 3
