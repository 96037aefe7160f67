"""The one command registry: every key of the app, declared once.

Each :class:`Command` feeds the widget bindings (``bindings(scope)``), hence
the footer; the F1 help screen (``commands_for``); and the command palette
(``palette_commands``).  Binding ids are the command ids, so a keymap in the
config file (``[keymap] "table.sort" = "o"``) remaps a key everywhere at once
through Textual's ``App.set_keymap``.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from ..core.flags import FLAGS


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    """Stable id, used as the binding id and in keymap overrides."""
    key: str
    """Textual key(s), comma-separated for alternatives (``"down,j"``)."""
    description: str
    action: str
    """The Textual action run on the widget (or app) whose scope this is."""
    scope: str
    """``app``, ``table``, ``filter``, ``details``, ``edit`` (table and details), ``editor``, ``tags``,
    ``apply``, ``conflict``, ``quit`` or ``help``: where the key works."""
    show: bool = True
    """Shown in the footer (navigation keys are not, to keep it readable at 80 columns)."""
    palette: bool = True
    """Offered in the command palette (pure cursor moves are not)."""
    key_display: str | None = None
    priority: bool = False
    """Works in dialogs too (a modal screen blocks the others)."""


COMMANDS: tuple[Command, ...] = (
    # app-wide
    Command("app.help", "f1", "Help", "app.show_help", "app", key_display="F1", priority=True),
    Command("app.filter", "slash", "Filter", "app.focus_filter", "app", key_display="/"),
    Command("app.refresh_all", "R", "Refresh all", "app.refresh_all", "app"),
    Command("app.quit", "q", "Quit", "app.quit", "app"),
    Command("app.save", "ctrl+s", "Save now / retry", "app.save_now", "app", show=False),
    Command("app.watch", "W", "Pause / resume watching the folders", "app.toggle_watch", "app", show=False),
    # (the key bar shows it at its right edge, as "palette")
    Command("app.palette", "ctrl+p", "Command palette", "app.command_palette", "app", show=False, palette=False,
            key_display="^p", priority=True),
    # the session table
    Command("table.up", "up,k", "Up", "cursor_up", "table", show=False, palette=False),
    Command("table.down", "down,j", "Down", "cursor_down", "table", show=False, palette=False),
    Command("table.page_up", "pageup", "Page up", "page_up", "table", show=False, palette=False),
    Command("table.page_down", "pagedown", "Page down", "page_down", "table", show=False, palette=False),
    Command("table.first", "home,g", "First row", "first", "table", show=False, palette=False),
    Command("table.last", "end,G", "Last row", "last", "table", show=False, palette=False),
    Command("table.open", "enter", "Details", "select", "table", key_display="⏎"),
    Command("table.sort", "s", "Sort", "app.sort_menu", "table"),
    Command("table.recompute", "r", "Recompute", "app.recompute", "table", show=False),
    Command("table.mark", "space", "Mark", "app.toggle_mark", "table", key_display="␣"),
    Command("table.apply_filtered", "A", "Apply to filtered", "app.apply_filtered", "table"),
    Command("table.clear_marks", "escape", "Clear marks", "app.clear_marks", "table", show=False),
    # editing metadata: on the marked rows if any, else the highlighted session (table and details)
    *(Command(f"edit.{flag.label}", flag.key, flag.label.capitalize(), f"app.toggle_flag({flag.field!r})", "edit")
      for flag in FLAGS),
    Command("edit.like", "plus", "Like", "app.rate('like')", "edit", key_display="+"),
    Command("edit.dislike", "minus", "Dislike", "app.rate('dislike')", "edit", key_display="-"),
    Command("edit.clear_rating", "0", "Clear rating", "app.rate(None)", "edit", show=False),
    Command("edit.tags", "e", "Tags", "app.edit_tags", "edit"),
    Command("edit.note", "n", "Note", "app.edit_note", "edit"),
    Command("edit.undo", "u", "Undo", "app.undo", "edit"),
    # the tag and note editor (above the details panel)
    Command("editor.close", "escape", "Done", "app.close_editor", "editor", palette=False),
    Command("tags.remove", "delete,backspace", "Remove tag", "remove_tag", "tags", key_display="Del",
            palette=False),
    # dialogs of editing
    Command("apply.cancel", "escape", "Cancel", "cancel", "apply", palette=False),
    Command("conflict.mine", "m", "Keep mine", "keep_mine", "conflict", palette=False),
    Command("conflict.theirs", "o", "Keep theirs", "keep_theirs", "conflict", palette=False),
    # (q there asks about every conflict left, as everywhere; Esc discards neither side)
    Command("conflict.quit", "q", "Quit", "app.quit", "conflict", palette=False),
    Command("conflict.choose", "escape", "Choose first", "remind", "conflict", show=False, palette=False),
    # quitting with conflicts not resolved yet
    Command("quit.mine", "m", "Keep mine, quit", "keep_mine", "quit", palette=False),
    Command("quit.theirs", "o", "Keep theirs, quit", "keep_theirs", "quit", palette=False),
    Command("quit.cancel", "escape", "Cancel", "cancel", "quit", palette=False),
    # the filter input
    Command("filter.done", "escape", "Back to list", "app.focus_table", "filter"),
    Command("filter.apply", "enter", "Apply", "app.focus_table", "filter", show=False, palette=False),
    # the details panel (beside the table, or full-screen when narrow)
    Command("details.back", "escape", "Back", "app.close_details", "details"),
    Command("details.expand", "enter", "Expand", "expand", "details"),
)

_BY_ID = {command.id: command for command in COMMANDS}


def command(command_id: str) -> Command:
    return _BY_ID[command_id]


def commands_for(*scopes: str) -> list[Command]:
    """The commands that work in these scopes, in declaration order (what F1 lists)."""
    return [command for command in COMMANDS if command.scope in scopes]


def bindings(scope: str) -> list[BindingType]:
    """Textual bindings for a widget of this scope (its ``BINDINGS``)."""
    return [Binding(c.key, c.action, c.description, show=c.show, key_display=c.key_display, id=c.id,
                    priority=c.priority) for c in commands_for(scope)]


def palette_commands() -> list[Command]:
    return [command for command in COMMANDS if command.palette]
