"""The demo tree: deterministic, complete (one session of every kind), safe to point at a folder."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sdsessions_tui.core.demo import MARKER, DemoSummary, write_demo_tree
from sdsessions_tui.core.names import parse_folder_name

KINDS = {
    "v2_completed", "v2_no_status", "v2_incomplete", "v2_themed", "v2_object_values", "v2_sweep", "sweep_single",
    "seed_suffix_not_sweep", "running", "stale", "aborted", "api_down", "completed_with_failures", "all_failed",
    "multi_image", "dry_run", "phase2", "phase2_early", "v0", "v0_config_only", "v0_interrupted", "no_manifest",
    "broken_manifest", "unknown_name", "docs_name", "annotated", "jpeg_as_png", "five_digit_index", "large",
    "hires", "controlnet", "lost_snapshot", "name_old", "name_old_prompt", "name_new_legacy", "name_new_orchestrator",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_tree(tmp_path_factory.mktemp("demo") / "root", 60, seed=3)


def snapshot(root: Path, skip: Collection[str] = ()) -> dict[str, tuple[bytes, int]]:
    """Every file and folder under root: bytes and mtime (the sessions in ``skip`` left out)."""
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not any(rel == s or rel.startswith(s + "/") for s in skip):
            tree[rel] = (path.read_bytes() if path.is_file() else b"<dir>", path.stat().st_mtime_ns)
    return tree


def manifest(root: Path, rel: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / rel / "manifest.json").read_bytes())
    return data


NOW = datetime(2026, 3, 10, 9, 30)


def test_same_parameters_give_the_same_tree(tmp_path: Path) -> None:
    first = write_demo_tree(tmp_path / "a", 50, seed=7, now=NOW)
    second = write_demo_tree(tmp_path / "b", 50, seed=7, now=NOW)
    assert first.kinds == second.kinds and first.images == second.images
    assert snapshot(first.root) == snapshot(second.root)
    other = write_demo_tree(tmp_path / "c", 50, seed=8, now=NOW)
    assert snapshot(other.root) != snapshot(first.root)


def test_the_same_day_gives_the_same_tree_but_the_live_session(tmp_path: Path) -> None:
    first = write_demo_tree(tmp_path / "a", 50, seed=7, now=NOW)
    later = write_demo_tree(tmp_path / "b", 50, seed=7, now=NOW + timedelta(hours=5))
    assert first.kinds["running"] != later.kinds["running"]  # it started 40 s before each `now`
    assert snapshot(first.root, first.kinds["running"]) == snapshot(later.root, later.kinds["running"])


def dates(summary: DemoSummary, *labels: str) -> list[datetime]:
    folders = {rel for label in labels or summary.kinds for rel in summary.kinds[label]}
    return sorted(parse_folder_name(Path(rel).name).created_at for rel in folders  # type: ignore[misc]
                  if parse_folder_name(Path(rel).name).created_at is not None)


def test_dates_end_before_today_so_recent_filters_find_sessions(tmp_path: Path) -> None:
    """A demo made today must not be dated in 2025: date:7d, date:yesterday and the date picker find rows."""
    summary = write_demo_tree(tmp_path / "root", 120, seed=2, now=NOW)
    live = dates(summary, "running")
    others = [when for when in dates(summary) if when not in live]
    assert live == [NOW - timedelta(seconds=40)]
    assert NOW.date() - timedelta(days=3) <= max(others).date() < NOW.date()  # the history ends yesterday
    assert sum(when >= NOW - timedelta(days=7) for when in others) >= 10
    assert min(others) >= NOW - timedelta(days=60)  # the history is ~53 days long


def test_eras_keep_their_order_and_move_by_whole_days(tmp_path: Path) -> None:
    summary = write_demo_tree(tmp_path / "a", 120, seed=2, now=NOW)
    v0 = dates(summary, "v0", "v0_config_only", "v0_interrupted")
    phase2 = dates(summary, "phase2", "phase2_early")
    v2 = dates(summary, "v2_no_status", "v2_completed", "v2_incomplete")
    assert max(v0) < min(phase2) and max(phase2) < min(v2)
    assert max(dates(summary, "name_old", "name_old_prompt")) < min(dates(summary, "name_new_legacy"))
    month_later = write_demo_tree(tmp_path / "b", 120, seed=2, now=NOW + timedelta(days=31, hours=3))
    shifted = [when + timedelta(days=31) for when in dates(summary) if when not in dates(summary, "running")]
    assert shifted == [when for when in dates(month_later) if when not in dates(month_later, "running")]
    manifest_time = manifest(month_later.root, month_later.kinds["v2_completed"][-1])["snapshot"]["timestamp"]
    assert manifest_time.startswith(f"{NOW.year}-04-")  # manifests carry the moved dates too


def test_without_now_the_tree_is_dated_by_the_wall_clock(demo: DemoSummary) -> None:
    today = date.fromisoformat(json.loads((demo.root / MARKER).read_bytes())["date"])
    assert abs(today - date.today()) <= timedelta(days=1)  # the fixture may have run before midnight
    others = [when for when in dates(demo) if when not in dates(demo, "running")]
    assert today - timedelta(days=3) <= max(others).date() < today


def test_every_kind_is_present_even_for_a_tiny_tree(tmp_path: Path) -> None:
    summary = write_demo_tree(tmp_path / "root", sessions=1)
    assert KINDS <= set(summary.kinds)
    assert summary.sessions == len({rel for label, rels in summary.kinds.items() for rel in rels})
    for rels in summary.kinds.values():
        assert all((summary.root / rel).is_dir() for rel in rels)


def test_session_count_and_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    summary = write_demo_tree(tmp_path / "root", 70, progress=lambda done, total: calls.append((done, total)))
    assert summary.sessions == 70 == len(calls)
    assert calls[0] == (1, 70) and calls[-1] == (70, 70)
    folders = [p for p in summary.root.iterdir() if p.is_dir() and p.name != "dryrun"]
    assert len(folders) + len(list((summary.root / "dryrun").iterdir())) == 70
    assert summary.images == sum(1 for p in summary.root.rglob("*.png"))


def test_images_are_real_with_infotext(demo: DemoSummary) -> None:
    jpeg_session = demo.kinds["jpeg_as_png"][0]
    pngs = [p for p in demo.root.rglob("*.png") if not p.name.endswith("_annotated.png")]
    assert pngs
    for path in pngs:
        with Image.open(path) as image:
            if path.parent.name == jpeg_session and image.format == "JPEG":
                continue
            assert image.format == "PNG"
            parameters = image.text["parameters"]  # type: ignore[attr-defined]
            assert "\nSteps: " in parameters and "Seed: " in parameters and "Version: " in parameters


def test_jpeg_bytes_under_a_png_name(demo: DemoSummary) -> None:
    folder = demo.root / demo.kinds["jpeg_as_png"][0]
    first = sorted(folder.glob("*.png"))[0]
    assert first.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(first) as image:
        assert image.format == "JPEG"


def test_folder_names_cover_every_era(demo: DemoSummary) -> None:
    eras = {label: {parse_folder_name(Path(rel).name).era for rel in demo.kinds[label]}
            for label in ("name_old", "name_old_prompt", "name_new_legacy", "name_new_orchestrator",
                          "docs_name", "unknown_name")}
    assert eras == {"name_old": {"old"}, "name_old_prompt": {"old"}, "name_new_legacy": {"new"},
                    "name_new_orchestrator": {"new"}, "docs_name": {"docs"}, "unknown_name": {"unknown"}}
    assert all(rel.endswith(".prompt") for rel in demo.kinds["name_old_prompt"])


def test_sweeps_and_the_seed_suffix_trap(demo: DemoSummary) -> None:
    for rel in demo.kinds["v2_sweep"]:
        data = manifest(demo.root, rel)
        seeds = data["snapshot"]["generation_params"]["seed_list"]
        per_combo = [image["seed"] for image in data["images"]][: len(seeds)]
        assert per_combo == seeds  # variation-major: each combination runs every seed in order
        assert all(f"_seed-{image['seed']}.png" in image["filename"] for image in data["images"])
    for rel in demo.kinds["seed_suffix_not_sweep"]:
        data = manifest(demo.root, rel)
        assert "seed_list" not in data["snapshot"]["generation_params"]
        assert any("_seed-" in image["filename"] for image in data["images"])


def index_of(filename: str) -> int:
    return int(re.search(r"_(\d{4,})(?:_seed--?\d+)?\.png$", filename)[1])  # type: ignore[index]


def test_run_states(demo: DemoSummary) -> None:
    root, kinds = demo.root, demo.kinds
    running = manifest(root, kinds["running"][0])
    assert running["status"] == "ongoing"
    assert len(list((root / kinds["running"][0]).glob("*.png"))) == len(running["images"]) + 1
    assert time.time() - (root / kinds["running"][0] / "manifest.json").stat().st_mtime < 60
    assert manifest(root, kinds["stale"][0])["status"] == "ongoing"
    assert time.time() - (root / kinds["stale"][0] / "manifest.json").stat().st_mtime > 86_400
    down = manifest(root, kinds["api_down"][0])
    assert (down["status"], down["images"]) == ("aborted", [])
    assert down["snapshot"]["runtime_info"]["sd_model_checkpoint"] == "unknown"
    assert manifest(root, kinds["all_failed"][0])["images"] == []
    indices = [index_of(i["filename"]) for i in manifest(root, kinds["completed_with_failures"][0])["images"]]
    assert indices != list(range(len(indices)))  # gaps
    assert all("status" not in manifest(root, rel) for rel in kinds["v2_no_status"])
    assert manifest(root, kinds["lost_snapshot"][0])["snapshot"] == {}
    assert max(index_of(i["filename"]) for i in manifest(root, kinds["five_digit_index"][0])["images"]) > 9999


def test_multi_image_dry_run_phase2_and_broken(demo: DemoSummary) -> None:
    root = demo.root
    multi = root / demo.kinds["multi_image"][0]
    for image in manifest(root, demo.kinds["multi_image"][0])["images"]:
        stem = image["filename"].removesuffix(".png")
        assert not (multi / image["filename"]).exists() and (multi / f"{stem}_001.png").exists()
    dry = demo.kinds["dry_run"][0]
    assert dry.startswith("dryrun/") and not list((root / dry).glob("*.png"))
    payloads = sorted((root / dry).glob("*.json"))
    assert len(payloads) - 1 == len(manifest(root, dry)["images"])  # + manifest.json
    phase2 = demo.kinds["phase2_early"][0]
    name = parse_folder_name(phase2).name
    plan = json.loads((root / phase2 / f"{name}_manifest.json").read_bytes())
    assert plan["templating_system"] == "phase2" and "placeholders" in plan["variations"][0]
    assert (root / phase2 / f"{name}_0000.png").exists()
    for rel in demo.kinds["broken_manifest"]:
        with pytest.raises(ValueError):
            json.loads((root / rel / "manifest.json").read_bytes())
    assert not (root / demo.kinds["no_manifest"][0] / "manifest.json").exists()
    assert list((root / demo.kinds["annotated"][0]).glob("*_annotated.png"))


def test_v0_files(demo: DemoSummary) -> None:
    root = demo.root
    complete = root / demo.kinds["v0"][0]
    config = (complete / "session_config.txt").read_bytes().decode("utf-8")
    assert config.startswith("=" * 60 + "\r\nSESSION CONFIGURATION\r\n")
    assert "\r\nPARAMÈTRES DE GÉNÉRATION\r\n" in config and "fichiers_variations: {'" in config
    assert json.loads((complete / "metadata.json").read_bytes())["version"] == "1.0"
    assert (complete / "session_config_legacy.txt").exists()
    assert any("\ufeff" in p.name for p in complete.glob("*_001_*.png"))
    interrupted = root / demo.kinds["v0_interrupted"][0]
    assert sorted(p.name for p in interrupted.iterdir() if not p.name.endswith(".png")) == ["session_config.txt"]
    requested = int(config_value(interrupted / "session_config.txt", "nombre_images_demandees"))
    assert len(list(interrupted.glob("*.png"))) < requested


def config_value(path: Path, key: str) -> str:
    return next(line.split(": ", 1)[1] for line in path.read_text("utf-8").splitlines() if line.startswith(key))


def test_refuses_a_foreign_non_empty_root(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    (root / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="not a demo tree"):
        write_demo_tree(root, 5)
    assert [p.name for p in root.iterdir()] == ["holiday.jpg"]


def test_rerun_over_a_demo_root_overwrites_and_keeps(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_demo_tree(root, 40)
    (root / "user_note.txt").write_text("kept")
    summary = write_demo_tree(root, 40, seed=1)
    assert (root / "user_note.txt").read_text() == "kept"
    assert json.loads((root / MARKER).read_bytes())["seed"] == 1
    assert summary.sessions >= 40


def test_nothing_written_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "a" / "demo"
    write_demo_tree(root, 45, now=datetime(2025, 11, 21, 9, 0))
    outside = [p for p in tmp_path.rglob("*") if p != root.parent and not p.is_relative_to(root)]
    assert outside == []


def test_explicit_now_drives_the_running_session(tmp_path: Path) -> None:
    now = datetime(2025, 11, 25, 8, 0)
    summary = write_demo_tree(tmp_path / "root", 40, now=now)
    running = summary.root / summary.kinds["running"][0]
    assert running.name.startswith("20251125_075920-")
    assert abs((running / "manifest.json").stat().st_mtime - now.timestamp()) < 60


def test_older_eras_show_their_model_from_the_images(demo: DemoSummary) -> None:
    """Issue 19 #4 on the demo: the mid-October and V0 sessions record no model; their PNGs do."""
    from sdsessions_tui.core.session_stats import SOURCES_KEY
    from sdsessions_tui.core.stats import read_session

    for kind in ("phase2", "phase2_early", "v0", "v0_config_only", "v0_interrupted"):
        stats = read_session(demo.root / demo.kinds[kind][0], retry_delays=())
        assert stats.sd_model and stats.sd_model.endswith("]"), kind
        assert stats.api_params[SOURCES_KEY]["sd_model"] == "image text", kind
        assert "{" in (stats.resolved_prompt or ""), kind  # the template, not the first image's prompt
    phase2 = read_session(demo.root / demo.kinds["phase2"][0], retry_delays=())
    assert (phase2.generation_mode, phase2.total_combinations) == ("combinatorial", 6)
