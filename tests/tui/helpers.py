"""What the Pilot tests share: waiting for a condition, reading what a widget or screen shows, moving the
cursor, counting the store's writes, and the key events raw terminal bytes make."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual import events
from textual.geometry import Region
from textual.widgets import Label, Static
from textual.widgets._toast import Toast

from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.help import HelpScreen
from sdsessions_tui.tui.session_table import SessionTable


async def until(pilot: Any, condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for a concrete condition (``pilot.pause()`` alone returns after at most 1 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


async def ready(pilot: Any) -> SessionTable:
    """The table, once the fixture's seven sessions are listed (and the chips and details, mounted after)."""
    table = pilot.app.query_one(SessionTable)
    await until(pilot, lambda: table.row_count == 7 and pilot.app.query(".chip") and pilot.app.query("#details"))
    return table


async def cursor_to(pilot: Any, table: SessionTable, session_id: str) -> None:
    index = next(i for i in range(table.row_count) if table.row_at(i).session_id == session_id)
    table.move_cursor(index)
    await pilot.pause()


def error_text(app: Any) -> str:
    return str(app.query_one("#query-error", Label).render()) if app.filter_bar.has_class("-error") else ""


def save_text(app: Any) -> str:
    return str(app.query_one("#save-state").render())


def toasts(app: Any) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def until_toast(pilot: Any, needle: str) -> str:
    await until(pilot, lambda: any(needle in text for text in toasts(pilot.app)))
    return next(text for text in toasts(pilot.app) if needle in text)


def lines_of(widget: Any) -> list[str]:
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))]


def panel_text(panel: DetailsPanel) -> str:
    parts = ("#details-top", "#details-body", "#details-metadata", "#details-texts")
    return "\n".join(line for part in parts for line in lines_of(panel.query_one(part)))


def screen_text(screen: HelpScreen) -> str:
    console = Console(file=io.StringIO(), width=120, record=True, color_system=None)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


def count_writes(store: Any, monkeypatch: Any) -> list[list[Any]]:
    """Count ``apply_edits`` transactions."""
    calls = []
    original = store.apply_edits

    def counted(edits):
        calls.append(list(edits))
        return original(edits)

    monkeypatch.setattr(store, "apply_edits", counted)
    return calls


def keys_read_from(data: str) -> list[events.Key]:
    """The key events Textual's parser makes of these bytes from the terminal (then a pause)."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    return [*parser.feed(data), *parser.feed("")]
