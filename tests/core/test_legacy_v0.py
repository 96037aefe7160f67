"""The first era (metadata.json + French session_config.txt) and phase-2 ``<name>_manifest.json``."""

import json
from datetime import datetime

from sdsessions_tui.core.legacy_v0 import literal, parse_session_config
from sdsessions_tui.core.stats import read_session
from tests.core.legacy_v0_examples import CONFIG, METADATA, v0_images


def test_parse_session_config():
    config = parse_session_config(CONFIG)
    assert config["prompt"] == "masterpiece, {Expression},\n{Angle}: detailed"
    assert config["negative_prompt"] == "low quality"
    assert config["steps"] == "30" and config["sampler_name"] == "DPM++ 2M Karras"
    assert literal(config["nombre_par_type"]) == {"Expression": 5, "Angle": 3}
    assert config["Date de génération"] == "2025-10-01 21:52:20"


def test_literal_refuses_code():
    assert literal("__import__('os').system('true')") is None
    assert literal("{'a': 1") is None


def test_v0_complete_run(make_session):
    folder = make_session("2025-10-01_215220_faces", images=v0_images(15) + ["faces_016_x_annotated.png"], files={
        "session_config.txt": CONFIG, "session_config_legacy.txt": CONFIG, "metadata.json": json.dumps(METADATA)})
    stats = read_session(folder, retry_delays=())
    assert stats.manifest_format == "v0" and stats.manifest_file == "metadata.json"
    assert (stats.template_version, stats.generation_mode, stats.seed_mode, stats.seed_base) == (
        "1.0", "combinatorial", "progressive", 42)
    assert (stats.images_expected, stats.images_actual, stats.image_files_raw) == (15, 15, 16)
    assert stats.status == "completed"
    assert stats.duration_seconds == 187.5
    assert stats.placeholders["Expression"] == {"values": ["smiling", "sad"], "used": ["smiling", "sad"], "count": 12}
    assert (stats.steps, stats.cfg_scale, stats.sampler_name) == (30, 7.0, "DPM++ 2M Karras")
    assert stats.resolved_prompt == "masterpiece, {Expression}, {Angle}"
    assert stats.image_files[0].startswith("faces_001_") and stats.image_files[-1].startswith("faces_015_")


def test_v0_interrupted_has_only_the_config(make_session):
    folder = make_session("2025-10-01_215220_faces", images=v0_images(4), files={"session_config.txt": CONFIG})
    stats = read_session(folder, retry_delays=())
    assert stats.manifest_file == "session_config.txt"
    assert (stats.images_expected, stats.images_actual, stats.status) == (15, 4, "incomplete")
    assert stats.completion_percentage == 26.67
    assert stats.seed_base == 42 and stats.width == 512
    assert stats.manifest_generated_at == datetime(2025, 10, 1, 21, 52, 20)
    assert stats.placeholders == {"Expression": {"values": [], "used": [], "count": 5},
                                  "Angle": {"values": [], "used": [], "count": 3}}


def test_v0_bom_file_names_and_random_prefix(make_session):
    names = ["random_002_Expr_\ufeffsmile.png", "random_001_default.png", "random_010_x.png"]
    folder = make_session("2025-09-29_101010", images=names, files={"session_config.txt": CONFIG.replace(
        "Nom de session: faces", "Nom de session: random")})
    stats = read_session(folder, retry_delays=())
    assert stats.image_files == ["random_001_default.png", "random_002_Expr_\ufeffsmile.png", "random_010_x.png"]


def test_v0_config_in_windows_line_endings_with_bom(make_session):
    data = ("\ufeff" + CONFIG).replace("\n", "\r\n").encode("utf-8")
    stats = read_session(make_session("2025-10-01_215220_faces", files={"session_config.txt": data}),
                         retry_delays=())
    assert stats.images_expected == 15 and stats.negative_prompt == "low quality"


PHASE2 = {
    "session_name": "hassaku_actualportrait.prompt",
    "template_source": "/home/u/prompts/hassaku_actualportrait.prompt.yaml",
    "generated_at": "2025-10-12T18:04:33.120931", "total_variations": 4, "templating_system": "v2.0",
    "variations": [
        {"index": i, "prompt": f"portrait, {expr}", "negative_prompt": "bad", "seed": 42 + i,
         "variations": {"Expression": expr}, "parameters": {"width": 832, "height": 1216, "steps": 25}}
        for i, expr in enumerate(["smiling", "serious", "smiling", "sad"])],
}


def test_phase2_manifest(make_session):
    images = [f"hassaku_actualportrait.prompt_{i:04d}.png" for i in (0, 1, 3)]
    folder = make_session("2025-10-12_180433_hassaku_actualportrait.prompt", manifest=PHASE2,
                          manifest_name="hassaku_actualportrait.prompt_manifest.json", images=images)
    stats = read_session(folder, retry_delays=())
    assert stats.manifest_format == "phase2"
    assert (stats.template_version, stats.images_expected, stats.images_actual) == ("v2.0", 4, 3)
    assert stats.status == "incomplete"
    assert stats.placeholders["Expression"]["values"] == ["smiling", "serious", "sad"]
    assert (stats.resolved_prompt, stats.width, stats.steps, stats.seed_base) == ("portrait, {Expression}", 832, 25, 42)
    assert (stats.seed_min, stats.seed_max) == (42, 45)
    assert stats.sd_model is None  # not recorded in this era
    assert stats.manifest_generated_at == datetime(2025, 10, 12, 18, 4, 33, 120931)


def test_phase2_with_placeholders_key_and_no_total(make_session):
    manifest = dict(PHASE2, templating_system="phase2")
    del manifest["total_variations"]
    manifest["variations"] = [
        {"index": 0, "prompt": "p", "seed": 1, "placeholders": {"Hair": "red"}},
        {"index": 1, "prompt": "p", "seed": 2, "placeholders": {"Hair": "blue"}}]
    folder = make_session("2025-10-07_101500_my_portrait", manifest=manifest,
                          manifest_name="my_portrait_manifest.json",
                          images=["my_portrait_0000.png", "my_portrait_0001.png"])
    stats = read_session(folder, retry_delays=())
    assert (stats.template_version, stats.images_expected, stats.status) == ("phase2", 2, "completed")
    assert stats.placeholders["Hair"]["values"] == ["red", "blue"]
