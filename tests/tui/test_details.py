"""The details panel, driven through Textual's Pilot with stats built in code."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult

from sdsessions_tui.core.session_stats import SessionStats
from sdsessions_tui.core.store import SessionMetadata
from sdsessions_tui.tui import images
from sdsessions_tui.tui import thumbnail as thumbnail_module
from sdsessions_tui.tui.details import (
    DetailsPanel,
    adetailer_summary,
    controlnet_units,
    format_duration,
    hires_summary,
    top_sections,
)
from sdsessions_tui.tui.images import configure_images
from sdsessions_tui.tui.status_styles import completion_text
from sdsessions_tui.tui.thumbnail import Thumbnail
from tests.tui.helpers import lines_of, panel_text, until

SIZE = (120, 50)

# textual-image 0.12 calls Image.getdata(), deprecated in Pillow 13: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (220, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def make_stats(path: Path | str = "/sessions/20251114_093010-portrait", **changes: Any) -> SessionStats:
    stats = SessionStats(
        session_id="20251114_093010-portrait", session_path=str(path), display_name="portrait study",
        name_era="v2", manifest_format="v2", manifest_file="manifest.json",
        sd_model="animagineXL40_v4Opt.safetensors [6327eca98b]", template_version="2.0",
        generation_mode="combinatorial", seed_mode="progressive", seed_base=1000,
        resolved_prompt="masterpiece, 1girl\nsmiling, {Outfit}", negative_prompt="lowres, bad anatomy",
        width=832, height=1216, steps=28, cfg_scale=6.5, sampler_name="DPM++ 2M", scheduler="Karras",
        api_params={
            "enable_hr": True, "hr_scale": 1.5, "hr_upscaler": "R-ESRGAN 4x+", "denoising_strength": 0.4,
            "hr_second_pass_steps": 10,
            "adetailer": {"enabled": True, "detectors": [{"ad_model": "face_yolov8n.pt"},
                                                         {"ad_model": "hand_yolov8n.pt"}]},
            "controlnet": {"units": [{"model": "control_v11p_sd15_openpose [cab727d4]", "module": "openpose",
                                      "weight": 0.8, "image": "/poses/pose_01.png"},
                                     {"model": "control_depth", "module": "depth_midas", "weight": 1.0}]},
        },
        theme_name="cyberpunk", style="noir", images_expected=10, images_actual=12, image_files_raw=13,
        completion_percentage=100.0, has_extra_images=True, status="completed", manifest_status="completed",
        seed_min=1000, seed_max=1011, total_combinations=12,
        placeholders={
            "Outfit": {"values": [f"outfit{i:02d}" for i in range(15)], "used": [], "count": 15},
            "Angle": {"values": ["front view", "side view"], "used": ["front view"], "count": 2},
            "Mood": {"values": [], "used": [], "count": 4},
        },
        image_files=["portrait_001.png", "portrait_002.png"],
        session_created_at=datetime(2025, 11, 14, 9, 30, 10),
        first_image_created_at=datetime(2025, 11, 14, 9, 30, 40),
        last_image_created_at=datetime(2025, 11, 14, 9, 42, 44),
        duration_seconds=724.0,
    )
    for name, value in changes.items():
        setattr(stats, name, value)
    return stats


METADATA = SessionMetadata(1, "20251114_093010-portrait", is_favorite=True, is_complete=True, user_rating="like",
                           user_note="keep the second one", tags=("best", "portrait"))


class DetailsApp(App[None]):
    def __init__(self, cache: Path) -> None:
        super().__init__()
        self.cache = cache
        self.closed = 0

    def compose(self) -> ComposeResult:
        yield DetailsPanel(thumbnail_cache=self.cache, id="details")

    def action_close_details(self) -> None:
        self.closed += 1


@pytest.fixture
def halfcell():
    assert configure_images("halfcell") == "halfcell"
    yield
    configure_images("none")


@pytest.fixture
def no_images():
    configure_images("none")
    yield


def line_with(text: str, needle: str) -> str:
    """The first line starting with ``needle`` followed by a space (a row label), else containing it."""
    lines = text.splitlines()
    found = [line for line in lines if line.startswith(needle + " ")] or [line for line in lines if needle in line]
    assert found, f"{needle!r} not in:\n{text}"
    return found[0]


async def shown(pilot: Any, panel: DetailsPanel, stats: SessionStats | None,
                metadata: SessionMetadata | None = None, **kwargs: Any) -> str:
    panel.show(stats, metadata, **kwargs)
    await pilot.pause()
    return panel_text(panel)


async def test_every_section_shows_its_values(tmp_path: Path, no_images: None) -> None:
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, make_stats(), METADATA)
        lines = text.splitlines()
        # header
        assert lines[0].startswith("portrait study")
        assert "20251114_093010-portrait" in lines[1]
        assert "/sessions/20251114_093010-portrait" in text
        assert "completed · 12m 04s" in text
        assert "started 2025-11-14 09:30:10" in text
        # generation
        assert "animagineXL40_v4Opt.safetensors [6327eca98b]" in line_with(text, "Model")
        assert "combinatorial" in line_with(text, "Mode")
        assert "progressive" in line_with(text, "Seed mode")
        assert "1000" in line_with(text, "Base seed")
        assert "1000–1011" in line_with(text, "Seed range")
        assert "12" in line_with(text, "Combinations")
        assert "2.0" in line_with(text, "Template")
        assert "cyberpunk" in line_with(text, "Theme")
        assert "noir" in line_with(text, "Style")
        assert "v2 (manifest.json)" in line_with(text, "Manifest")
        # images
        assert line_with(text, "Expected").split() == ["Expected", "10"]
        assert "12  more than expected" in line_with(text, "Done")
        assert line_with(text, "Files").split() == ["Files", "13"]
        assert "100%" in line_with(text, "Completion")
        assert "2025-11-14 09:30:40" in line_with(text, "First image")
        assert "2025-11-14 09:42:44" in line_with(text, "Last image")
        # API parameters
        assert "832×1216" in line_with(text, "Size")
        assert "28" in line_with(text, "Steps")
        assert "6.5" in line_with(text, "CFG")
        assert "DPM++ 2M" in line_with(text, "Sampler")
        assert "Karras" in line_with(text, "Scheduler")
        assert "×1.5 R-ESRGAN 4x+, denoise 0.4, 10 steps" in line_with(text, "Hires")
        assert "face_yolov8n.pt, hand_yolov8n.pt" in line_with(text, "ADetailer")
        controlnet = text.split("ControlNet", 1)[1]
        assert "control_v11p_sd15_openpose [cab727d4] / openpose · weight 0.8" in controlnet
        assert "control_depth / depth_midas · weight 1" in controlnet
        # placeholders
        assert "Angle (2)" in text and "front view, side view" in text
        assert "values not recorded" in line_with(text, "Mood (4)")
        # metadata
        assert "best, portrait" in line_with(text, "Tags")
        assert "liked, complete" in line_with(text, "Flags")
        assert "like" in line_with(text, "Rating")
        assert "keep the second one" in line_with(text, "Note")
        # prompts keep their newlines
        prompt = text.split("Negative prompt")[0].split("Prompt")[-1].splitlines()
        assert "masterpiece, 1girl" in prompt and "smiling, {Outfit}" in prompt
        assert "lowres, bad anatomy" in text.split("Negative prompt")[1]
        order = [text.index(title) for title in ("Generation", "Images", "API parameters", "Placeholders",
                                                  "Metadata", "Prompt", "Negative prompt")]
        assert order == sorted(order)


async def test_derived_fields_say_where_they_came_from(tmp_path: Path, no_images: None) -> None:
    """Issue 19 #4: fields older eras do not record are filled from the images' generation text or the plan."""
    sources = {"sd_model": "image text", "sampler_name": "image text", "cfg_scale": "image text",
               "generation_mode": "plan", "total_combinations": "plan", "resolved_prompt": "plan"}
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, make_stats(api_params={"_sources": sources}), METADATA)
        assert "[6327eca98b]  from the images' generation text" in line_with(text, "Model")
        assert "DPM++ 2M  from the images' generation text" in line_with(text, "Sampler")
        assert "6.5  from the images' generation text" in line_with(text, "CFG")
        assert "combinatorial  inferred from the plan" in line_with(text, "Mode")
        assert "12  inferred from the plan" in line_with(text, "Combinations")
        assert "from" not in line_with(text, "Steps") and "from" not in line_with(text, "Seed mode")
        assert "Prompt  the template, rebuilt from the planned prompts" in text
        text = await shown(pilot, panel, make_stats(api_params={"_sources": {"resolved_prompt": "first image"}}))
        assert "Prompt  the first image's prompt (the template is not recorded)" in text
        text = await shown(pilot, panel, make_stats(api_params={"_sources": ["odd"], "enable_hr": False}))
        assert "from the" not in text


async def test_combinations_never_generated_are_shown(tmp_path: Path, no_images: None) -> None:
    """Issue 19 #7: a run capped before every combination read "completed 100 %" and nothing else."""
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        capped = make_stats(total_combinations=120, images_expected=100, images_actual=100)
        text = await shown(pilot, panel, capped)
        assert line_with(text, "Never made").split(None, 2)[2] == "20 of 120 combinations: the plan stopped at 100"
        sweep = make_stats(total_combinations=40, images_expected=100, seed_list=[1, 2, 3], is_seed_sweep=True)
        assert "20 of 120 combinations × seeds" in line_with(await shown(pilot, panel, sweep), "Never made")
        for whole in (make_stats(total_combinations=100, images_expected=100),
                      make_stats(total_combinations=120, images_expected=100, generation_mode="random"),
                      make_stats(total_combinations="odd", images_expected=100)):
            assert "Never made" not in await shown(pilot, panel, whole)


async def test_seed_sweep_lists_the_seeds(tmp_path: Path, no_images: None) -> None:
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, make_stats(is_seed_sweep=True, seed_list=[1000, 1001, 1002]))
        assert "sweep · 1000, 1001, 1002" in line_with(text, "Seeds")
        assert "Seed range" not in text
        many = await shown(pilot, panel, make_stats(session_id="other", is_seed_sweep=True,
                                                    seed_list=list(range(5000, 5030))))
        assert "5019" in many and "5020" not in many and "10 more…" in many


async def test_placeholders_collapsed_then_expanded_with_enter(tmp_path: Path, no_images: None) -> None:
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, make_stats())
        outfit = " ".join(text.split("Outfit (15)")[1].split("Angle (2)")[0].split())
        assert outfit.startswith("outfit00, outfit01") and "outfit09" in outfit
        assert "outfit10" not in text and outfit.endswith("outfit09 5 more…")
        assert "⏎ show all" in text

        panel.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert panel.expanded
        text = panel_text(panel)
        assert all(f"outfit{i:02d}" in text for i in range(15))
        assert "more…" not in text and "⏎ collapse" in text

        await pilot.press("enter")
        await pilot.pause()
        assert not panel.expanded
        text = panel_text(panel)
        assert "outfit10" not in text and " ".join(text.split()).count("5 more…") == 1

        await pilot.press("enter")
        panel.show(make_stats(), None)  # the same session again (a refresh) stays expanded
        assert panel.expanded
        panel.show(make_stats(session_id="another", session_path="/sessions/another"), None)
        await pilot.pause()
        assert not panel.expanded and "5 more…" in " ".join(panel_text(panel).split())


async def test_escape_runs_close_details(tmp_path: Path, no_images: None) -> None:
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(), None)
        panel.focus()
        await pilot.press("escape")
        assert app.closed == 1


async def test_stats_unavailable_block_comes_first_with_what_is_known(tmp_path: Path, no_images: None) -> None:
    stats = SessionStats(session_id="20251114_093010-broken", session_path="/sessions/20251114_093010-broken",
                         display_name="broken", name_era="v2", image_files=["a.png", "b.png"], images_actual=2,
                         image_files_raw=2, stats_error="manifest.json: invalid JSON at line 3",
                         warnings=["image entry ignored (absolute path): '/etc/passwd'"],
                         session_created_at=datetime(2025, 11, 14, 9, 30, 10))
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, stats, None)
        lines = text.splitlines()
        error_line = next(i for i, line in enumerate(lines) if "Stats unavailable: manifest.json: invalid JSON" in line)
        assert error_line < next(i for i, line in enumerate(lines) if line.startswith("broken"))
        assert "unknown" in text and line_with(text, "Done").split() == ["Done", "2"]
        assert "—" in line_with(text, "Completion")
        assert "image entry ignored (absolute path): '/etc/passwd'" in text.split("Warnings")[1]
        assert "no metadata" in text


async def test_markup_and_control_characters_are_shown_literally(tmp_path: Path, no_images: None) -> None:
    stats = make_stats(display_name="[bold]name[/]", resolved_prompt="[/] [red]x[/red] \x1b[31mred\x07 end",
                       negative_prompt="[/bold]", sd_model="[link=http://x]m[/link]",
                       placeholders={"[b]P": {"values": ["[/]", "v\x1b"], "used": [], "count": 2}},
                       warnings=["[/] warn"])
    metadata = SessionMetadata(1, stats.session_id, tags=("[/]", "a\x1bb"), user_note="[i]note[/i]\nline two\x1b[2J",
                               user_rating="[/]")
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, stats, metadata)
        assert text.splitlines()[0].startswith("[bold]name[/]")
        assert "[/] [red]x[/red] \\x1b[31mred\\x07 end" in text
        assert "[/bold]" in text and "[link=http://x]m[/link]" in text
        assert "[b]P (2)" in text and "[/], v\\x1b" in text
        assert "[/], a\\x1bb" in line_with(text, "Tags")
        assert "[i]note[/i]" in line_with(text, "Note") and "line two\\x1b[2J" in text
        assert "[/] warn" in text
        assert "\x1b" not in text and "\x07" not in text


async def test_no_session_shows_a_placeholder(tmp_path: Path, halfcell: None) -> None:
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        await pilot.pause()
        assert panel_text(panel).strip() == "No session selected"
        assert not panel.thumbnail.display or not panel.thumbnail.region.height
        await shown(pilot, panel, make_stats(), None)
        text = await shown(pilot, panel, None, None)
        assert text.strip() == "No session selected"
        assert panel.stats is None and panel.thumbnail.state == "empty"
        panel.focus()
        await pilot.press("enter")  # expand with nothing shown: no error
        assert not panel.expanded


async def test_dry_run_and_unavailable_marks(tmp_path: Path, no_images: None) -> None:
    stats = make_stats(is_dry_run=True, dry_run_payloads=6, images_actual=0, status="completed")
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        text = await shown(pilot, panel, stats, None, unavailable=True)
        first = text.splitlines()[0]
        assert "DRY RUN" in first and "UNAVAILABLE" in first
        assert line_with(text, "Payloads").split() == ["Payloads", "6"]
        text = await shown(pilot, panel, make_stats(), None)
        assert "DRY RUN" not in text and "UNAVAILABLE" not in text and "Payloads" not in text


async def test_sparse_stats_omit_unknown_rows(tmp_path: Path, no_images: None) -> None:
    stats = SessionStats(session_id="20251114_093010-x", session_path="/s/20251114_093010-x", display_name="x",
                         name_era="v2")
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        text = await shown(pilot, app.query_one(DetailsPanel), stats, SessionMetadata(1, stats.session_id))
        assert "API parameters" not in text and "Placeholders" not in text and "Prompt" not in text
        assert "Model" not in text and "Generation" not in text
        assert "—" in line_with(text, "Expected") and "—" in line_with(text, "Tags")
        assert line_with(text, "unknown")


def test_completion_colours() -> None:
    assert completion_text(None) == Text("—", style="dim")
    assert completion_text(100.0).style == "bold green" and str(completion_text(100.0)) == "100%"
    assert completion_text(95.0).style == "bold green"
    assert completion_text(94.9).style == "bold yellow" and str(completion_text(94.9)) == "94%"
    assert completion_text(70.0).style == "bold yellow"
    assert completion_text(69.99).style == "bold red"
    assert str(completion_text(99.99)) == "99%"  # never "100%" for an unfinished run
    assert completion_text(0.0).style == "bold red"


def test_durations() -> None:
    assert format_duration(724) == "12m 04s"
    assert format_duration(42.4) == "42s"
    assert format_duration(3725) == "1h 02m 05s"
    assert format_duration(None) == format_duration(-1) == format_duration(float("nan")) == ""


def test_api_summaries_survive_odd_data() -> None:
    assert hires_summary({}) is None and hires_summary({"enable_hr": False, "hr_scale": 2}) is None
    assert hires_summary({"enable_hr": True}) == "on"
    assert hires_summary({"enable_hr": True, "hr_scale": 2.0, "hr_second_pass_steps": 0}) == "×2"
    assert hires_summary({"enable_hr": 1, "hr_scale": "1.5", "hr_upscaler": "Latent\x1b",
                          "denoising_strength": 0.55, "hr_second_pass_steps": "x"}) == "×1.5 Latent\\x1b, denoise 0.55"
    assert adetailer_summary({"adetailer": {"enabled": False, "detectors": [{"ad_model": "m"}]}}) is None
    assert adetailer_summary({"adetailer": {"enabled": True}}) == "on"
    assert adetailer_summary({"adetailer": {"enabled": True, "detectors": [None, {"ad_model": None}, {}]}}) == "on"
    assert adetailer_summary({"adetailer": "yes"}) is None
    assert controlnet_units({"controlnet": {"units": "bad"}}) == []
    assert controlnet_units({"controlnet": {"units": [5, {}, {"model": "m", "enabled": False},
                                                      {"module": "canny", "weight": 0.5}]}}) == [
        "unit", "canny · weight 0.5"]


async def test_odd_stored_values_do_not_crash(tmp_path: Path, no_images: None) -> None:
    stats = make_stats(api_params={"enable_hr": True, "hr_scale": None, "adetailer": [], "controlnet": None},
                       placeholders={"A": "not a dict", "B": {"values": "nope", "count": "7"},
                                     "C": {"values": [None, 1, 2.5, {"x": 1}], "count": True}},
                       cfg_scale=float("nan"), seed_list=[], is_seed_sweep=True)
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        text = await shown(pilot, app.query_one(DetailsPanel), stats, None)
        assert "A (0)" in text and "B (0)" in text and "None, 1, 2.5, {'x': 1}" in text


async def test_show_is_cheap(tmp_path: Path, no_images: None) -> None:
    many = {f"P{i}": {"values": [f"value {j}" for j in range(300)], "used": [], "count": 300} for i in range(20)}
    sessions = [make_stats(session_id=f"s{i}", session_path=f"/s/s{i}", placeholders=many if i % 2 else {})
                for i in range(20)]
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        timings = []
        for stats in sessions:
            start = time.perf_counter()
            panel.show(stats, METADATA)
            timings.append(time.perf_counter() - start)
            await pilot.pause()
        assert statistics.median(timings) < 0.030


# --------------------------------------------------------------------------- thumbnails


def session_folder(tmp_path: Path, name: str, content: bytes | None = None) -> Path:
    folder = tmp_path / "root" / name
    folder.mkdir(parents=True)
    (folder / "portrait_001.png").write_bytes(png_bytes() if content is None else content)
    return folder


async def test_thumbnail_appears_after_the_delay(tmp_path: Path, halfcell: None) -> None:
    folder = session_folder(tmp_path, "20251114_093010-portrait")
    cache = tmp_path / "cache"
    app = DetailsApp(cache)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(folder, image_files=["portrait_001.png"]), None)
        assert panel.thumbnail.state == "loading"
        await until(pilot, lambda: panel.thumbnail.state != "loading")
        await app.workers.wait_for_complete()
        thumbnail = panel.thumbnail
        assert thumbnail.state == "shown"
        assert thumbnail.cached_path is not None and thumbnail.cached_path.parent == cache
        assert thumbnail.cached_path.is_file()
        image = thumbnail.image_widget
        assert image is not None and image.image is not None and image.image.size == (64, 48)
        await pilot.pause()
        assert image.display and image.region.height > 0
        rendered = "".join(lines_of(image))
        assert "▀" in rendered  # half-cell blocks
        assert sorted(p.name for p in folder.iterdir()) == ["portrait_001.png"]  # nothing written there

        panel.show(make_stats(folder, image_files=[]), None)  # no image: "no image" at once
        assert thumbnail.state == "empty" and thumbnail.cached_path is None
        await pilot.pause()
        assert "no image" in "".join(lines_of(thumbnail.query_one("#thumbnail-message")))


async def test_holding_down_decodes_only_the_last_image(tmp_path: Path, halfcell: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folders = [session_folder(tmp_path, f"20251114_0930{i:02d}-s{i}") for i in range(20)]
    calls: list[Path] = []
    real = thumbnail_module.get_thumbnail

    def counting(image: Path, cache_dir: Path, size: int = 256, **kwargs: Any) -> Path | None:
        calls.append(image)
        return real(image, cache_dir, size, **kwargs)

    monkeypatch.setattr(thumbnail_module, "get_thumbnail", counting)
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        # well above the 20 pauses below even on a loaded machine (0.5 s was not: the first of
        # them was decoded once), still a debounce
        panel.thumbnail.delay = 3.0
        for index, folder in enumerate(folders):
            panel.show(make_stats(folder, session_id=f"s{index}", image_files=["portrait_001.png"]), None)
            await pilot.pause(0.01)  # faster than the delay, like a held key
        await until(pilot, lambda: panel.thumbnail.state != "loading", timeout=15.0)
        await app.workers.wait_for_complete()
        assert calls == [folders[-1] / "portrait_001.png"]
        assert panel.thumbnail.state == "shown" and panel.thumbnail.source == folders[-1] / "portrait_001.png"

        panel.show(make_stats(folders[-1], session_id="s19", image_files=["portrait_001.png"]), None)
        await pilot.pause(3.2)
        assert len(calls) == 1 and panel.thumbnail.state == "shown"  # a refresh of the same session: kept


async def test_unreadable_image_shows_no_image(tmp_path: Path, halfcell: None) -> None:
    folder = session_folder(tmp_path, "20251114_093010-bad", content=png_bytes()[:60])
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(folder, image_files=["portrait_001.png"]), None)
        await until(pilot, lambda: panel.thumbnail.state != "loading")
        assert panel.thumbnail.state == "missing"
        await pilot.pause()
        assert "no image" in "".join(lines_of(panel.thumbnail.query_one("#thumbnail-message")))
        assert not panel.thumbnail.image_widget.display


async def test_an_image_linking_outside_the_root_is_not_shown(tmp_path: Path, halfcell: None) -> None:
    """Issue 14 #14: the image became a link to a file outside the root after the refresh listed it."""
    folder = session_folder(tmp_path, "20251114_093010-link")
    outside = tmp_path / "secret.png"
    outside.write_bytes(png_bytes())
    (folder / "portrait_001.png").unlink()
    (folder / "portrait_001.png").symlink_to(outside)
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(folder, image_files=["portrait_001.png"]), None)
        await until(pilot, lambda: panel.thumbnail.state != "loading")
        await app.workers.wait_for_complete()
        assert panel.thumbnail.state == "missing" and not (tmp_path / "cache").exists()


async def test_unavailable_session_does_not_look_for_its_image(tmp_path: Path, halfcell: None) -> None:
    folder = session_folder(tmp_path, "20251114_093010-gone")
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE):
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(folder, image_files=["portrait_001.png"]), None, unavailable=True)
        assert panel.thumbnail.state == "empty"


async def test_no_image_protocol_hides_the_thumbnail(tmp_path: Path, no_images: None) -> None:
    folder = session_folder(tmp_path, "20251114_093010-portrait")
    app = DetailsApp(tmp_path / "cache")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DetailsPanel)
        panel.show(make_stats(folder, image_files=["portrait_001.png"]), None)
        await pilot.pause(thumbnail_module.THUMBNAIL_DELAY * 2)
        assert panel.thumbnail.state == "off" and panel.thumbnail.image_widget is None
        assert panel.thumbnail.region.height == 0
        assert not (tmp_path / "cache").exists()
        assert not app.workers._workers


def test_configure_images_contract() -> None:
    with pytest.raises(ValueError):
        configure_images("kitty")
    try:
        assert configure_images("unicode") == "unicode" and images.image_protocol() == "unicode"
        assert Thumbnail()._image_class.__name__ == "UnicodeImage"
        assert configure_images("none") == "none" and Thumbnail().state == "off"
    finally:
        configure_images("none")


def _run(code: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, **kwargs)


def test_importing_details_does_not_import_textual_image() -> None:
    result = _run("import sys, sdsessions_tui.tui.details, sdsessions_tui.tui.images; "
                  "sys.exit(1 if any(m.startswith('textual_image') for m in sys.modules) else 0)")
    assert result.returncode == 0, result.stderr


def test_a_protocol_without_a_query_imports_textual_image_at_the_first_thumbnail() -> None:
    result = _run("import sys, sdsessions_tui.tui.images as i, sdsessions_tui.tui.thumbnail as t; "
                  "i.configure_images('halfcell'); before = 'textual_image.widget' in sys.modules; t.Thumbnail(); "
                  "sys.exit(0 if not before and 'textual_image.widget' in sys.modules else 1)")
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("protocol, expected", [("auto", "halfcell"), ("halfcell", "halfcell"),
                                                ("unicode", "unicode"), ("sixel", "sixel"), ("tgp", "tgp")])
def test_configure_images_with_a_terminal_stdout_and_no_terminal_stdin(protocol: str, expected: str) -> None:
    """The case where a plain ``import textual_image.widget`` dies with termios.error."""
    import pty

    primary, secondary = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from sdsessions_tui.tui.images import configure_images, "
             f"image_widget_class; print(configure_images({protocol!r}), image_widget_class().__name__, "
             "file=sys.stderr)"],  # (the widget class: textual-image imported)
            stdin=subprocess.DEVNULL, stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(secondary)
        os.close(primary)
    assert result.returncode == 0, result.stderr
    assert result.stderr.split()[0] == expected and result.stderr.split()[1].endswith("Image")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_auto_on_a_silent_terminal_with_zero_columns_falls_back() -> None:
    """Both streams a terminal that never answers and reports 0×0 cells: no crash, half cells."""
    import pty

    primary, secondary = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from sdsessions_tui.tui.images import configure_images; "
             "print(configure_images('auto'), file=sys.stderr)"],
            stdin=secondary, stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(secondary)
        os.close(primary)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "halfcell"  # and no "assuming VT340 sizes" warning on the terminal


@pytest.mark.parametrize(("module", "name"), images.PRIVATE_NAMES)
def test_textual_image_still_has_the_private_names_we_rely_on(module: str, name: str) -> None:
    """An upgrade of textual-image that drops one fails here, by name (pyproject pins the version below 0.13)."""
    import importlib

    protocol = images.image_protocol()
    configure_images("halfcell")  # textual-image imported the safe way (no terminal query)
    try:
        images.image_widget_class()
    finally:
        configure_images(protocol)
    path = module.split(".")
    for split in range(len(path), 0, -1):  # the longest importable prefix, then attributes
        try:
            owner: Any = importlib.import_module(".".join(path[:split]))
            break
        except ImportError:
            continue
    for attribute in path[split:]:
        owner = getattr(owner, attribute)
    assert hasattr(owner, name), f"textual-image no longer has {module}.{name}: update tui/images.py"


@pytest.mark.parametrize("status", ["completed", "running", "aborted", "completed_with_failures", "stale",
                                    "incomplete", "unknown"])
def test_a_status_has_the_colour_of_its_mark_in_the_list(status: str) -> None:
    """One colour per status on one screen (a stale session was yellow here and magenta in the list)."""
    from sdsessions_tui.tui.session_table import BADGES

    status_line = top_sections(make_stats(status=status))[-1]
    assert isinstance(status_line, Text)
    assert Style.parse(str(status_line.style)) == Style.parse(BADGES[status].style)
