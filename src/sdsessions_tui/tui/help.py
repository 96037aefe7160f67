"""The F1 help screen: every key that works where the focus is, plus the app-wide keys, then
what the list's status marks mean and the query language.

Built only from the sources the app itself uses, so it cannot drift: the command registry
(:func:`~.commands.commands_for`; each key the effective one after the config file's
``[keymap]``), the table's :data:`~.session_table.BADGES`, and :mod:`~..core.query_terms` (which
the README's query section repeats, a test checks).  Everything is drawn with
``rich.text.Text`` (never markup), so a user's key string cannot inject styles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from ..core import query_terms
from .commands import Command, bindings, commands_for
from .key_bar import KeyBar
from .session_table import BADGES

#: Section titles, in the order sections are shown ("Everywhere" last).
SCOPE_TITLES: dict[str, str] = {
    "table": "Session list",
    "filter": "Filter",
    "details": "Details",
    "edit": "Editing (marked rows, else the highlighted one)",
    "editor": "Tag and note editor",
    "tags": "Tag list",
    "apply": "Apply to all filtered",
    "conflict": "Save conflict",
    "quit": "Quitting with save conflicts",
    "help": "Help",
    "app": "Everywhere",
}

_KEY_NAMES = {
    "slash": "/",
    "backslash": "\\",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "escape": "Esc",
    "enter": "Enter",
    "home": "Home",
    "end": "End",
    "space": "Space",
    "tab": "Tab",
    "backspace": "Backspace",
    "delete": "Del",
    "insert": "Ins",
}
_MODIFIERS = {"ctrl": "Ctrl", "shift": "Shift", "alt": "Alt", "meta": "Meta", "super": "Super", "hyper": "Hyper"}
_FUNCTION_KEY = re.compile(r"^f\d{1,2}$")

_OWN_BINDINGS: list[BindingType] = [
    Binding("escape", "close", "Close", key_display="Esc"),
    Binding("f1", "close", "Close", show=False),
    Binding("q", "close", "Close", show=False),
]


def key_label(keys: str) -> str:
    """A Textual key string for people: ``"down,j"`` -> ``"↓ / j"``, ``"ctrl+o"`` -> ``"Ctrl+o"``."""
    labels = [_one_key(part.strip()) for part in keys.split(",") if part.strip()]
    return " / ".join(labels)


def _one_key(key: str) -> str:
    if key == "+" or "+" not in key:
        return _key_name(key)
    *modifiers, name = key.split("+")
    return "+".join([*(_MODIFIERS.get(m.lower(), m) for m in modifiers), _key_name(name)])


def _key_name(name: str) -> str:
    if name in _KEY_NAMES:
        return _KEY_NAMES[name]
    if _FUNCTION_KEY.match(name):
        return name.upper()
    return format_key(name)  # "question_mark" -> "?", "comma" -> ",", "j" -> "j"


def help_sections(scopes: Iterable[str], keymap: Mapping[str, str] | None = None
                  ) -> list[tuple[str, str, list[tuple[str, Command]]]]:
    """``(scope, title, [(key label, command), ...])`` for ``scopes`` plus ``app``, app-wide last.

    The key is ``keymap[command.id]`` when overridden, else the registry's.
    """
    keymap = keymap or {}
    wanted = [scope for scope in dict.fromkeys(scopes) if scope != "app"] + ["app"]
    sections = []
    for scope in wanted:
        commands = commands_for(scope)
        if not commands:
            continue
        rows = [(key_label(keymap.get(command.id) or command.key), command) for command in commands]
        sections.append((scope, SCOPE_TITLES.get(scope, scope.capitalize()), rows))
    return sections


def inline_code(text: str) -> Text:
    """``query_terms`` text for the screen: the backticked parts (the things to type) in bold."""
    line = Text()
    for index, part in enumerate(text.split("`")):
        line.append(part, style="bold" if index % 2 else "")
    return line


def status_marks() -> Table:
    """The list's Done column, mark by mark (from the table's own badges)."""
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("mark", no_wrap=True)
    table.add_column("meaning")
    for status, badge in BADGES.items():
        mark = badge.mark or "100%"  # (a finished run shows its percentage alone)
        table.add_row(Text(mark, style=badge.style), Text(f"{status.replace('_', ' ')} — {badge.meaning}"))
    return table


def query_language() -> Table:
    """The query language's terms (what the README's table says)."""
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for title in query_terms.HEADER:
        table.add_column(Text(title), ratio=1)
    for term, meaning in query_terms.TERMS:
        table.add_row(inline_code(term), inline_code(meaning))
    return table


def _section_table(rows: list[tuple[str, Command]], key_width: int, description_width: int) -> Table:
    """One section's keys; the shared column widths line every section up."""
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0),
                  expand=False)
    table.add_column("key", style="bold", no_wrap=True, min_width=key_width)
    table.add_column("description", min_width=description_width)
    table.add_column("id", style="dim", no_wrap=True)
    for label, command in rows:
        table.add_row(Text(label), Text(command.description), Text(command.id))
    return table


class HelpScreen(ModalScreen[None]):
    """Modal key list.  ``scopes``: the focused widget's scope(s); ``app`` is always added.

    ``keymap``: the config's ``[keymap]`` (command id -> keys), so remapped keys show as remapped.
    Esc, F1 or q close it; the list scrolls with the arrow and page keys.
    """

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-body {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .help-title {
        color: $accent;
        text-style: bold;
        margin-top: 1;
    }
    HelpScreen #help-query, HelpScreen #help-query-notes {
        margin-top: 1;
    }
    HelpScreen .help-hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = bindings("help") or _OWN_BINDINGS

    def __init__(self, scopes: Iterable[str] = ("app",), keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.sections = help_sections(scopes, keymap)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys"
            all_rows = [row for _scope, _title, rows in self.sections for row in rows]
            key_width = max((Text(label).cell_len for label, _command in all_rows), default=1)
            description_width = max((Text(command.description).cell_len for _label, command in all_rows), default=1)
            for scope, title, rows in self.sections:
                yield Static(Text(title), classes="help-title", id=f"help-title-{scope}")
                yield Static(_section_table(rows, key_width, description_width), classes="help-keys",
                             id=f"help-keys-{scope}")
            yield Static(Text("Status marks (the Done column)"), classes="help-title", id="help-title-marks")
            yield Static(status_marks(), id="help-marks")
            yield Static(Text("Query language (/ to filter)"), classes="help-title", id="help-title-query")
            yield Static(inline_code(query_terms.INTRO), id="help-query-intro")
            yield Static(query_language(), classes="help-query", id="help-query")
            yield Static(Text("\n").join(inline_code(f"• {note}") for note in query_terms.NOTES),
                         id="help-query-notes")
            yield Static(Text("↑ ↓ PgUp PgDn scroll · Esc, F1 or q close"), classes="help-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-body", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
