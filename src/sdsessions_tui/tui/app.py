"""The sdsessions Textual app: filter bar, virtual session table, details panel.

The database is shown as soon as the app paints (a known DB needs no scan);
the roots are refreshed afterwards in a thread worker.  Every query runs in a
worker too, debounced, so typing never waits for SQLite; a stale result (an
older query finishing late) is dropped.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, OptionList, ProgressBar, Select
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ..core.filters import SORT_COLUMNS, ParsedQuery, SessionFilter, SessionSort
from ..core.query import QueryError, parse_query
from ..core.db import StoreError
from ..core.edits import Conflict, EditError, SaveResult, add_tag, normalize_tag, remove_tag
from ..core.store import SessionMetadata, SessionRow, Store
from ..core.text import clean_text
from .commands import Command, bindings, palette_commands
from .details import DetailsPanel
from .edit_screens import ApplyMenu, ConflictScreen
from .editing import PendingEdits, SaveState
from .filter_bar import FilterBar, SaveIndicator
from .help import HelpScreen
from .session_table import SessionTable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..core.refresh import RefreshSummary
    from ..core.watch import WatchBatch
    from .metadata_editor import MetadataEditor

#: Columns at which the details panel fits beside the table.
WIDE = 120
FILTER_DEBOUNCE = 0.15
DETAILS_DEBOUNCE = 0.04
#: On top of DETAILS_DEBOUNCE: holding ↓ still never decodes an image per row.
THUMBNAIL_DELAY = 0.06
THUMBNAIL_CACHE_BYTES = 200 * 1024 * 1024
#: Seconds after the last flag or rating key before the burst is written.
FLAG_SAVE_DELAY = 0.5
#: Seconds after the last keystroke in the tag or note editor.
TEXT_SAVE_DELAY = 1.0
#: Seconds of pause in typing a tag or note before the details panel shows it.
TYPING_DETAILS_DELAY = 0.3
#: Seconds between checks for changes other programs made to the database.
EXTERNAL_CHECK_INTERVAL = 1.0
#: Worker groups that write to the database: their commits are not "other programs' changes".
WRITING_GROUPS = frozenset({"save", "bulk", "recompute", "refresh"})
#: Back-off between automatic retries of a failed save (the last one repeats).
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
SAVE_STATE_TEXT = {"idle": "", "unsaved": "● unsaved", "saving": "… saving", "saved": "✓ saved"}
NOTHING_KNOWN = ("No sessions yet. Start with a sessions folder:  sdsessions ~/path/to/results\n"
                 "or open the demo:  sdsessions demo /tmp/sdsessions-demo && sdsessions /tmp/sdsessions-demo")


def stylesheet() -> Path:
    """``screens.tcss``: inside the installed wheel, else at the repository root (editable installs)."""
    packaged = resources.files("sdsessions_tui") / "screens.tcss"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "screens.tcss"


class RegistryCommands(Provider):
    """The command palette, fed by the command registry."""

    async def discover(self) -> Hits:
        for command in palette_commands():
            yield DiscoveryHit(command.description, partial(self.app.run_command, command),  # type: ignore[attr-defined]
                               help=command.id)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands():
            score = matcher.match(command.description)
            if score > 0:
                yield Hit(score, matcher.highlight(command.description),
                          partial(self.app.run_command, command), help=command.id)  # type: ignore[attr-defined]


class SortMenu(ModalScreen[str]):
    """Pick a sort column; picking the current one flips the direction."""

    BINDINGS = [("escape", "dismiss", "Close")]

    def __init__(self, current: SessionSort) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for column in SORT_COLUMNS:
            mark = (" ▼" if self.current.descending else " ▲") if column == self.current.column else ""
            options.append(Option(f"{column}{mark}", id=column))
        menu = OptionList(*options, id="sort-menu")
        menu.border_title = "Sort by"
        yield menu
        yield Footer()

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        menu.highlighted = SORT_COLUMNS.index(self.current.column)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class DetailsScreen(Screen[None]):
    """The details panel full-screen, for terminals narrower than :data:`WIDE` columns.

    ``edit``: open the tag or note editor at once, on these sessions (``e`` or ``n`` pressed
    in the table); closing the editor then closes the screen too.
    """

    def __init__(self, key: int, edit: tuple[str, list[SessionRow]] | None = None) -> None:
        super().__init__()
        self.key = key
        self.edit = edit

    def compose(self) -> ComposeResult:
        yield SaveIndicator()
        yield DetailsPanel(thumbnail_cache=self.app.thumbnail_cache, id="details-full")  # type: ignore[attr-defined]
        yield Footer()

    async def on_mount(self) -> None:
        panel = self.query_one(DetailsPanel)
        self.app.show_details_in(panel, self.key)  # type: ignore[attr-defined]
        panel.focus()
        self.app.show_save_state()  # type: ignore[attr-defined]  (the indicator of this screen)
        if self.edit is not None:
            editor = await self.app.editor_on(self)  # type: ignore[attr-defined]
            self.app.open_editor(editor, *self.edit)  # type: ignore[attr-defined]


class SessionsApp(App[None]):
    CSS_PATH = stylesheet()
    TITLE = "sdsessions"
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {RegistryCommands}

    def __init__(self, store: Store, roots: Sequence[Path], *, keymap: dict[str, str] | None = None,
                 thumbnail_cache: Path | None = None, refresh_on_start: bool = True, theme: str | None = None,
                 first_ids: Future[list[int]] | None = None, advance_after_rating: bool = False,
                 watch: bool = True, poll: bool = False) -> None:
        """``first_ids``: the unfiltered id list, already being fetched (the CLI starts it before
        importing Textual, so the query overlaps the imports and the first frame has rows).
        ``watch``: keep the list current as the roots change (``poll``: by polling)."""
        super().__init__()
        self._first_ids = first_ids
        self.store = store
        self.roots = list(roots)
        self.keymap = dict(keymap or {})
        self.thumbnail_cache = thumbnail_cache
        self.refresh_on_start = refresh_on_start
        self.parsed = ParsedQuery()
        self.sort = SessionSort()
        self.total = 0
        self._generation = itertools.count()
        self._latest = 0
        self._filter_timer: Timer | None = None
        self._details_timer: Timer | None = None
        self._shown = False
        self._quit_anyway = False
        self.save_state: SaveState = "idle"
        self._save_text = ""
        self.edits = PendingEdits()
        """Edits on screen but not in the database yet; see :mod:`.editing`."""
        self._save_timer: Timer | None = None
        self._save_worker: Worker[SaveResult] | None = None
        self._save_failures = 0
        self.advance_after_rating = advance_after_rating
        self.watching = watch
        """The roots are watched (pause and resume from the command palette)."""
        self.poll = poll
        self._watch_stop = threading.Event()
        self._focus_before_edit: Widget | None = None
        self._data_version: int | None = None
        self._edit_details_timer: Timer | None = None
        if theme:
            self.theme = theme

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter-bar")
        with Horizontal(id="main"):
            yield SessionTable(self.store, id="sessions")
            with Vertical(id="side"):  # the tag and note editor is mounted above the panel at first use
                yield DetailsPanel(thumbnail_cache=self.thumbnail_cache, thumbnail_delay=THUMBNAIL_DELAY,
                                   id="details")
        yield ProgressBar(id="refresh-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.table.metadata_overlay = self.edits.effective
        self._install_signal_handlers()
        self.table.focus()
        self._apply_width(self.size.width)
        if self._first_ids is None:
            self.run_query("")  # the first result starts the background work (see _show_result)
            return
        ids, self._first_ids = self._first_ids.result(), None
        self._latest = next(self._generation)
        self._show_result(ParsedQuery(), self.sort, ids, len(ids), self._latest)

    def on_resize(self, event: object) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        was_narrow = self.screen.has_class("-narrow")
        self.screen.set_class(width < WIDE, "-narrow")
        if was_narrow and width >= WIDE:  # the panel was not updated while hidden
            self._show_details(self.table.cursor_key)

    @property
    def table(self) -> SessionTable:
        return self.query_one("#sessions", SessionTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    # --- filtering --------------------------------------------------------------------------------

    def on_filter_bar_query_edited(self, event: FilterBar.QueryEdited) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()  # Timer.reset() would not restart the countdown
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, partial(self.run_query, event.text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "query":  # Enter: run the query now and go back to the list
            if self._filter_timer is not None:
                self._filter_timer.stop()
            self.run_query(event.value)
            self.table.focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("model-picker", "date-picker"):
            self.filter_bar.apply_picker(event.select.id, event.value, self.parsed.filter, self.parsed.sort)

    def run_query(self, text: str) -> None:
        try:
            parsed = parse_query(text)
        except QueryError as error:
            self.filter_bar.show_error(error.message)  # the last good result stays
            return
        self.filter_bar.show_error(None)
        self._latest = next(self._generation)
        self._query_worker(parsed, self._latest)

    @work(thread=True, group="query")
    def _query_worker(self, parsed: ParsedQuery, generation: int) -> None:
        sort = parsed.sort or self.sort
        ids = self.store.list_ids(parsed.filter, sort)
        total = self.total
        if not total:
            total = len(ids) if parsed.filter == SessionFilter() else len(self.store.list_ids())
        self.call_from_thread(self._show_result, parsed, sort, ids, total, generation)

    def _show_result(self, parsed: ParsedQuery, sort: SessionSort, ids: list[int], total: int,
                     generation: int) -> None:
        if generation != self._latest:
            return  # an older query finished late
        first = not self._shown
        self._shown = True
        self.parsed, self.total = parsed, total
        self.table.set_sort(sort)
        self.table.empty_message = NOTHING_KNOWN if not total else "No sessions match this filter"
        self.table.set_ids(ids)
        self.filter_bar.show_result(len(ids), total)
        self.filter_bar.show_filter(parsed.filter)
        if first:  # after the first rows are on screen: nothing competes with the first paint
            self.call_after_refresh(self._start_background_work)

    def _start_background_work(self) -> None:
        self.load_models()
        self.prune_thumbnails()
        self._absorb_own_writes()
        self.set_interval(EXTERNAL_CHECK_INTERVAL, self._check_external_changes)
        if self.refresh_on_start and self.roots:
            self.refresh_roots()
        if self.watching:
            self._start_watching()

    @work(thread=True, group="models")
    def load_models(self) -> None:
        models = self.store.distinct_values("model", limit=50)
        self.call_from_thread(self.filter_bar.set_models, models)

    @work(thread=True, group="housekeeping")
    def prune_thumbnails(self) -> None:
        from ..core.thumbnails import default_cache_dir, prune_cache

        prune_cache(self.thumbnail_cache or default_cache_dir(), THUMBNAIL_CACHE_BYTES)

    def _absorb_own_writes(self) -> None:
        """Our own commits are shown already: remember the database's version after them.

        (A commit by another program in the same instant is then picked up with the next one.)
        """
        try:
            self._data_version = self.store.data_version()
        except StoreError:
            self._data_version = None

    def _check_external_changes(self) -> None:
        """Another instance (or a headless refresh) wrote: show its changes, keep the cursor."""
        if any(worker.group in WRITING_GROUPS and not worker.is_finished for worker in self.workers):
            return  # our own writes: absorbed when they end
        try:
            version = self.store.data_version()
        except StoreError:
            return
        if self._data_version is None or version == self._data_version:
            self._data_version = version
            return
        self._data_version = version
        self.table.invalidate()
        self._refresh_details_now()
        self.requery()

    def requery(self) -> None:
        self.total = 0
        self.run_query(self.filter_bar.query_input.value)

    # --- table and details ------------------------------------------------------------------------

    def on_session_table_highlighted(self, event: SessionTable.Highlighted) -> None:
        if self._details_timer is not None:
            self._details_timer.stop()
        self._details_timer = self.set_timer(DETAILS_DEBOUNCE, partial(self._show_details, event.key))

    def _show_details(self, key: int | None) -> None:
        if not self.screen.has_class("-narrow"):
            for editor in self.query("MetadataEditor"):
                if editor.is_open and editor.keys != [key] and not self.table.marked:  # type: ignore[attr-defined]
                    editor.close()  # type: ignore[attr-defined]  (another session under the cursor: a click)
            self.show_details_in(self.query_one("#details", DetailsPanel), key)

    def show_details_in(self, panel: DetailsPanel, key: int | None) -> None:
        found = self.store.get_session(key) if key is not None else None
        if found is None:
            panel.show(None, None)
            return
        stats, metadata = found
        row = self.table.row_at(self.table.cursor_row) if self.table.cursor_row is not None else None
        panel.show(stats, self.edits.effective(metadata), unavailable=bool(row and row.id == key and row.is_unavailable))

    def on_session_table_selected(self, event: SessionTable.Selected) -> None:
        if self.screen.has_class("-narrow"):
            self.push_screen(DetailsScreen(event.key))
        else:
            self.query_one("#details", DetailsPanel).focus()

    def on_session_table_sort_requested(self, event: SessionTable.SortRequested) -> None:
        self._sort_by(event.column)

    def _sort_by(self, column: str | None) -> None:
        if not column:
            return
        descending = not self.sort.descending if column == self.sort.column else column in ("date", "images")
        self.sort = SessionSort(column, descending)  # type: ignore[arg-type]
        self.run_query(self.filter_bar.query_input.value)

    # --- live updates ----------------------------------------------------------------------------

    class WatchBatchDone(Message):
        """The watcher wrote a batch of changes (posted from its thread)."""

        def __init__(self, batch: WatchBatch) -> None:
            super().__init__()
            self.batch = batch

    class WatchNotice(Message):
        def __init__(self, text: str, severity: str = "warning") -> None:
            super().__init__()
            self.text, self.severity = text, severity

    def _start_watching(self) -> None:
        roots = [str(root) for root in self.roots if root.is_dir()]
        if roots:
            # A batch of 1 000 sessions is ~1 s of Python on the watcher's thread: a key must not
            # wait the default 5 ms for the GIL at every switch (measured: worst key 153 → ~40 ms).
            sys.setswitchinterval(0.001)
            self._watch_stop = threading.Event()
            self._watch_worker(roots, self._watch_stop)

    @work(thread=True, group="watch")
    def _watch_worker(self, roots: list[str], stop: threading.Event) -> None:
        from ..core.watch import watch

        try:
            watch(self.store, roots, stop, poll=self.poll, on_batch=lambda batch: self.post_message(
                self.WatchBatchDone(batch)), notice=lambda text: self.post_message(self.WatchNotice(text)))
        except (StoreError, OSError) as error:
            self.post_message(self.WatchNotice(f"Watching stopped: {error}", "error"))

    def on_sessions_app_watch_batch_done(self, event: WatchBatchDone) -> None:
        """New sessions appear where the sort puts them; the cursor, filter, scroll and edits stay."""
        self._absorb_own_writes()
        self.table.invalidate()
        panel = self.screen.query(DetailsPanel).first() if self.screen.query(DetailsPanel) else None
        if panel is not None and panel.stats is not None and panel.stats.session_path in event.batch.changed:
            self._refresh_details_now()
        self.requery()
        if event.batch.new or event.batch.relinked:
            self.load_models()

    def on_sessions_app_watch_notice(self, event: WatchNotice) -> None:
        self.notify(event.text, severity=event.severity, timeout=10)  # type: ignore[arg-type]

    def action_toggle_watch(self) -> None:
        if not self.roots:
            self.notify("No sessions folder to watch: start sdsessions with a ROOT", severity="warning")
            return
        self.watching = not self.watching
        if self.watching:
            self._start_watching()
            self.refresh_roots()  # what changed while paused
            self.notify("Watching the sessions folders again")
        else:
            self._watch_stop.set()
            self.notify("Watching paused: the list changes only on R (refresh all)")

    def on_unmount(self) -> None:
        self._watch_stop.set()  # the watcher's thread ends within a step (50 ms): a prompt exit

    # --- actions (named in the command registry) --------------------------------------------------

    def action_focus_filter(self) -> None:
        self.filter_bar.query_input.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_close_details(self) -> None:
        if isinstance(self.screen, DetailsScreen):
            self.pop_screen()
        else:
            self.table.focus()

    def action_sort_menu(self) -> None:
        self.push_screen(SortMenu(self.sort), self._sort_by)

    def action_show_help(self) -> None:
        focused = self.focused
        scopes: tuple[str, ...] = ("app",)
        from .metadata_editor import MetadataEditor, TagList

        in_editor = focused is not None and any(isinstance(node, MetadataEditor) for node in focused.ancestors)
        if isinstance(focused, TagList):
            scopes = ("tags", "editor", "app")
        elif in_editor:
            scopes = ("editor", "app")
        elif isinstance(focused, SessionTable):
            scopes = ("table", "edit", "app")
        elif isinstance(focused, DetailsPanel):
            scopes = ("details", "edit", "app")
        elif isinstance(focused, Input):
            scopes = ("filter", "app")
        self.push_screen(HelpScreen(scopes, self.keymap))

    def action_recompute(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self._recompute(key)

    @work(thread=True, group="recompute")
    def _recompute(self, key: int) -> None:
        self.store.recompute(key)
        self.call_from_thread(self._after_recompute, key)

    def _after_recompute(self, key: int) -> None:
        self._absorb_own_writes()
        self.table.invalidate([key])
        self._show_details(key)
        self.notify("Session re-read from disk")

    def action_refresh_all(self) -> None:
        if not self.roots:
            self.notify("No sessions folder to refresh: start sdsessions with a ROOT", severity="warning")
            return
        self.refresh_roots()

    @work(thread=True, exclusive=True, group="refresh")
    def refresh_roots(self) -> None:
        from ..core.refresh import refresh  # with SQLAlchemy for the writes: off the first paint

        bar = self.query_one("#refresh-progress", ProgressBar)
        self.call_from_thread(bar.add_class, "-active")
        roots = [root for root in self.roots if root.is_dir()]
        if not roots:  # remembered folders on an unmounted drive: nothing to scan
            self.call_from_thread(bar.remove_class, "-active")
            return
        summary = refresh(self.store, roots,
                          progress=lambda done, total: self.call_from_thread(bar.update, progress=done, total=total))
        self.call_from_thread(self._after_refresh, bar, summary)

    def _after_refresh(self, bar: ProgressBar, summary: RefreshSummary) -> None:
        bar.remove_class("-active")
        self._absorb_own_writes()
        if not (summary.new or summary.updated or summary.unavailable):
            return
        self.table.invalidate()
        self.requery()
        self.load_models()
        if summary.new or summary.unavailable:  # running sessions are re-read every time: not news
            self.notify(f"{summary.new} new, {summary.unavailable} gone")

    # --- editing metadata -------------------------------------------------------------------------

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
        self._edit_each(rows, name, lambda _shown: value, FLAG_SAVE_DELAY)
        if self.advance_after_rating and not self.table.marked and not isinstance(self.screen, DetailsScreen):
            self.table.action_cursor_down()

    def _edit_each(self, rows: list[SessionRow], name: str, value_for: Callable[[SessionMetadata], object],
                   delay: float) -> int:
        """Set ``name`` to ``value_for(metadata on screen)`` on each row it changes; show it, schedule the save.

        Returns how many sessions changed.
        """
        changed = []
        for row in rows:
            shown = self.edits.effective(row.metadata)
            value = value_for(shown)
            if value != getattr(shown, name):
                self.edits.change(row.metadata, name, value)
                changed.append(row.id)
        if changed:
            self.table.redraw(changed)
            if self.table.cursor_key in changed or isinstance(self.screen, DetailsScreen):
                self._schedule_details_refresh(typing=delay == TEXT_SAVE_DELAY)
            self._schedule_save(delay)
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
        try:
            changed = self.store.set_metadata_many(ids, {name: value})
        except StoreError as error:
            self.call_from_thread(self.notify, f"Not applied: {error}", severity="error", timeout=10)
            return
        self.call_from_thread(self._after_bulk, changed)

    def _after_bulk(self, changed: int) -> None:
        self._absorb_own_writes()
        self.table.invalidate()
        self._refresh_details_now()
        self.notify(f"Applied to {changed:,} sessions".replace(",", " "))

    # --- the tag and note editor ------------------------------------------------------------------

    async def action_edit_tags(self) -> None:
        await self._start_editing("tags")

    async def action_edit_note(self) -> None:
        await self._start_editing("note")

    async def _start_editing(self, part: str) -> None:
        rows = self._targets()
        if not rows:
            return
        if self.screen.has_class("-narrow") and not isinstance(self.screen, DetailsScreen):
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
        panel = screen.query_one(DetailsPanel)
        await panel.parent.mount(editor, before=panel)  # type: ignore[union-attr]
        return editor

    def open_editor(self, editor: MetadataEditor, part: str, rows: list[SessionRow]) -> None:
        """Edit the tags (``part`` "tags") or the note ("note") of these sessions in ``editor``."""
        if not editor.is_open:
            self._focus_before_edit = self.focused
        shown = [self.edits.effective(row.metadata) for row in rows]
        notes = {meta.user_note or "" for meta in shown}
        title = f"Editing {len(rows)} marked sessions" if len(rows) > 1 else f"Editing {rows[0].display_name}"
        if len(notes) == 1:
            editor.open([row.id for row in rows], title, notes.pop())
        else:
            editor.open([row.id for row in rows], title, "",
                        note_reason="These sessions have different notes: edit those one at a time")
        self._show_editor_tags(editor, shown)
        self._load_known_tags(editor)
        editor.focus_part(part)

    @work(thread=True, group="tags")
    def _load_known_tags(self, editor: MetadataEditor) -> None:
        try:
            known = self.store.distinct_values("tag")
        except StoreError:
            return  # no completion; adding tags still works
        self.call_from_thread(setattr, editor, "known_tags", known)

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
        """Apply an editor change to its sessions; (changed, sessions)."""
        rows = self._editor_rows(editor)
        changed = self._edit_each(rows, name, value_for, TEXT_SAVE_DELAY)
        if name == "tags":
            self._show_editor_tags(editor, [self.edits.effective(row.metadata) for row in rows])
        return changed, len(rows)

    def on_metadata_editor_tag_submitted(self, event: MetadataEditor.TagSubmitted) -> None:
        editor = event.editor
        try:
            tag = normalize_tag(event.text)
        except EditError as error:
            editor.show_message(f"Not added: {error}", error=True)  # the text stays, to be corrected
            return
        changed, sessions = self._edit_in_editor(editor, "tags", lambda meta: add_tag(meta.tags, tag))
        editor.tag_added()
        if not changed:
            editor.show_message(f"“{tag}” is already there")
        else:
            editor.show_message(f"Added “{tag}”" + (f" to {changed} sessions" if sessions > 1 else ""))

    def on_metadata_editor_tag_removed(self, event: MetadataEditor.TagRemoved) -> None:
        editor = event.editor
        changed, sessions = self._edit_in_editor(editor, "tags", lambda meta: remove_tag(meta.tags, event.tag))
        if changed:
            editor.show_message(f"Removed “{event.tag}”" + (f" from {changed} sessions" if sessions > 1 else ""))

    def on_metadata_editor_note_changed(self, event: MetadataEditor.NoteChanged) -> None:
        self._edit_in_editor(event.editor, "user_note", lambda _meta: event.text or None)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A keystroke in the tag input delays a pending save, like one in the note."""
        if event.input.id == "tag-input" and self._save_timer is not None and self.save_state == "unsaved":
            self._schedule_save(TEXT_SAVE_DELAY)

    def action_close_editor(self) -> None:
        self.screen.query_one("MetadataEditor").close()  # type: ignore[attr-defined]
        if isinstance(self.screen, DetailsScreen) and self.screen.edit is not None:
            self.pop_screen()  # opened for editing from the table: back to the table
            return
        previous = self._focus_before_edit
        (previous if previous is not None and previous.is_attached else self.table).focus()

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

    def _show_edited_metadata(self) -> None:
        """The details panel's session with its edits (only its metadata section is drawn again)."""
        if isinstance(self.screen, DetailsScreen):
            panel = self.screen.query_one(DetailsPanel)
        elif not self.screen.has_class("-narrow"):
            panel = self.query_one("#details", DetailsPanel)
        else:
            return
        if panel.stats is not None:
            try:
                stored = self.store.get_metadata(panel.stats.session_id)
            except StoreError:
                return  # the edit is in the table and the editor; the panel catches up on the next show
            panel.show_metadata(self.edits.effective(stored))

    def _refresh_details_now(self) -> None:
        if isinstance(self.screen, DetailsScreen):
            self.show_details_in(self.screen.query_one(DetailsPanel), self.screen.key)
        else:
            self._show_details(self.table.cursor_key)

    def _schedule_save(self, delay: float) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()  # Timer.reset() would not restart the countdown
        self._save_timer = self.set_timer(delay, self._start_save)
        self.show_save_state("unsaved")

    def action_save_now(self) -> None:
        self._start_save()

    def _start_save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self._save_worker is not None or not self.edits:
            return  # a save is running: its end starts the next one
        burst = self.edits.take()
        self.show_save_state("saving")
        self._save_worker = self.run_worker(partial(self.store.apply_edits, burst), thread=True, group="save",
                                            exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._save_worker or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self._save_worker = None
        if event.state == WorkerState.SUCCESS:
            self._saved(event.worker.result)
        else:
            self._save_failed(event.worker.error)

    def _saved(self, result: SaveResult) -> None:
        self._absorb_own_writes()
        self._save_failures = 0
        self.edits.done(result.saved, {conflict.session_id: list(conflict.mine) for conflict in result.conflicts})
        self.table.invalidate()
        for conflict in result.conflicts:
            self.push_screen(ConflictScreen(conflict), partial(self._resolve, conflict))
        if self.edits:
            self._start_save()
        else:
            self.show_save_state("saved")

    def _resolve(self, conflict: Conflict, keep_mine: bool | None) -> None:
        if keep_mine:
            self.edits.keep_mine(conflict)
            self.show_save_state("unsaved")
            self.call_later(self._start_save)
        self.table.invalidate()
        self._refresh_details_now()
        editor = self.screen.query("MetadataEditor").first() if self.screen.query("MetadataEditor") else None
        if editor is not None and editor.is_open and not keep_mine:  # type: ignore[attr-defined]  # theirs: show the stored values
            rows = self._editor_rows(editor)
            if rows:
                self.open_editor(editor, "note" if self.focused is editor.query_one("#note-input") else "tags",
                                 rows)

    def _save_failed(self, error: BaseException | None) -> None:
        self.edits.failed()
        delay = RETRY_DELAYS[min(self._save_failures, len(RETRY_DELAYS) - 1)]
        self._save_failures += 1
        reason = str(error) if isinstance(error, StoreError) else f"{type(error).__name__}: {error}"
        self.show_save_state("error", f"✗ not saved: {clean_text(reason)} — retry in {delay:g} s or ctrl+s")
        self._save_timer = self.set_timer(delay, self._start_save)

    def show_save_state(self, state: SaveState | None = None, text: str | None = None) -> None:
        """Show ``state`` (its standard text unless ``text``); without arguments, the last state again."""
        if state is not None:
            self.save_state = state
            self._save_text = text if text is not None else SAVE_STATE_TEXT[state]
        label = self._save_text
        if self.table.marked:
            label = f"{len(self.table.marked)} marked  {label}"
        for screen in self.screen_stack:
            for indicator in screen.query(SaveIndicator):
                indicator.show(self.save_state, label)

    def flush_edits(self) -> bool:
        """Write every pending edit now, on this thread (quit, SIGTERM, SIGHUP); False if that failed."""
        if self._save_timer is not None:
            self._save_timer.stop()
        if not self.edits:
            return True
        try:  # an edit being saved by the worker is written again: same values, harmless
            result = self.store.apply_edits(self.edits.take())
        except StoreError as error:
            self.edits.failed()
            self.show_save_state("error", f"✗ not saved: {clean_text(str(error))} — q again quits anyway")
            return False
        self.edits.done(result.saved)  # conflicts at exit: the other instance's values stay
        return True

    async def action_quit(self) -> None:
        if self.flush_edits() or self._quit_anyway:
            self._watch_stop.set()
            self.exit()
        self._quit_anyway = True

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP (an SSH connection dropping) save pending edits before exiting."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self._exit_on_signal)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests), Windows
                pass

    def _exit_on_signal(self) -> None:
        self._watch_stop.set()
        self.flush_edits()
        self.exit()

    async def run_command(self, command: Command) -> None:
        """Run a registry command from the palette, on the widget its scope names."""
        if command.action.startswith("app."):
            await self.run_action(command.action.removeprefix("app."))
        elif command.scope == "table":
            await self.table.run_action(command.action)
        elif command.scope == "details":
            await self.query_one("#details", DetailsPanel).run_action(command.action)

