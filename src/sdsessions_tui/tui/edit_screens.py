"""Dialogs of metadata editing: "apply to all filtered", a save conflict, quitting with conflicts.

All are modal and keyboard-only; their keys come from the command registry
(scopes ``apply``, ``conflict`` and ``quit``), so F1 and the footer list them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..core.edits import Conflict
from ..core.flags import FLAGS
from ..core.text import clean_text
from .commands import bindings
from .key_bar import KeyBar

#: (label, metadata field, value) offered by "apply to all filtered".
BULK_ACTIONS: tuple[tuple[str, str, object], ...] = (
    *((label, flag.field, value) for flag in FLAGS
      for label, value in zip(flag.bulk_labels, (True, False), strict=True)),
    ("Rate like", "user_rating", "like"), ("Rate dislike", "user_rating", "dislike"),
    ("Clear rating", "user_rating", None),
)
#: Conflicts named in the quit dialog (the rest are counted).
QUIT_LISTED = 8
FIELD_LABELS = {**{flag.field: flag.label for flag in FLAGS}, "user_rating": "rating", "tags": "tags",
                "user_note": "note"}


def _count(number: int) -> str:
    return f"{number:,}".replace(",", " ")


class ApplyMenu(ModalScreen[tuple[str, object] | None]):
    """Choose what to apply to every session of the filter; the title says how many."""

    BINDINGS = bindings("apply")

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        menu = OptionList(*(Option(label, id=str(index)) for index, (label, _f, _v) in enumerate(BULK_ACTIONS)),
                          id="apply-menu")
        menu.border_title = f"Apply to all {_count(self.count)} filtered sessions"
        menu.border_subtitle = "Enter applies · Esc cancels"
        yield menu
        yield KeyBar()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        _label, name, value = BULK_ACTIONS[int(event.option.id or 0)]
        self.dismiss((name, value))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _shown(name: str, value: Any) -> str:
    if name == "tags":
        return ", ".join(value) or "(none)"
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class ConflictScreen(ModalScreen[bool]):
    """Another instance changed the same fields: show both values, keep mine (m) or theirs (o).

    Only those two keys close it: Esc would have to mean one side, and so drop the other.
    """

    BINDINGS = bindings("conflict")

    def __init__(self, conflict: Conflict) -> None:
        super().__init__()
        self.conflict = conflict

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"{clean_text(self.conflict.session_id)} was changed elsewhere while you edited it.\n\n")
        for name, mine in self.conflict.mine.items():
            text.append(f"{FIELD_LABELS.get(name, name)}\n", style="bold")
            text.append("  yours:  ")
            text.append(clean_text(_shown(name, mine)) + "\n", style="green")
            text.append("  theirs: ")
            text.append(clean_text(_shown(name, self.conflict.theirs[name])) + "\n", style="yellow")
        with Vertical(id="conflict"):
            yield Static(text)
            hint = Static("", id="conflict-hint")
            hint.display = False  # until Esc
            yield hint
        yield KeyBar()

    def action_remind(self) -> None:
        """Esc: the dialog stays, neither value is dropped by a key meant to get out of the way."""
        hint = self.query_one("#conflict-hint", Static)
        hint.update(Text("Choose first: m keeps yours, o keeps theirs (Esc discards neither)", style="bold"))
        hint.display = True

    def action_keep_mine(self) -> None:
        self.dismiss(True)

    def action_keep_theirs(self) -> None:
        self.dismiss(False)


class QuitConflictsScreen(ModalScreen[bool | None]):
    """Quitting with save conflicts not resolved yet: keep mine (True) or theirs (False) for all
    of them, or cancel (None) and resolve them one by one.  Never a silent choice."""

    BINDINGS = bindings("quit")

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__()
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        count = len(self.conflicts)
        text = Text(f"{count} edit{'s' if count > 1 else ''} conflict with another instance's changes:\n\n")
        for conflict in self.conflicts[:QUIT_LISTED]:
            fields = ", ".join(FIELD_LABELS.get(name, name) for name in conflict.mine)
            text.append(f"  {clean_text(conflict.session_id)}: {fields}\n")
        if count > QUIT_LISTED:
            text.append(f"  and {_count(count - QUIT_LISTED)} more\n")
        text.append("\nm keeps yours, o keeps theirs (for all of them), then quits; "
                    "Esc goes back to choose one by one.")
        with Vertical(id="conflict"):
            yield Static(text)
        yield KeyBar()

    def action_keep_mine(self) -> None:
        self.dismiss(True)

    def action_keep_theirs(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(None)
