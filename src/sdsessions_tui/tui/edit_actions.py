"""The app's metadata editing: flag and rating keys, marks, "apply to all filtered", undo, and
the tag and note editor.

Edits show at once through :class:`~.editing.PendingEdits` (the table and the details draw
the metadata with them); when they are written is the :class:`~.save_queue.SaveQueue`'s
business, and what a save's end shows (the editor's values, a conflict's dialog) is here.
A plain object composed by :class:`~.app.SessionsApp`, which it reaches through
:class:`EditHost` (what it needs of the app, typed), so the app's other parts (the list, the
filter, the live updates) stay out of it; the app's ``action_*`` methods delegate here.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from ..core.db import StoreError
from ..core.edits import ANY_VERSION, Conflict, EditError, SaveResult, add_tag, normalize_tag, remove_tag
from ..core.store import SessionMetadata, SessionRow
from .details import DetailsPanel
from .details_screen import DetailsScreen
from .edit_screens import FIELD_LABELS, ApplyMenu, ConflictScreen, QuitConflictsScreen
from .escape_keys import split_escape_pairs
from .filter_bar import SaveIndicator
from .messages import BulkApplied, KnownTagsLoaded, Notice, UndoRowsRead
from .save_queue import debounce
from .undo import UndoEntry, UndoStack, settled

if TYPE_CHECKING:
    from textual.message import Message
    from textual.notifications import SeverityLevel

    from ..core.store import Store
    from .editing import PendingEdits
    from .metadata_editor import MetadataEditor
    from .save_queue import SaveQueue
    from .session_table import SessionTable

#: Seconds of pause in typing a tag or note before the details panel shows it.
TYPING_DETAILS_DELAY = 0.3


class EditHost(Protocol):
    """What the edit actions need of the app (:class:`~.app.SessionsApp`): its store, list, details
    panel and save queue, and the Textual calls they make on it."""

    store: Store
    saves: SaveQueue

    @property
    def table(self) -> SessionTable: ...
    @property
    def narrow(self) -> bool: ...
    @property
    def details_panel(self) -> DetailsPanel | None: ...
    async def mount_details(self) -> DetailsPanel: ...
    def show_details_in(self, panel: DetailsPanel, session_key: int | None) -> None: ...
    def show_details(self, session_key: int | None) -> None: ...
    # (Textual's)
    def post_message(self, message: Message) -> bool: ...
    @property
    def screen(self) -> Screen[Any]: ...
    @property
    def screen_stack(self) -> list[Screen[Any]]: ...
    @property
    def focused(self) -> Widget | None: ...
    def notify(self, message: str, *, severity: SeverityLevel = ..., timeout: float | None = ...) -> None: ...
    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], None] | None = ...) -> object: ...
    def pop_screen(self) -> object: ...
    def set_timer(self, delay: float, callback: Callable[[], object]) -> Timer: ...
    def call_after_refresh(self, callback: Callable[[], object]) -> object: ...
    def run_worker(self, work: Callable[[], object], *, group: str, thread: bool) -> object: ...


class MetadataEditing:
    """The editing keys, the editor and undo, on ``host``'s list and details; the app delegates its
    ``action_*`` methods and the editor's messages here (Textual looks actions up on the app)."""

    def __init__(self, host: EditHost, advance_after_rating: bool) -> None:
        split_escape_pairs()  # Esc then "-" over a slow link: Esc, then "-" (see escape_keys)
        self.host = host
        self._editors: weakref.WeakSet[MetadataEditor] = weakref.WeakSet()
        self.advance_after_rating = advance_after_rating
        self._focus_before_edit: Widget | None = None
        self._edit_details_timer: Timer | None = None
        self.undo = UndoStack()
        """What ``u`` takes back; see :mod:`.undo`."""
        self._undoing = False

    @property
    def edits(self) -> PendingEdits:
        """The edits on screen but not saved yet (the save queue's)."""
        return self.host.saves.edits

    def _targets(self) -> list[SessionRow]:
        """The marked rows if any, else the highlighted session (or the one full-screen)."""
        if isinstance(self.host.screen, DetailsScreen):
            keys = [self.host.screen.session_key]
        elif self.host.table.marked:
            keys = [key for key in self.host.table.ids if key in self.host.table.marked]
        else:  # the common case, one key press: the row the table already holds
            cursor = self.host.table.cursor_row
            row = self.host.table.row_at(cursor) if cursor is not None else None
            return [row] if row is not None else []
        try:
            rows = self.host.store.fetch_rows(keys)
        except StoreError as error:
            self.host.notify(f"Cannot read the sessions to edit: {error}", severity="error")
            return []
        return [rows[key] for key in keys if key in rows]

    def _edit(self, rows: list[SessionRow], name: str, value: object) -> None:
        """A flag or rating key: set ``name`` on every target, then maybe move on (fast culling)."""
        self._edit_each(rows, name, lambda _shown: value)
        if self.advance_after_rating and not self.host.table.marked and not isinstance(self.host.screen, DetailsScreen):
            self.host.table.action_cursor_down()

    def _edit_each(self, rows: list[SessionRow], name: str, value_for: Callable[[SessionMetadata], object],
                   *, typing: bool = False, undoable: bool = True) -> int:
        """Set ``name`` to ``value_for(metadata on screen)`` on each row it changes; show it, schedule the save
        (``typing``: the editor's text, saved once typing pauses; ``undoable``: and remember the values
        shown before, for ``u``).

        Returns how many sessions changed.
        """
        changed: list[int] = []
        before: dict[int, object] = {}
        after: dict[int, object] = {}
        for row in rows:
            shown = self.edits.effective(row.metadata)
            value = value_for(shown)
            if value != getattr(shown, name):
                self.edits.change(row.metadata, name, value)
                changed.append(row.session_key)
                before[row.session_key], after[row.session_key] = getattr(shown, name), value
        if changed and undoable:
            self.undo.record(name, before, after, now=time.monotonic(), window=debounce(typing=typing))
        if changed:
            self.host.table.redraw(changed)
            if self.host.table.cursor_session_key in changed or isinstance(self.host.screen, DetailsScreen):
                self._schedule_details_refresh(typing=typing)
            self.host.saves.edited(typing=typing)
        return len(changed)

    def toggle_flag(self, name: str) -> None:
        rows = self._targets()
        if rows:
            value = not all(getattr(self.edits.effective(row.metadata), name) for row in rows)
            self._edit(rows, name, value)

    def rate(self, rating: str | None) -> None:
        rows = self._targets()
        if rows:
            self._edit(rows, "user_rating", rating)

    def clear_marks(self) -> None:
        if self.host.table.marked:
            self.host.table.clear_marks()
            self.show_save_state()

    def toggle_mark(self) -> None:
        session_key = self.host.table.cursor_session_key
        if session_key is not None:
            self.host.table.toggle_mark(session_key)
            self.host.table.action_cursor_down()
            self.show_save_state()

    def apply_filtered(self) -> None:
        ids = list(self.host.table.ids)
        if not ids:
            self.host.notify("No sessions in this filter", severity="warning")
            return
        self.host.push_screen(ApplyMenu(len(ids)), partial(self._apply_to, ids))

    def _apply_to(self, ids: list[int], choice: tuple[str, object] | None) -> None:
        if choice is not None:
            name, value = choice
            self.host.run_worker(partial(self._bulk_worker, ids, name, value), thread=True, group="bulk")

    def _bulk_worker(self, ids: list[int], name: str, value: object) -> None:
        previous: dict[int, dict[str, Any]] = {}  # each session's value before: what undoing puts back
        try:
            changed = self.host.store.set_metadata_many(ids, {name: value}, previous=previous)
        except StoreError as error:
            self.host.post_message(Notice(f"Not applied: {error}", "error", timeout=10))
            return
        self.host.post_message(BulkApplied(changed, name, value, previous))

    def bulk_applied(self, applied: BulkApplied) -> None:
        name, value = applied.name, applied.value
        self.undo.record(name, {key: values[name] for key, values in applied.previous.items()},
                         dict.fromkeys(applied.previous, value), now=time.monotonic())
        self.host.table.invalidate()
        self.refresh_details_now()
        self.host.notify(f"Applied to {applied.changed:,} sessions".replace(",", " "))

    def undo_last(self) -> None:
        """Put back the values the last edit action changed, as edits of their own (saved like any
        edit: a session another instance changed since is a conflict, shown to the user)."""
        if self._undoing:  # one at a time: two undos of one field must land in their order
            self.host.notify("Still undoing the last edit")
            return
        entry = self.undo.pop()
        if entry is None:
            self.host.notify("Nothing to undo")
            return
        self._undoing = True
        self.host.run_worker(partial(self._undo_worker, entry), thread=True, group="undo")

    def _undo_worker(self, entry: UndoEntry) -> None:
        """The sessions' rows as stored now (off the UI thread: an undone ``A`` can hold 100 000)."""
        try:
            rows = self.host.store.fetch_rows(list(entry.before))
        except StoreError as error:
            self.host.post_message(UndoRowsRead(entry, {}, error))
            return
        self.host.post_message(UndoRowsRead(entry, rows))

    def undo_rows_read(self, read: UndoRowsRead) -> None:
        self._undoing = False
        if read.error is not None:
            self.host.notify(f"Not undone: {read.error}", severity="error", timeout=10)
            return
        entry, rows = read.entry, read.rows
        self._edit_each([_as_left(row, entry, self.edits.effective(row.metadata)) for row in rows.values()],
                        entry.name, lambda meta: entry.before[meta.session_key], undoable=False)
        sessions = len(entry.before)
        self.host.notify(f"Undid: {FIELD_LABELS.get(entry.name, entry.name)} on {sessions:,} "
                         f"session{'s' if sessions > 1 else ''}".replace(",", " "))
        editor = next(iter(self.editors(self.host.screen)), None)
        if editor is not None and editor.is_open and set(editor.session_keys) & set(entry.before):
            focused = self.host.focused  # the editor shows the values put back; the focus stays
            self.open_editor(editor, "note" if entry.name == "user_note" else "tags", self.editor_rows(editor))
            if focused is not None:
                focused.focus()

    # --- the tag and note editor ------------------------------------------------------------------

    async def edit_tags(self) -> None:
        await self._start_editing("tags")

    async def edit_note(self) -> None:
        await self._start_editing("note")

    async def _start_editing(self, part: str) -> None:
        rows = self._targets()
        if not rows:
            return
        if self.host.narrow and not isinstance(self.host.screen, DetailsScreen):
            cursor = self.host.table.cursor_session_key
            self.host.push_screen(DetailsScreen(cursor if cursor is not None else rows[0].session_key,
                                                edit=(part, rows)))
        else:
            self.open_editor(await self.editor_on(self.host.screen), part, rows)

    async def editor_on(self, screen: Screen[Any]) -> MetadataEditor:
        """The screen's tag and note editor, mounted above its details panel at first use.

        (Not composed up front: its dozen widgets and TextArea's import would cost every launch.)
        """
        from .metadata_editor import MetadataEditor

        for editor in self.editors(screen):
            return editor
        editor = MetadataEditor()
        panel = screen.query_one(DetailsPanel) if isinstance(screen, DetailsScreen) else await self.host.mount_details()
        await cast(Widget, panel.parent).mount(editor, before=panel)  # (a mounted panel's parent: a widget)
        self._editors.add(editor)
        return editor

    def editors(self, screen: Screen[Any] | None = None) -> list[MetadataEditor]:
        """The tag and note editors mounted (on ``screen``, or on any): those :meth:`editor_on`,
        their only maker, made.  Kept here rather than queried by class, whose module (and
        TextArea's) is imported at the first edit, not at launch."""
        return [editor for editor in self._editors
                if editor.is_attached and (screen is None or editor.screen is screen)]

    def open_editor(self, editor: MetadataEditor, part: str | None, rows: list[SessionRow]) -> None:
        """Edit the tags (``part`` "tags") or the note ("note") of these sessions in ``editor``
        (``part`` None: the focus stays where it is)."""
        if not editor.is_open:
            self._focus_before_edit = self.host.focused
        shown = [self.edits.effective(row.metadata) for row in rows]
        notes = {meta.user_note or "" for meta in shown}
        title = f"Editing {len(rows)} marked sessions" if len(rows) > 1 else f"Editing {rows[0].display_name}"
        editor.seen = {row.session_key: row.metadata for row in rows}
        if len(notes) == 1:
            editor.open([row.session_key for row in rows], title, notes.pop())
        else:
            editor.open([row.session_key for row in rows], title, "",
                        note_reason="These sessions have different notes: edit those one at a time")
        self._show_editor_tags(editor, shown)
        self.host.run_worker(partial(self._load_known_tags, editor), thread=True, group="tags")
        if part is not None:
            editor.focus_part(part)

    def _load_known_tags(self, editor: MetadataEditor) -> None:
        try:
            known = self.host.store.distinct_values("tag")
        except StoreError:
            return  # no completion; adding tags still works
        editor.post_message(KnownTagsLoaded(known))

    @staticmethod
    def _show_editor_tags(editor: MetadataEditor, shown: list[SessionMetadata]) -> None:
        counts: dict[str, list[Any]] = {}
        for meta in shown:
            for tag in meta.tags:
                counts.setdefault(tag.casefold(), [tag, 0])[1] += 1
        editor.show_tags([(tag, count) for tag, count in counts.values()], len(shown))

    def editor_rows(self, editor: MetadataEditor) -> list[SessionRow]:
        try:
            rows = self.host.store.fetch_rows(editor.session_keys)
        except StoreError as error:
            editor.show_message(f"Cannot read the sessions: {error}", error=True)
            return []
        return [rows[key] for key in editor.session_keys if key in rows]

    def _edit_in_editor(self, editor: MetadataEditor, name: str,
                        value_for: Callable[[SessionMetadata], object]) -> tuple[int, int]:
        """Apply an editor change to its sessions; (changed, sessions).

        The change is made against the metadata the user saw (``editor.seen``), not the one
        stored now: another instance's change meanwhile is a conflict, never overwritten.
        """
        rows = [replace(row, metadata=editor.seen.get(row.session_key, row.metadata))
                for row in self.editor_rows(editor)]
        changed = self._edit_each(rows, name, value_for, typing=True)
        if name == "tags":
            self._show_editor_tags(editor, [self.edits.effective(row.metadata) for row in rows])
        return changed, len(rows)

    def tag_submitted(self, event: MetadataEditor.TagSubmitted) -> None:
        self._add_tag(event.editor, event.text)

    def add_typed_tag(self, editor: MetadataEditor) -> bool:
        """Before the editor closes (Esc, a click on another session, a narrowing resize): a tag
        typed but not added yet is added, as Enter would; False (the editor keeps the text, the
        reason shown) when it is refused."""
        if editor.typed_tag.strip() and not self._add_tag(editor, editor.typed_tag):
            editor.focus_part("tags")
            return False
        return True

    def _add_tag(self, editor: MetadataEditor, text: str) -> bool:
        """Add the tag typed in ``editor`` to its sessions; False if it is refused (the reason is shown)."""
        try:
            tag = normalize_tag(text)
        except EditError as error:
            editor.show_message(f"Not added: {error}", error=True)  # the text stays, to be corrected
            return False
        changed, sessions = self._edit_in_editor(editor, "tags", lambda meta: add_tag(meta.tags, tag))
        editor.tag_added()
        if not changed:
            editor.show_message(f"“{tag}” is already there")
        else:
            editor.show_message(f"Added “{tag}”" + (f" to {changed} sessions" if sessions > 1 else ""))
        return True

    def tag_removed(self, event: MetadataEditor.TagRemoved) -> None:
        editor = event.editor
        changed, sessions = self._edit_in_editor(editor, "tags", lambda meta: remove_tag(meta.tags, event.tag))
        if changed:
            editor.show_message(f"Removed “{event.tag}”" + (f" from {changed} sessions" if sessions > 1 else ""))

    def note_changed(self, event: MetadataEditor.NoteChanged) -> None:
        self._edit_in_editor(event.editor, "user_note", lambda _meta: event.text or None)

    def close_editor(self) -> None:
        """Esc ("Done"): a tag typed but not added yet is added first, as Enter would; one that
        is refused (a comma...) keeps the editor open with the reason, the text in place."""
        editor = next(iter(self.editors(self.host.screen)), None)
        if editor is None or not self.add_typed_tag(editor):
            return
        editor.close()
        if isinstance(self.host.screen, DetailsScreen) and self.host.screen.edit is not None:
            self.host.pop_screen()  # opened for editing from the table: back to the table
            return
        previous = self._focus_before_edit
        # at once, not after the queued keys (focus() waits): Esc and the next key in one packet
        # from a slow link, the key goes to the list
        self.host.screen.set_focus(previous if previous is not None and previous.is_attached else self.host.table)

    def _schedule_details_refresh(self, *, typing: bool) -> None:
        """Show an edit in the details too: after the row's frame for a key, once typing pauses for text.

        (Re-rendering the panel costs a layout pass of the screen: never on a key's own frame.)
        """
        if self._edit_details_timer is not None:
            self._edit_details_timer.stop()
            self._edit_details_timer = None
        if typing:
            self._edit_details_timer = self.host.set_timer(TYPING_DETAILS_DELAY, self.show_edited_metadata)
        else:
            self.host.call_after_refresh(self.show_edited_metadata)

    def visible_panel(self) -> DetailsPanel | None:
        """The details panel on screen: full-screen, beside the list, or none (narrow list, or the
        app has closed its screens: an edit's after-refresh callback can still run then)."""
        if not self.host.screen_stack:
            return None
        if isinstance(self.host.screen, DetailsScreen):
            return self.host.screen.query_one(DetailsPanel)
        if self.host.narrow:
            return None
        return self.host.details_panel

    def show_edited_metadata(self) -> None:
        """The details panel's session with its edits (only its metadata section is drawn again)."""
        panel = self.visible_panel()
        if panel is not None and panel.stats is not None and panel.metadata is not None:
            try:
                stored = self.host.store.get_metadata(panel.metadata.session_key)
            except StoreError:
                return  # the edit is in the table and the editor; the panel catches up on the next show
            panel.show_metadata(self.edits.effective(stored))

    def refresh_details_now(self) -> None:
        if isinstance(self.host.screen, DetailsScreen):
            self.host.show_details_in(self.host.screen.query_one(DetailsPanel), self.host.screen.session_key)
        else:
            self.host.show_details(self.host.table.cursor_session_key)
        self.editor_follows_store()

    def _open_editor_here(self) -> MetadataEditor | None:
        """The open tag and note editor, if any (under a dialog too)."""
        for screen in reversed(self.host.screen_stack):
            for editor in self.editors(screen):
                if editor.is_open:
                    return editor
        return None

    def editor_follows_store(self) -> None:
        """The sessions being edited changed in the database (another instance): while the user
        has no edit of them pending, the editor shows the new values, and its edits rest on them.

        With an edit pending, the user's text stays as typed; its save shows both (a conflict).
        """
        editor = self._open_editor_here()
        if editor is None or self.edits.touches(editor.session_keys):
            return
        rows = self.editor_rows(editor)
        if rows and any(row.metadata.version != getattr(editor.seen.get(row.session_key), "version", None)
                        for row in rows):
            self.open_editor(editor, None, rows)  # on the stored values, the focus where it was

    def edits_saved(self, result: SaveResult) -> None:
        """The user's own save: the table and an open editor take its stored values as seen."""
        if (editor := self._open_editor_here()) is not None:
            clashed = {conflict.session_key for conflict in result.conflicts}
            editor.seen.update({key: meta for key, meta in result.saved.items() if key in editor.seen
                                and key not in clashed})
        self.host.table.invalidate()

    def ask(self, conflict: Conflict) -> None:
        self.host.push_screen(ConflictScreen(conflict), partial(self._resolve, conflict))

    def _resolve(self, conflict: Conflict, keep_mine: bool | None) -> None:
        self.host.saves.resolve(conflict, keep_mine)
        self.host.table.invalidate()
        self.refresh_details_now()
        editor = self._open_editor_here()
        if editor is not None and not keep_mine:  # theirs: show the stored values
            rows = self.editor_rows(editor)
            if rows:
                self.open_editor(editor, None, rows)

    def show_save_state(self) -> None:
        """The save queue's state on every screen's indicator, after the count of marked rows."""
        label = self.host.saves.text
        if self.host.table.marked:
            label = f"{len(self.host.table.marked)} marked  {label}"
        for screen in self.host.screen_stack:
            for indicator in screen.query(SaveIndicator):
                indicator.show(self.host.saves.state, label)

    def ask_about_conflicts_at_quit(self, then: Callable[[], object]) -> None:
        """Quitting with conflicts not resolved: keep mine or theirs for all of them, then ``then``
        (the quit again); or cancel, and each conflict has its dialog (those found at quit too)."""
        conflicts = list(self.host.saves.conflicts)
        shown = {id(screen.conflict) for screen in self.host.screen_stack if isinstance(screen, ConflictScreen)}

        def chosen(keep_mine: bool | None) -> None:
            if keep_mine is None:
                for conflict in conflicts:
                    if id(conflict) not in shown:
                        self.ask(conflict)
                return
            self.host.saves.resolve_all(conflicts, keep_mine)
            while isinstance(self.host.screen, ConflictScreen):  # answered for all of them
                self.host.pop_screen()
            then()

        self.host.push_screen(QuitConflictsScreen(conflicts), chosen)


def _as_left(row: SessionRow, entry: UndoEntry, shown: SessionMetadata) -> SessionRow:
    """``row`` with the metadata the undone action left, for the undo to be made against.

    While the session still shows what the action set, that is its metadata now.  When it
    shows something else (another instance changed the field since), the undo is made against
    the action's value at no particular version: the save then sees the other value and asks
    the user, as for any conflicting edit, instead of overwriting it.
    """
    left = entry.after[row.session_key]
    if settled(entry.name, getattr(shown, entry.name)) == left:
        return row
    return replace(row, metadata=replace(row.metadata, version=ANY_VERSION, **{entry.name: left}))
