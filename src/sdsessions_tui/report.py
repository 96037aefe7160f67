"""A plain table of sessions and their stats, printed to stdout.

It is the app's read-only view until the TUI lands, and stays useful for
scripts.  Every value from disk goes through ``clean_text`` and into Rich
``Text`` objects, so markup or control characters in a prompt or folder name
are printed literally.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .core.discovery import discover
from .core.session_stats import SessionStats
from .core.stats import read_session
from .core.status import completion_label, completion_style
from .core.text import clean_text
from .progress import progress_reporter

STATUS_STYLES = {
    "running": "bold cyan",
    "completed": "green",
    "completed_with_failures": "yellow",
    "aborted": "red",
    "stale": "magenta",
    "incomplete": "yellow",
    "unknown": "dim",
}


def _cell(value: object) -> Text:
    return Text(clean_text("" if value is None else str(value)))


def _row(stats: SessionStats) -> list[Text]:
    date = stats.session_created_at.strftime("%Y-%m-%d %H:%M") if stats.session_created_at else "—"
    expected = "?" if stats.images_expected is None else str(stats.images_expected)
    percent = completion_label(stats.completion_percentage)
    flags = " ".join(flag for flag, on in (("sweep", stats.is_seed_sweep), ("dry-run", stats.is_dry_run)) if on)
    status = Text(stats.status.replace("_", " "), style=STATUS_STYLES.get(stats.status, ""))
    if stats.stats_error:
        status.append(f" ({clean_text(stats.stats_error)})", style="dim")
    return [_cell(date), _cell(stats.session_id), _cell(stats.sd_model), _cell(f"{stats.images_actual}/{expected}"),
            Text(percent, style=completion_style(stats.completion_percentage)), status, _cell(flags)]


def print_sessions(roots: Sequence[str]) -> int:
    """Discover and read every session under ``roots`` and print them; 0 on success, 2 if no root exists."""
    found = discover(roots)
    console = Console()
    if not console.is_terminal:  # piped or logged: don't cut names at 80 columns
        console = Console(width=220)
    for path, reason in found.problems:
        console.print(Text(clean_text(f"warning: {path}: {reason}"), style="yellow"), highlight=False)
    if not found.sessions and found.problems:
        return 2
    stats: list[SessionStats] = []
    with progress_reporter("Reading sessions") as report:
        for number, folder in enumerate(found.sessions, 1):
            stats.append(read_session(folder))
            report(number, len(found.sessions))
    stats.sort(key=lambda s: (s.session_created_at is None, s.session_created_at or 0, s.session_id), reverse=False)
    table = Table(title=f"{len(stats)} sessions", expand=False)
    for header in ("date", "name", "model", "images", "done", "status", ""):
        table.add_column(header, overflow="ellipsis", no_wrap=True, max_width=48)
    for item in stats:
        table.add_row(*_row(item))
    console.print(table)
    return 0
