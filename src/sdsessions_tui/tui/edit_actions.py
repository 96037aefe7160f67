"""The app's metadata editing: flag and rating keys, marks, "apply to all filtered", the tag and
note editor, and the debounced saves behind them.

A mixin of :class:`~.app.SessionsApp` (the list, the filter and the live updates stay
in ``app.py``).  Edits show at once through :class:`~.editing.PendingEdits` (the table
and the details draw the metadata with them); a timer saves each burst in a worker,
in one short transaction; a failure keeps the edits and retries with back-off; a
conflict with another instance is shown to the user; quitting and the signals
flush what is pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from ..core.db import StoreError
from ..core.edits import ANY_VERSION, Conflict, Edit, EditError, SaveResult, add_tag, normalize_tag, remove_tag
from ..core.store import SessionMetadata, SessionRow
from .details import DetailsPanel
from .details_screen import DetailsScreen
from .edit_screens import FIELD_LABELS, ApplyMenu, ConflictScreen, QuitConflictsScreen
from .escape_keys import split_escape_pairs
from .filter_bar import SaveIndicator
from .messages import SaveEnded
from .save_queue import SaveQueue, debounce
from .undo import UndoEntry, UndoStack, settled

if TYPE_CHECKING:
    from textual.app import App

    from ..core.store import Store
    from .metadata_editor import MetadataEditor
    from .session_table import SessionTable

    _Base = App[None]
else:
    _Base = object

#: Seconds of pause in typing a tag or note before the details panel shows it.
TYPING_DETAILS_DELAY = 0.3


class MetadataEditing(_Base):
    """Editing keys and saves; the app provides ``store``, ``table`` and the details helpers."""

    if TYPE_CHECKING:
        store: Store
        @property
        def table(self) -> SessionTable: ...

        def _absorb_own_writes(self) -> None: ...
        def deliver(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> None: ...
        @property
        def closing(self) -> bool: ...
        def _show_details(self, key: int | None) -> None: ...
        def show_details_in(self, panel: DetailsPanel, key: int | None) -> None: ...
        @property
        def details_panel(self) -> DetailsPanel | None: ...
        async def mount_details(self) -> DetailsPanel: ...
        @property
        def narrow(self) -> bool: ...

    def _init_editing(self, advance_after_rating: bool) -> None:
        split_escape_pairs()  # Esc then "-" over a slow link: Esc, then "-" (see escape_keys)
        self.saves = SaveQueue(self, self._save_in_background, self.store, self)
        """When the edits are written; see :mod:`.save_queue`."""
        self.edits = self.saves.edits
        """Edits on screen but not in the database yet; see :mod:`.editing`."""
        self.advance_after_rating = advance_after_rating
        self._focus_before_edit: Widget | None = None
        self._edit_details_timer: Timer | None = None
        self.undo = UndoStack()
        """What ``u`` takes back; see :mod:`.undo`."""
        self._undoing = False

    def _targets(self) -> list[SessionRow]:
        """The marked rows if any, else the highlighted session (or the one full-screen)."""
        if isinstance(self.screen, DetailsScreen):
            keys = [self.screen.key]
        elif self.table.marked:
            keys = [key for key in self.table.ids if key in self.table.marked]
        else:  # the common case, one key press: the row the table already holds
            cursor = self.table.cursor_row
            row = self.table.row_at(cursor) if cursor is not None else None
            return [row] if row is not None else []
        try:
            rows = self.store.fetch_rows(keys)
        except StoreError as error:
            self.notify(f"Cannot read the sessions to edit: {error}", severity="error")
            return []
        return [rows[key] for key in keys if key in rows]

    def _edit(self, rows: list[SessionRow], name: str, value: object) -> None:
        """A flag or rating key: set ``name`` on every target, then maybe move on (fast culling)."""
        self._edit_each(rows, name, lambda _shown: value)
        if self.advance_after_rating and not self.table.marked and not isinstance(self.screen, DetailsScreen):
            self.table.action_cursor_down()

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
                changed.append(row.id)
                before[row.id], after[row.id] = getattr(shown, name), value
        if changed and undoable:
            self.undo.record(name, before, after, now=time.monotonic(), window=debounce(typing=typing))
        if changed:
            self.table.redraw(changed)
            if self.table.cursor_key in changed or isinstance(self.screen, DetailsScreen):
                self._schedule_details_refresh(typing=typing)
            self.saves.edited(typing=typing)
        return len(changed)

    def action_toggle_flag(self, name: str) -> None:
        rows = self._targets()
        if rows:
            value = not all(getattr(self.edits.effective(row.metadata), name) for row in rows)
            self._edit(rows, name, value)

    def action_rate(self, rating: str | None) -> None:
        rows = self._targets()
        if rows:
            self._edit(rows, "user_rating", rating)

    def action_clear_marks(self) -> None:
        if self.table.marked:
            self.table.clear_marks()
            self.show_save_state()

    def action_toggle_mark(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self.table.toggle_mark(key)
            self.table.action_cursor_down()
            self.show_save_state()

    def action_apply_filtered(self) -> None:
        ids = list(self.table.ids)
        if not ids:
            self.notify("No sessions in this filter", severity="warning")
            return
        self.push_screen(ApplyMenu(len(ids)), partial(self._apply_to, ids))

    def _apply_to(self, ids: list[int], choice: tuple[str, object] | None) -> None:
        if choice is not None:
            self._bulk_worker(ids, *choice)

    @work(thread=True, group="bulk")
    def _bulk_worker(self, ids: list[int], name: str, value: object) -> None:
        previous: dict[int, dict[str, Any]] = {}  # each session's value before: what undoing puts back
        try:
            changed = self.store.set_metadata_many(ids, {name: value}, previous=previous)
        except StoreError as error:
            self.deliver(self.notify, f"Not applied: {error}", severity="error", timeout=10)
            return
        self.deliver(self._after_bulk, changed, name, value, previous)

    def _after_bulk(self, changed: int, name: str, value: object, previous: dict[int, dict[str, Any]]) -> None:
        self.undo.record(name, {key: values[name] for key, values in previous.items()},
                         dict.fromkeys(previous, value), now=time.monotonic())
        self._absorb_own_writes()
        self.table.invalidate()
        self._refresh_details_now()
        self.notify(f"Applied to {changed:,} sessions".replace(",", " "))

    def action_undo(self) -> None:
        """Put back the values the last edit action changed, as edits of their own (saved like any
        edit: a session another instance changed since is a conflict, shown to the user)."""
        if self._undoing:  # one at a time: two undos of one field must land in their order
            self.notify("Still undoing the last edit")
            return
        entry = self.undo.pop()
        if entry is None:
            self.notify("Nothing to undo")
            return
        self._undoing = True
        self._undo_worker(entry)

    @work(thread=True, group="undo")
    def _undo_worker(self, entry: UndoEntry) -> None:
        """The sessions' rows as stored now (off the UI thread: an undone ``A`` can hold 100 000)."""
        try:
            rows = self.store.fetch_rows(list(entry.before))
        except StoreError as error:
            self.deliver(self._undo_failed, error)
            return
        self.deliver(self._undo_with, entry, rows)

    def _undo_failed(self, error: StoreError) -> None:
        self._undoing = False
        self.notify(f"Not undone: {error}", severity="error", timeout=10)

    def _undo_with(self, entry: UndoEntry, rows: dict[int, SessionRow]) -> None:
        self._undoing = False
        self._edit_each([_as_left(row, entry, self.edits.effective(row.metadata)) for row in rows.values()],
                        entry.name, lambda meta: entry.before[meta.session_key], undoable=False)
        sessions = len(entry.before)
        self.notify(f"Undid: {FIELD_LABELS.get(entry.name, entry.name)} on {sessions:,} "
                    f"session{'s' if sessions > 1 else ''}".replace(",", " "))
        editor: Any = next(iter(self.screen.query("MetadataEditor")), None)
        if editor is not None and editor.is_open and set(editor.keys) & set(entry.before):
            focused = self.focused  # the editor shows the values put back; the focus stays
            self.open_editor(editor, "note" if entry.name == "user_note" else "tags", self._editor_rows(editor))
            if focused is not None:
                focused.focus()

    # --- the tag and note editor ------------------------------------------------------------------

    async def action_edit_tags(self) -> None:
        await self._start_editing("tags")

    async def action_edit_note(self) -> None:
        await self._start_editing("note")

    async def _start_editing(self, part: str) -> None:
        rows = self._targets()
        if not rows:
            return
        if self.narrow and not isinstance(self.screen, DetailsScreen):
            key = self.table.cursor_key
            self.push_screen(DetailsScreen(key if key is not None else rows[0].id, edit=(part, rows)))
        else:
            self.open_editor(await self.editor_on(self.screen), part, rows)

    async def editor_on(self, screen: Screen[Any]) -> MetadataEditor:
        """The screen's tag and note editor, mounted above its details panel at first use.

        (Not composed up front: its dozen widgets and TextArea's import would cost every launch.)
        """
        from .metadata_editor import MetadataEditor

        found = screen.query(MetadataEditor)
        if found:
            return found.first()
        editor = MetadataEditor()
        panel = screen.query_one(DetailsPanel) if isinstance(screen, DetailsScreen) else await self.mount_details()
        await cast(Widget, panel.parent).mount(editor, before=panel)  # (a mounted panel's parent: a widget)
        return editor

    def open_editor(self, editor: MetadataEditor, part: str | None, rows: list[SessionRow]) -> None:
        """Edit the tags (``part`` "tags") or the note ("note") of these sessions in ``editor``
        (``part`` None: the focus stays where it is)."""
        if not editor.is_open:
            self._focus_before_edit = self.focused
        shown = [self.edits.effective(row.metadata) for row in rows]
        notes = {meta.user_note or "" for meta in shown}
        title = f"Editing {len(rows)} marked sessions" if len(rows) > 1 else f"Editing {rows[0].display_name}"
        editor.seen = {row.id: row.metadata for row in rows}
        if len(notes) == 1:
            editor.open([row.id for row in rows], title, notes.pop())
        else:
            editor.open([row.id for row in rows], title, "",
                        note_reason="These sessions have different notes: edit those one at a time")
        self._show_editor_tags(editor, shown)
        self._load_known_tags(editor)
        if part is not None:
            editor.focus_part(part)

    @work(thread=True, group="tags")
    def _load_known_tags(self, editor: MetadataEditor) -> None:
        try:
            known = self.store.distinct_values("tag")
        except StoreError:
            return  # no completion; adding tags still works
        self.deliver(editor.set_known_tags, known)

    @staticmethod
    def _show_editor_tags(editor: MetadataEditor, shown: list[SessionMetadata]) -> None:
        counts: dict[str, list[Any]] = {}
        for meta in shown:
            for tag in meta.tags:
                counts.setdefault(tag.casefold(), [tag, 0])[1] += 1
        editor.show_tags([(tag, count) for tag, count in counts.values()], len(shown))

    def _editor_rows(self, editor: MetadataEditor) -> list[SessionRow]:
        try:
            rows = self.store.fetch_rows(editor.keys)
        except StoreError as error:
            editor.show_message(f"Cannot read the sessions: {error}", error=True)
            return []
        return [rows[key] for key in editor.keys if key in rows]

    def _edit_in_editor(self, editor: MetadataEditor, name: str,
                        value_for: Callable[[SessionMetadata], object]) -> tuple[int, int]:
        """Apply an editor change to its sessions; (changed, sessions).

        The change is made against the metadata the user saw (``editor.seen``), not the one
        stored now: another instance's change meanwhile is a conflict, never overwritten.
        """
        rows = [replace(row, metadata=editor.seen.get(row.id, row.metadata)) for row in self._editor_rows(editor)]
        changed = self._edit_each(rows, name, value_for, typing=True)
        if name == "tags":
            self._show_editor_tags(editor, [self.edits.effective(row.metadata) for row in rows])
        return changed, len(rows)

    def on_metadata_editor_tag_submitted(self, event: MetadataEditor.TagSubmitted) -> None:
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

    def on_metadata_editor_tag_removed(self, event: MetadataEditor.TagRemoved) -> None:
        editor = event.editor
        changed, sessions = self._edit_in_editor(editor, "tags", lambda meta: remove_tag(meta.tags, event.tag))
        if changed:
            editor.show_message(f"Removed “{event.tag}”" + (f" from {changed} sessions" if sessions > 1 else ""))

    def on_metadata_editor_note_changed(self, event: MetadataEditor.NoteChanged) -> None:
        self._edit_in_editor(event.editor, "user_note", lambda _meta: event.text or None)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A keystroke in the tag input delays a pending save, like one in the note."""
        if event.input.id == "tag-input":
            self.saves.still_typing()

    def action_close_editor(self) -> None:
        """Esc ("Done"): a tag typed but not added yet is added first, as Enter would; one that
        is refused (a comma...) keeps the editor open with the reason, the text in place."""
        editor = cast("MetadataEditor", self.screen.query_one("MetadataEditor"))  # (by name: see _open_editor_here)
        if not self.add_typed_tag(editor):
            return
        editor.close()
        if isinstance(self.screen, DetailsScreen) and self.screen.edit is not None:
            self.pop_screen()  # opened for editing from the table: back to the table
            return
        previous = self._focus_before_edit
        # at once, not after the queued keys (focus() waits): Esc and the next key in one packet
        # from a slow link, the key goes to the list
        self.screen.set_focus(previous if previous is not None and previous.is_attached else self.table)

    def _schedule_details_refresh(self, *, typing: bool) -> None:
        """Show an edit in the details too: after the row's frame for a key, once typing pauses for text.

        (Re-rendering the panel costs a layout pass of the screen: never on a key's own frame.)
        """
        if self._edit_details_timer is not None:
            self._edit_details_timer.stop()
            self._edit_details_timer = None
        if typing:
            self._edit_details_timer = self.set_timer(TYPING_DETAILS_DELAY, self._show_edited_metadata)
        else:
            self.call_after_refresh(self._show_edited_metadata)

    def _visible_panel(self) -> DetailsPanel | None:
        """The details panel on screen: full-screen, beside the list, or none (narrow list, or the
        app has closed its screens: an edit's after-refresh callback can still run then)."""
        if not self.screen_stack:
            return None
        if isinstance(self.screen, DetailsScreen):
            return self.screen.query_one(DetailsPanel)
        if self.narrow:
            return None
        return self.details_panel

    def _show_edited_metadata(self) -> None:
        """The details panel's session with its edits (only its metadata section is drawn again)."""
        panel = self._visible_panel()
        if panel is not None and panel.stats is not None and panel.metadata is not None:
            try:
                stored = self.store.get_metadata(panel.metadata.session_key)
            except StoreError:
                return  # the edit is in the table and the editor; the panel catches up on the next show
            panel.show_metadata(self.edits.effective(stored))

    def _refresh_details_now(self) -> None:
        if isinstance(self.screen, DetailsScreen):
            self.show_details_in(self.screen.query_one(DetailsPanel), self.screen.key)
        else:
            self._show_details(self.table.cursor_key)
        self._editor_follows_store()

    def _open_editor_here(self) -> MetadataEditor | None:
        """The open tag and note editor, if any (under a dialog too)."""
        for screen in reversed(self.screen_stack):
            for widget in screen.query("MetadataEditor"):  # (by name: its module is imported at its first use)
                editor = cast("MetadataEditor", widget)
                if editor.is_open:
                    return editor
        return None

    def _editor_follows_store(self) -> None:
        """The sessions being edited changed in the database (another instance): while the user
        has no edit of them pending, the editor shows the new values, and its edits rest on them.

        With an edit pending, the user's text stays as typed; its save shows both (a conflict).
        """
        editor = self._open_editor_here()
        if editor is None or self.edits.touches(editor.keys):
            return
        rows = self._editor_rows(editor)
        if rows and any(row.metadata.version != getattr(editor.seen.get(row.id), "version", None) for row in rows):
            self.open_editor(editor, None, rows)  # on the stored values, the focus where it was

    def action_save_now(self) -> None:
        self.saves.save_now()

    def _save_in_background(self, burst: list[Edit]) -> None:
        """The save queue's background save: its end reaches the queue as a :class:`~.messages.SaveEnded`."""
        self.run_worker(partial(self._save_worker, burst), thread=True, group="save", exit_on_error=False)

    def _save_worker(self, burst: list[Edit]) -> None:
        outcome: SaveResult | BaseException
        try:
            outcome = self.store.apply_edits(burst)
        except Exception as error:  # noqa: BLE001 - any error: the queue keeps the edits and retries
            outcome = error
        self.post_message(SaveEnded(outcome))

    def on_save_ended(self, message: SaveEnded) -> None:
        if not self.closing:  # (closing: the quit already flushed what was pending)
            self.saves.save_ended(message.outcome)

    def edits_saved(self, result: SaveResult) -> None:
        """The user's own save: the table and an open editor take its stored values as seen."""
        self._absorb_own_writes()
        if (editor := self._open_editor_here()) is not None:
            clashed = {conflict.session_key for conflict in result.conflicts}
            editor.seen.update({key: meta for key, meta in result.saved.items() if key in editor.seen
                                and key not in clashed})
        self.table.invalidate()

    def ask(self, conflict: Conflict) -> None:
        self.push_screen(ConflictScreen(conflict), partial(self._resolve, conflict))

    def _resolve(self, conflict: Conflict, keep_mine: bool | None) -> None:
        self.saves.resolve(conflict, keep_mine)
        self.table.invalidate()
        self._refresh_details_now()
        editor = self._open_editor_here()
        if editor is not None and not keep_mine:  # theirs: show the stored values
            rows = self._editor_rows(editor)
            if rows:
                self.open_editor(editor, None, rows)

    def show_save_state(self) -> None:
        """The save queue's state on every screen's indicator, after the count of marked rows."""
        label = self.saves.text
        if self.table.marked:
            label = f"{len(self.table.marked)} marked  {label}"
        for screen in self.screen_stack:
            for indicator in screen.query(SaveIndicator):
                indicator.show(self.saves.state, label)

    def ask_about_conflicts_at_quit(self, then: Callable[[], object]) -> None:
        """Quitting with conflicts not resolved: keep mine or theirs for all of them, then ``then``
        (the quit again); or cancel, and each conflict has its dialog (those found at quit too)."""
        conflicts = list(self.saves.conflicts)
        shown = {id(screen.conflict) for screen in self.screen_stack if isinstance(screen, ConflictScreen)}

        def chosen(keep_mine: bool | None) -> None:
            if keep_mine is None:
                for conflict in conflicts:
                    if id(conflict) not in shown:
                        self.ask(conflict)
                return
            self.saves.resolve_all(conflicts, keep_mine)
            while isinstance(self.screen, ConflictScreen):  # answered for all of them
                self.pop_screen()
            then()

        self.push_screen(QuitConflictsScreen(conflicts), chosen)


def _as_left(row: SessionRow, entry: UndoEntry, shown: SessionMetadata) -> SessionRow:
    """``row`` with the metadata the undone action left, for the undo to be made against.

    While the session still shows what the action set, that is its metadata now.  When it
    shows something else (another instance changed the field since), the undo is made against
    the action's value at no particular version: the save then sees the other value and asks
    the user, as for any conflicting edit, instead of overwriting it.
    """
    left = entry.after[row.id]
    if settled(entry.name, getattr(shown, entry.name)) == left:
        return row
    return replace(row, metadata=replace(row.metadata, version=ANY_VERSION, **{entry.name: left}))
