"""The details panel: everything known about one session, and its first image.

:class:`DetailsPanel` shows a :class:`~sdsessions_tui.core.session_stats.SessionStats`
and its :class:`~sdsessions_tui.core.store.SessionMetadata` as titled sections
in two :class:`~textual.widgets.Static` widgets (one Rich ``Group`` each), so a
new session costs two ``update`` calls, never a remount.  Every piece of text
from disk or from the user goes through :func:`clean_text` into a Rich
``Text``: no markup is ever built from data.  The image is a :class:`.Thumbnail`;
the status and completion colours are the list's (:mod:`.status_styles`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..core.flags import FLAGS
from ..core.session_stats import FROM_FIRST_IMAGE, FROM_IMAGE_TEXT, FROM_PLAN, SOURCES_KEY, SessionStats
from ..core.status import combinations_never_generated
from ..core.store import SessionMetadata
from ..core.text import clean_text
from .commands import bindings
from .status_styles import STATUS_STYLES, completion_text
from .thumbnail import THUMBNAIL_DELAY, Thumbnail

#: Placeholder values (and sweep seeds) shown before "N more…" while collapsed.
COLLAPSED_VALUES: Final = 10
COLLAPSED_SEEDS: Final = 20

class DetailsPanel(VerticalScroll, can_focus=True):
    """One session's stats and metadata, read-only; Enter expands every placeholder list.

    ``thumbnail_cache`` is the thumbnail cache folder (None: :func:`default_cache_dir`);
    ``thumbnail_delay`` the pause before the highlighted session's image is decoded (lower it
    when the caller already debounces :meth:`show`).
    """

    BINDINGS = [*bindings("details"), *bindings("edit")]

    DEFAULT_CSS = """
    DetailsPanel {
        padding: 0 1;
    }
    DetailsPanel > #details-top, DetailsPanel > #details-body, DetailsPanel > #details-metadata,
    DetailsPanel > #details-texts {
        height: auto;
    }
    DetailsPanel > #details-thumbnail {
        margin: 1 0 0 0;
    }
    DetailsPanel.-empty > #details-thumbnail {
        display: none;
    }
    """

    def __init__(self, thumbnail_cache: Path | None = None, *, thumbnail_delay: float = THUMBNAIL_DELAY,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.thumbnail_cache = thumbnail_cache
        self.stats: SessionStats | None = None
        self.metadata: SessionMetadata | None = None
        self.unavailable = False
        self.expanded = False
        """Placeholder values and sweep seeds shown in full (Enter toggles; reset for another session)."""
        self._top = Static(id="details-top")
        self._body = Static(id="details-body")
        self._metadata = Static(id="details-metadata")
        self._texts = Static(id="details-texts")
        self._thumbnail = Thumbnail(thumbnail_cache, delay=thumbnail_delay, id="details-thumbnail")

    @property
    def thumbnail(self) -> Thumbnail:
        return self._thumbnail

    def compose(self) -> ComposeResult:
        yield self._top
        yield self._thumbnail
        yield self._body
        yield self._metadata
        yield self._texts

    def on_mount(self) -> None:
        self._refresh_content()

    def show(self, stats: SessionStats | None, metadata: SessionMetadata | None, *,
             unavailable: bool = False) -> None:
        """Show this session (None: "No session selected").

        ``unavailable``: the folder is gone (``SessionRow.is_unavailable``); it is marked and
        no image is looked up.
        """
        other = stats is None or self.stats is None or (stats.session_path, stats.session_id) != (
            self.stats.session_path, self.stats.session_id)
        if other:
            self.expanded = False
        self.stats, self.metadata, self.unavailable = stats, metadata, unavailable
        if self.is_mounted:
            self._refresh_content()
            if other:
                self.scroll_home(animate=False)

    def action_expand(self) -> None:
        """Show every placeholder value (and sweep seed); again to collapse."""
        if self.stats is None:
            return
        self.expanded = not self.expanded
        self._body.update(Group(*body_sections(self.stats, expanded=self.expanded)))

    def show_metadata(self, metadata: SessionMetadata | None) -> None:
        """The same session with other metadata (an edit): only that section is drawn again.

        Without a layout pass of the screen when the section keeps its height, so an
        edit key costs the panel a few lines, not a re-arrangement of every widget.
        """
        self.metadata = metadata
        if self.stats is not None and self.is_mounted:
            self._show_metadata_section()

    def _show_metadata_section(self) -> None:
        section = Group(*metadata_section(self.metadata))
        width = self._metadata.content_region.width or self.content_region.width
        lines = len(self.app.console.render_lines(section, self.app.console.options.update_width(max(width, 1)),
                                                  pad=False)) if width else -1
        self._metadata.update(section, layout=lines != self._metadata.size.height)

    def _refresh_content(self) -> None:
        stats = self.stats
        self.set_class(stats is None, "-empty")
        if stats is None:
            self._top.update(Text("No session selected", style="dim italic"))
            for static in (self._body, self._metadata, self._texts):
                static.update("")
            self._thumbnail.request(None)
            return
        self._top.update(Group(*top_sections(stats, unavailable=self.unavailable)))
        self._body.update(Group(*body_sections(stats, expanded=self.expanded)))
        self._show_metadata_section()
        self._texts.update(Group(*text_sections(stats)))
        image = None
        folder = Path(stats.session_path)
        if stats.image_files and not self.unavailable:
            image = folder / stats.image_files[0]
        self._thumbnail.request(image, folder.parent.parent if stats.is_dry_run else folder.parent)


# --------------------------------------------------------------------------- renderables




def top_sections(stats: SessionStats, *, unavailable: bool = False) -> list[RenderableType]:
    """The "stats unavailable" block (if any) and the header."""
    parts: list[RenderableType] = []
    if stats.stats_error:
        parts.append(Panel(Text.assemble(("Stats unavailable: ", "bold"), _text(stats.stats_error)),
                           border_style="bold red", style="red", padding=(0, 1)))
    title = Text(_clean(stats.display_name) or _clean(stats.session_id), style="bold")
    if stats.is_dry_run:
        title.append("  ").append(" DRY RUN ", style="bold black on yellow")
    if unavailable:
        title.append("  ").append(" UNAVAILABLE ", style="bold white on red")
    status = Text(_clean(stats.status).replace("_", " "), style=STATUS_STYLES.get(stats.status, ""))
    duration = format_duration(stats.duration_seconds)
    if duration:
        status.append(f" · {duration}")
    if stats.session_created_at is not None:
        status.append(f" · started {format_time(stats.session_created_at)}", style="dim")
    parts.append(title)
    if stats.session_id != stats.display_name:
        parts.append(Text.assemble(("id ", "dim"), (_clean(stats.session_id), "dim")))
    parts += [Text(_clean(stats.session_path), style="dim"), status]
    return parts


def body_sections(stats: SessionStats, *, expanded: bool = False) -> list[RenderableType]:
    """The stats sections below the thumbnail."""
    parts: list[RenderableType] = []
    parts += _section("Generation", _generation_rows(stats, expanded))
    parts += _section("Images", _image_rows(stats))
    parts += _section("API parameters", _api_rows(stats))
    parts += _placeholders(stats, expanded)
    return parts


def metadata_section(metadata: SessionMetadata | None) -> list[RenderableType]:
    """The user's tags, flags, rating and note (drawn on its own: edits change only this)."""
    return _section("Metadata", _metadata_rows(metadata), always=True)


def text_sections(stats: SessionStats) -> list[RenderableType]:
    """The prompts and the warnings, last."""
    parts: list[RenderableType] = []
    sources = field_sources(stats)
    parts += _prompt("Prompt", stats.resolved_prompt, _PROMPT_NOTES.get(sources.get("resolved_prompt", "")))
    parts += _prompt("Negative prompt", stats.negative_prompt,
                     _PROMPT_NOTES.get(sources.get("negative_prompt", "")))
    if stats.warnings:
        parts += [_title("Warnings")] + [Text(f"• {_clean(w)}", style="dim") for w in stats.warnings]
    return parts


Row = tuple[str, "Text | str | None"]

#: What a derived field's value is followed by, by where it came from (``api_params[SOURCES_KEY]``).
_SOURCE_NOTES: Final = {FROM_IMAGE_TEXT: "from the images' generation text", FROM_PLAN: "inferred from the plan"}
_PROMPT_NOTES: Final = {FROM_IMAGE_TEXT: "  from the first image's generation text",
                        FROM_PLAN: "  the template, rebuilt from the planned prompts",
                        FROM_FIRST_IMAGE: "  the first image's prompt (the template is not recorded)"}


def field_sources(stats: SessionStats) -> dict[str, str]:
    """The fields the session's files do not state, and where they came from (empty for most sessions)."""
    params = stats.api_params if isinstance(stats.api_params, dict) else {}
    sources = params.get(SOURCES_KEY)
    if not isinstance(sources, dict):
        return {}
    return {name: where for name, where in sources.items() if isinstance(name, str) and isinstance(where, str)}


def _sourced(value: str | None, source: str | None) -> Text | str | None:
    """``value``, followed by where it came from when the session's files do not state it."""
    note = _SOURCE_NOTES.get(source or "")
    if value is None or note is None:
        return value
    return Text(_clean(value)).append(f"  {note}", style="dim italic")


def _generation_rows(stats: SessionStats, expanded: bool) -> list[Row]:
    sources = field_sources(stats)
    rows: list[Row] = [("Model", _sourced(stats.sd_model, sources.get("sd_model"))),
                       ("Mode", _sourced(stats.generation_mode, sources.get("generation_mode"))),
                       ("Seed mode", _sourced(stats.seed_mode, sources.get("seed_mode"))),
                       ("Base seed", _number(stats.seed_base))]
    if stats.is_seed_sweep and stats.seed_list:
        seeds = _value_list(stats.seed_list, None if expanded else COLLAPSED_SEEDS)
        rows.append(("Seeds", Text("sweep · ", style="cyan") + seeds))
    elif stats.seed_min is not None and stats.seed_max is not None:
        seeds_text = str(stats.seed_min) if stats.seed_min == stats.seed_max else f"{stats.seed_min}–{stats.seed_max}"
        rows.append(("Seed range", seeds_text))
    rows += [("Combinations", _sourced(_number(stats.total_combinations), sources.get("total_combinations"))),
             ("Template", stats.template_version),
             ("Theme", stats.theme_name), ("Style", stats.style)]
    manifest = stats.manifest_format if stats.manifest_format != "none" else None
    if manifest and stats.manifest_file:
        manifest = f"{manifest} ({stats.manifest_file})"
    rows.append(("Manifest", manifest))
    return rows


def _image_rows(stats: SessionStats) -> list[Row]:
    done = Text(str(stats.images_actual))
    if stats.has_extra_images:
        done.append("  more than expected", style="bold yellow")
    rows: list[Row] = [("Expected", _number(stats.images_expected) or Text("—", style="dim")),
                       ("Never made", never_generated_text(stats)), ("Done", done),
                       ("Files", str(stats.image_files_raw))]
    if stats.is_dry_run:
        rows.append(("Payloads", str(stats.dry_run_payloads)))
    rows += [("Completion", completion_text(stats.completion_percentage)),
             ("First image", format_time(stats.first_image_created_at)),
             ("Last image", format_time(stats.last_image_created_at))]
    return rows


def never_generated_text(stats: SessionStats) -> Text | None:
    """"20 of 120 combinations: the plan stopped at 100" for a combinatorial run capped before every
    combination; None otherwise (a completion of 100 % says nothing of them)."""
    seeds = len(stats.seed_list) if isinstance(stats.seed_list, list) else 0
    placeholders = bool(stats.placeholders) if isinstance(stats.placeholders, dict) else False
    planned = stats.images_expected
    try:
        missing = combinations_never_generated(stats.generation_mode, placeholders, stats.total_combinations, seeds,
                                               planned)
    except TypeError:  # odd stored values
        return None
    if missing is None or planned is None:
        return None
    what = "combinations × seeds" if seeds > 1 else "combinations"
    return Text(f"{missing} of {missing + planned} {what}", style="bold yellow").append(
        f": the plan stopped at {planned}", style="yellow")


def _api_rows(stats: SessionStats) -> list[Row]:
    params = stats.api_params if isinstance(stats.api_params, dict) else {}
    sources = field_sources(stats)
    size = f"{stats.width}×{stats.height}" if stats.width and stats.height else None
    rows: list[Row] = [("Size", _sourced(size, sources.get("width"))),
                       ("Steps", _sourced(_number(stats.steps), sources.get("steps"))),
                       ("CFG", _sourced(_number(stats.cfg_scale), sources.get("cfg_scale"))),
                       ("Sampler", _sourced(stats.sampler_name, sources.get("sampler_name"))),
                       ("Scheduler", _sourced(stats.scheduler, sources.get("scheduler"))),
                       ("Hires", hires_summary(params)), ("ADetailer", adetailer_summary(params))]
    units = controlnet_units(params)
    for index, unit in enumerate(units):
        rows.append(("ControlNet" if index == 0 else "", unit))
    return rows


def _metadata_rows(metadata: SessionMetadata | None) -> list[Row]:
    if metadata is None:
        return [("", Text("no metadata", style="dim"))]
    flags = [flag.label for flag in FLAGS if getattr(metadata, flag.field)]
    tags = Text(", ").join(Text(_clean(tag), style="bold") for tag in metadata.tags) if metadata.tags else None
    note = Text(clean_text(metadata.user_note, keep_newlines=True)) if metadata.user_note else None
    return [("Tags", tags or Text("—", style="dim")), ("Flags", ", ".join(flags) or Text("—", style="dim")),
            ("Rating", metadata.user_rating or Text("—", style="dim")), ("Note", note)]


def _placeholders(stats: SessionStats, expanded: bool) -> list[RenderableType]:
    placeholders = stats.placeholders if isinstance(stats.placeholders, dict) else {}
    if not placeholders:
        return []
    grid = LabelledRows()
    truncated = False
    for name, info in placeholders.items():
        info = info if isinstance(info, dict) else {}
        values = raw if isinstance(raw := info.get("values"), list) else []
        count = info.get("count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else len(values)
        label = Text(_clean(str(name)), style="bold")
        label.append(f" ({count})", style="dim")
        if values:
            shown = _value_list(values, None if expanded else COLLAPSED_VALUES)
            truncated = truncated or (not expanded and len(values) > COLLAPSED_VALUES)
        else:
            shown = Text("values not recorded", style="dim")
        grid.add_row(label, shown)
    title = "Placeholders"
    hint = "  ⏎ collapse" if expanded else ("  ⏎ show all" if truncated else "")
    return [_title(title, hint), grid]


def _prompt(title: str, prompt: str | None, note: str | None = None) -> list[RenderableType]:
    if not prompt:
        return []
    return [_title(title, note or ""), Text(clean_text(prompt, keep_newlines=True))]


def _section(title: str, rows: Iterable[Row], *, always: bool = False) -> list[RenderableType]:
    grid = LabelledRows()
    for label, value in rows:
        if value is None or value == "":
            continue
        grid.add_row(Text(label, style="dim"), value if isinstance(value, Text) else Text(_clean(str(value))))
    if not grid.rows and not always:
        return []
    return [_title(title), grid]


class LabelledRows:
    """Rows of a label column and a wrapped value column: what ``Table.grid`` draws, 5–10× faster.

    Values wrap beside their label (words, else folded); newlines in a value are kept.
    Labels wider than a third of the width are cut with an ellipsis.
    """

    GAP = 2
    MIN_LABEL = 12

    def __init__(self) -> None:
        self.rows: list[tuple[Text, Text]] = []

    def add_row(self, label: Text, value: Text) -> None:
        self.rows.append((label, value))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        width = options.max_width
        label_width = max([self.MIN_LABEL, *(label.cell_len for label, _ in self.rows)])
        label_width = max(1, min(label_width, width // 3))
        value_width = max(1, width - label_width - self.GAP)
        indent = Segment(" " * (label_width + self.GAP))
        gap = Segment(" " * self.GAP)
        new_line = Segment.line()
        for label, value in self.rows:
            label = label.copy()
            label.truncate(label_width, overflow="ellipsis", pad=True)
            lines = value.wrap(console, value_width, overflow="fold") or [Text()]
            for index, line in enumerate(lines):
                if index:
                    yield indent
                else:
                    yield from _segments(console, label)
                    yield gap
                yield from _segments(console, line)
                yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(options.max_width, self.MIN_LABEL + self.GAP + 1), options.max_width)


def _segments(console: Console, line: Text) -> Iterable[Segment]:
    if not line.spans and line.style:  # Text.render drops the base style of a span-less text
        return [Segment(line.plain, console.get_style(line.style))]
    return line.render(console)


def _title(title: str, hint: str = "") -> Rule:
    text = Text(title, style="bold")
    if hint:
        text.append(hint, style="dim")
    return Rule(text, align="left", style="dim")


def _value_list(values: Sequence[Any], limit: int | None) -> Text:
    """``values`` (cleaned here: only those shown) joined by commas, then "N more…"."""
    shown = values if limit is None else values[:limit]
    text = Text(", ".join(_clean(str(value)) for value in shown))
    if len(values) > len(shown):
        text.append(f"  {len(values) - len(shown)} more…", style="dim italic")
    return text


def _clean(value: str | None) -> str:
    return clean_text(value) if value else ""


def _text(value: str) -> Text:
    return Text(clean_text(value))


def _number(value: Any) -> str | None:
    """``7`` → "7", ``7.0`` → "7", ``0.45`` → "0.45"; None stays None; anything else as clean text."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}" if value == value else None
    return _clean(str(value)) or None


def format_duration(seconds: float | None) -> str:
    """``724`` → "12m 04s", ``3725`` → "1h 02m 05s", ``42`` → "42s"; "" when unknown or negative."""
    if seconds is None or not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else None


def hires_summary(params: dict[str, Any]) -> str | None:
    """``×1.5 R-ESRGAN 4x+, denoise 0.4, 10 steps`` when hires fix is on, else None."""
    if not params.get("enable_hr"):
        return None
    head = "on"
    scale = _number(params.get("hr_scale"))
    upscaler = _number(params.get("hr_upscaler"))
    if scale or upscaler:
        head = " ".join(part for part in (f"×{scale}" if scale else None, upscaler) if part)
    parts = [head]
    denoise = _number(params.get("denoising_strength"))
    if denoise:
        parts.append(f"denoise {denoise}")
    steps = params.get("hr_second_pass_steps")
    if isinstance(steps, int) and not isinstance(steps, bool) and steps > 0:
        parts.append(f"{steps} steps")
    return ", ".join(parts)


def adetailer_summary(params: dict[str, Any]) -> str | None:
    """The ADetailer models (``face_yolov8n.pt, hand_yolov8n.pt``) when it is enabled, else None."""
    adetailer = params.get("adetailer")
    if not isinstance(adetailer, dict) or not adetailer.get("enabled"):
        return None
    detectors = adetailer.get("detectors")
    models = [_number(d.get("ad_model")) for d in detectors if isinstance(d, dict)] if isinstance(
        detectors, list) else []
    return ", ".join(model for model in models if model) or "on"


def controlnet_units(params: dict[str, Any]) -> list[str]:
    """One line per ControlNet unit: ``model / module · weight 0.8``."""
    controlnet = params.get("controlnet")
    units = controlnet.get("units") if isinstance(controlnet, dict) else None
    if not isinstance(units, list):
        return []
    lines = []
    for unit in units:
        if not isinstance(unit, dict):
            continue
        if unit.get("enabled") is False:
            continue
        names = " / ".join(part for part in (_number(unit.get("model")), _number(unit.get("module"))) if part)
        weight = _number(unit.get("weight"))
        line = " · ".join(part for part in (names, f"weight {weight}" if weight else None) if part)
        lines.append(line or "unit")
    return lines
