"""The sdsessions Textual app: filter bar, virtual session table, details panel.

The database is shown as soon as the app paints (a known DB needs no scan);
the roots are refreshed afterwards in a thread worker.  Every query runs in a
worker too, debounced, so typing never waits for SQLite; a stale result (an
older query finishing late) is dropped.  A query shows its first page of rows
before its whole id list is built (see :mod:`.query_runner`).  Workers reach the UI thread
with the typed messages of :mod:`.messages`; the live updates are in :mod:`.live_updates`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, ProgressBar
from textual.widgets.option_list import Option
from textual.worker import WorkerFailed

from ..core.db import StoreError
from ..core.edits import Edit, SaveResult
from ..core.filters import SORT_COLUMNS, ParsedQuery, SessionSort, SortColumn
from ..core.query import parse_good_terms
from ..core.recovery import RecoveryError, add_edits, read_edits, recovery_path, remove_edits
from ..core.store import Store
from ..core.text import clean_text
from . import commands as registry
from .commands import Command, bindings, palette_commands
from .details import DetailsPanel
from .details_screen import DetailsScreen
from .edit_actions import MetadataEditing
from .edit_screens import ConflictScreen, QuitConflictsScreen
from .filter_bar import FilterBar
from .help import SCOPE_TITLES, HelpScreen, key_label
from .key_bar import KeyBar
from .lifeline import HANGUP_EXIT, Lifeline
from .live_updates import LiveUpdates
from .messages import (
    BulkApplied,
    ModelsLoaded,
    Notice,
    OutsideChange,
    QueryFailed,
    QueryHead,
    QueryMessage,
    QueryResult,
    Recomputed,
    RecoveryApplied,
    RefreshDone,
    RefreshProgress,
    RetryLater,
    SaveEnded,
    UndoRowsRead,
    WatchBatchesReady,
)
from .query_runner import QueryRunner
from .save_queue import RETRY_DELAYS, SaveQueue
from .session_table import SessionTable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .metadata_editor import MetadataEditor

#: Columns at which the details panel fits beside the table.
WIDE = 120
FILTER_DEBOUNCE = 0.15
#: Seconds without a keystroke before an error in the term being typed (the last one) is shown.
TYPING_ERROR_DELAY = 1.0
DETAILS_DEBOUNCE = 0.04
#: On top of DETAILS_DEBOUNCE: holding ↓ still never decodes an image per row.
THUMBNAIL_DELAY = 0.06
THUMBNAIL_CACHE_BYTES = 200 * 1024 * 1024
#: Seconds between two updates of the refresh progress bar.
PROGRESS_INTERVAL = 0.1
#: Seconds between checks for changes other programs made to the database.
EXTERNAL_CHECK_INTERVAL = 1.0
#: Seconds a save on the way out (a signal, a hang-up) waits for another program's lock before the
#: edits stay in the recovery file only.
FINAL_WRITE_TIMEOUT = 0.25
#: Exit code when an edit could not be written to the database on the way out (it is in the recovery file).
EXIT_UNSAVED = 1
NOTHING_KNOWN = ("No sessions yet. Start with a sessions folder:  sdsessions ~/path/to/results\n"
                 "or open the demo:  sdsessions demo /tmp/sdsessions-demo && sdsessions /tmp/sdsessions-demo")


def crash_report(error: BaseException) -> str:
    """One line on an unexpected error, its traceback written to ``crash.log`` in the cache folder."""
    import traceback

    from ..core.config import cache_dir

    if isinstance(error, WorkerFailed):  # a worker's error, wrapped: name the error itself
        error = error.error
    line = clean_text(f"sdsessions: crashed: {type(error).__name__}: {error}".splitlines()[0])
    log = cache_dir() / "crash.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n"
                       + "".join(traceback.format_exception(error)), encoding="utf-8")
    except OSError:
        return line
    return f"{line} (traceback in {log})"


def stylesheet() -> Path:
    """``screens.tcss``: inside the installed wheel, else at the repository root (editable installs).

    Looked up beside the package's own files (a wheel is installed unzipped) rather than through
    ``importlib.resources``, whose zip support costs the launch an import of ``zipfile``.
    """
    package = Path(__file__).resolve().parents[1]
    packaged = package / "screens.tcss"
    return packaged if packaged.is_file() else package.parents[1] / "screens.tcss"


class RegistryCommands(Provider):
    """The command palette, fed by the command registry: each command's description, and under it
    its key (as remapped by the config's ``[keymap]``) and where it works."""

    @property
    def sessions_app(self) -> SessionsApp:
        """The app, checked: only :class:`SessionsApp` lists this provider (its ``COMMANDS``)."""
        app = self.app
        assert isinstance(app, SessionsApp)
        return app

    def _help(self, command: Command) -> str:
        where = "" if command.scope == "app" else f"  ·  {SCOPE_TITLES.get(command.scope, command.scope)}"
        key = self.sessions_app.keymap.get(command.id) or command.key
        return escape(f"{key_label(key)}{where}")  # (drawn as markup)

    async def discover(self) -> Hits:
        for command in palette_commands():
            yield DiscoveryHit(command.description, partial(self.sessions_app.run_command, command),
                               help=self._help(command))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands():
            score = matcher.match(command.description)
            if score > 0:
                yield Hit(score, matcher.highlight(command.description),
                          partial(self.sessions_app.run_command, command), help=self._help(command))


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
        yield KeyBar()

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        menu.highlighted = SORT_COLUMNS.index(self.current.column)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class SessionsApp(App[None]):
    CSS_PATH = stylesheet()
    TITLE = "sdsessions"
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {RegistryCommands}

    def __init__(self, store: Store, roots: Sequence[Path], *, keymap: dict[str, str] | None = None,
                 thumbnail_cache: Path | None = None, refresh_on_start: bool = True, theme: str | None = None,
                 first_ids: Future[list[int]] | None = None, advance_after_rating: bool = False,
                 watch: bool = True, poll: bool = False, on_started: Callable[[], object] | None = None) -> None:
        """``first_ids``: the unfiltered id list, already being fetched (the CLI starts it before
        importing Textual, so the query overlaps the imports and the first frame has rows).
        ``watch``: keep the list current as the roots change (``poll``: by polling).
        ``on_started``: called once the first rows are painted and every widget is mounted (the
        CLI freezes the start-up objects out of the garbage collector's passes there)."""
        super().__init__()
        self._first_ids = first_ids
        self.store = store
        self.roots = list(roots)
        self.keymap = dict(keymap or {})
        self.thumbnail_cache = thumbnail_cache
        self.refresh_on_start = refresh_on_start
        self.queries = QueryRunner(store, self.post_message)
        """The list's query: what is shown, what a reload runs again (see :mod:`.query_runner`)."""
        self._filter_timer: Timer | None = None
        self._typing_error_timer: Timer | None = None
        self._details_timer: Timer | None = None
        self._shown = False
        self._quit_anyway = False
        self.editing = MetadataEditing(self, advance_after_rating)
        """The editing keys, the tag and note editor, undo; see :mod:`.edit_actions`."""
        self.saves = SaveQueue(self, self._save_in_background, store, self.editing)
        """When the edits are written; see :mod:`.save_queue`."""
        self.edits = self.saves.edits
        """Edits on screen but not in the database yet; see :mod:`.editing`."""
        self.live = LiveUpdates(store, self.roots, post=self.post_message, watch=watch, poll=poll,
                                run_in_thread=lambda body: self.run_worker(body, thread=True, group="watch"))
        """The watcher and the checks for other programs' changes (see :mod:`.live_updates`)."""
        self._on_started = on_started
        self._final_lock = threading.Lock()
        self._saved_all = True
        """No edit of this run was left out of the database on the way out."""
        self.crash_line: str | None = None
        """What stderr says after an unexpected error ended the app."""
        self.lifeline = Lifeline(self.final_save, self._call_soon)
        """Ends the process when its terminal goes away (started once the app runs on one)."""
        if theme:
            self.theme = theme

    #: Textual's own palette entries that the registry has already (Quit), or replaces (Keys: F1).
    SYSTEM_COMMANDS_REPLACED = frozenset({"Quit", "Keys"})

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette entries (Theme, Screenshot...) but those the registry's commands cover."""
        for command in super().get_system_commands(screen):
            if command.title not in self.SYSTEM_COMMANDS_REPLACED:
                yield command

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter-bar")
        with Horizontal(id="main"):
            yield SessionTable(self.store, id="sessions")
            # The details panel comes after the first frame (:meth:`mount_details`): before it, it
            # could only say "No session selected", and its sections cost the launch ~25 ms.
            # The tag and note editor is mounted above it at first use.
            yield Vertical(id="side")
        yield KeyBar()  # the refresh progress bar is mounted above it when a refresh starts

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.table.metadata_overlay = self.edits.effective
        self._install_signal_handlers()
        if not self.is_headless:
            self.lifeline.start()
        self.table.focus()
        self._apply_width(self.size.width)
        if self._first_ids is None:
            self.run_query("")  # the first result starts the background work (see _show_result)
            return
        ids, self._first_ids = self._first_ids.result(), None
        self._show_result(QueryResult(self.queries.start(ParsedQuery(), None), ids, len(ids)))

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before App._on_resize records it in ``self.size``.
        self._apply_width(event.size.width)

    @property
    def narrow(self) -> bool:
        """Below :data:`WIDE` columns: the details open full-screen instead of beside the list."""
        return bool(self.screen_stack) and self.screen_stack[0].has_class("-narrow")

    def _apply_width(self, width: int) -> None:
        """Lay the list screen out for this width, at start and at every resize.

        The class goes on the list screen (the bottom of the stack), not on whatever dialog is
        on top.  A focused details panel (or its editor) that the narrow layout would hide moves
        full-screen; a full-screen details view goes back beside the list when there is room.
        """
        main = self.screen_stack[0]
        was_narrow = main.has_class("-narrow")
        main.set_class(width < WIDE, "-narrow")
        if was_narrow and width >= WIDE:
            self._widened()
        elif not was_narrow and width < WIDE:
            self._narrowed()

    def _widened(self) -> None:
        self.show_details(self.table.cursor_session_key)  # the panel was not updated while hidden
        screen = self.screen
        if isinstance(screen, DetailsScreen) and screen.edit is None:  # (an edit in progress stays)
            self.pop_screen()
            if (panel := self.details_panel) is not None:
                panel.focus()

    def _narrowed(self) -> None:
        main = self.screen_stack[0]
        side = main.query_one("#side")
        focused = main.focused
        if focused is None or not (focused is side or side in focused.ancestors):
            return
        from .metadata_editor import MetadataEditor

        key = self.table.cursor_session_key
        editor = main.query(MetadataEditor).first() if main.query(MetadataEditor) else None
        if self.screen is not main or key is None:
            main.set_focus(self.table)
        elif editor is not None and editor.is_open:  # the editor goes full-screen with its sessions
            if not self.editing.add_typed_tag(editor):
                return  # a refused tag stays typed, its reason shown, where it is
            part = "note" if focused.id == "note-input" else "tags"
            rows = self.editing.editor_rows(editor)
            editor.close()
            main.set_focus(self.table)
            if rows:
                self.push_screen(DetailsScreen(key, edit=(part, rows)))
        else:
            main.set_focus(self.table)  # (the table again when the full-screen details close)
            self.push_screen(DetailsScreen(key))

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
        if event.submitted:  # Enter: run the query now and go back to the list
            self.run_query(event.text)
            self.table.focus()
            return
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, partial(self.run_query, event.text, typing=True))

    @property
    def sort(self) -> SessionSort:
        """The sort chosen in the menu or the header (a query's ``sort:`` term wins over it)."""
        return self.queries.sort

    @property
    def typing_error_pending(self) -> bool:
        """The error of the term being typed waits for a pause in typing (see :meth:`run_query`)."""
        return self._typing_error_timer is not None

    def run_query(self, text: str, *, typing: bool = False) -> None:
        """Show the sessions matching ``text``.

        A bad term is left out (the list shows what the others match) and its error shown.  While
        it is the term being typed (``typing``, and it ends the text: ``steps:20-``, ``date:7``),
        the list stays as it is and the error waits for a pause in typing, so it never flashes.
        """
        if self._typing_error_timer is not None:
            self._typing_error_timer.stop()
            self._typing_error_timer = None
        if self.closing:  # a debounce or typing timer firing as the app exits
            return
        parsed, error = parse_good_terms(text)
        if error is not None and typing and error.ends(text):
            self.filter_bar.show_error(None)
            self._typing_error_timer = self.set_timer(TYPING_ERROR_DELAY, partial(self.run_query, text))
            return
        self.filter_bar.show_error(None if error is None else error.message)
        self._query_worker(self.queries.start(parsed, self.table.cursor_session_key))

    @work(thread=True, group="query")
    def _query_worker(self, query: QueryMessage) -> None:
        """Off the UI thread, so typing never waits for SQLite; the results come back as messages."""
        self.queries.run(query)

    @property
    def closing(self) -> bool:
        """The app is shutting down: its list or filter bar is gone (or going; the filter bar goes
        first), late results have nowhere to go."""
        stack = self.screen_stack
        return not stack or not stack[0].query("#sessions") or not stack[0].query("#filter-bar")

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Textual's toast, as plain text unless asked: messages carry folder names, paths and
        errors, where ``[/]`` read as markup would crash the app (and escapes recolour it)."""
        super().notify(clean_text(message), title=clean_text(title), severity=severity, timeout=timeout,
                       markup=markup)

    def action_help_quit(self) -> None:
        """Ctrl+C (a reflex, which does not quit): say which key does, in plain words."""
        key = self.keymap.get("app.quit") or registry.command("app.quit").key
        self.notify(f"Press {key_label(key)} to quit the app",
                    title="Do you want to quit?")

    def on_query_head(self, head: QueryHead) -> None:
        """A result's first rows; the count says "N+" until the whole list arrives."""
        if self.closing or not self.queries.wants_head(head, self.table.cursor_session_key):
            head.painted.set()
            return
        self.call_after_refresh(head.painted.set)
        self._show_ids(head.parsed, head.sort, head.ids, keep_row=False)
        if self.queries.total:  # (unknown after an outside change: counted with the whole list)
            self.filter_bar.show_result(len(head.ids), self.queries.total, more=True)

    def on_query_result(self, result: QueryResult) -> None:
        if not self.closing:
            self._show_result(result)

    def _show_result(self, result: QueryResult) -> None:
        if not self.queries.accept(result):
            return  # an older query finished late
        first = not self._shown
        self._shown = True
        total = result.total
        self.table.empty_message = NOTHING_KNOWN if not total else "No sessions match this filter"
        self._show_ids(result.parsed, result.sort, result.ids, keep_row=result.reload)
        self.filter_bar.show_result(len(result.ids), total)
        if first:  # after the first rows are on screen: nothing competes with the first paint
            self.call_after_refresh(self._start_background_work)

    def on_query_failed(self, failed: QueryFailed) -> None:
        if not self.closing:
            self.filter_bar.show_error(failed.error)

    def _show_ids(self, parsed: ParsedQuery, sort: SessionSort, ids: list[int], *, keep_row: bool) -> None:
        """A result (or its head) in the table, its sort in the header, its terms in the chips."""
        self.table.set_sort(sort)
        self.table.set_ids(ids, keep_row=keep_row)
        self.filter_bar.show_filter(parsed.filter)

    async def _start_background_work(self) -> None:
        if self.closing:  # quit right after the first frame
            return
        await self.filter_bar.add_controls()
        await self.mount_details()
        self.show_details(self.table.cursor_session_key)
        if self._on_started is not None:
            self._on_started()
        self.load_models()
        self.prune_thumbnails()
        self._apply_recovered()
        self.live.start_checks()
        self.set_interval(EXTERNAL_CHECK_INTERVAL, self.live.check)
        if self.refresh_on_start and self.roots:
            self.refresh_roots()
        self.live.start_watching()

    @work(thread=True, group="models")
    def load_models(self, attempt: int = 0) -> None:
        try:
            models = self.store.distinct_values("model", limit=50)
        except StoreError as error:  # the picker stays as it was meanwhile
            self.post_message(RetryLater("The models could not be read", error, attempt, self.load_models))
            return
        self.post_message(ModelsLoaded(models))

    def on_models_loaded(self, loaded: ModelsLoaded) -> None:
        if not self.closing:
            self.filter_bar.set_models(loaded.models)

    @work(thread=True, group="recovery")
    def _apply_recovered(self, attempt: int = 0) -> None:
        """Edits the last run could not write on its way out (see :mod:`..core.recovery`): into the
        database now, with the usual conflict rules; the file goes once they are in.  A failure
        is said and retried with the saves' back-off."""
        path = recovery_path(self.store.path)
        try:
            edits = read_edits(path)
            if not edits:
                return
            result = self.store.apply_edits(edits)
            remove_edits(path, edits)
        except RecoveryError as error:  # not ours or damaged: left for the user to look at
            self.post_message(Notice(str(error), "error", timeout=15))
            return
        except (StoreError, OSError) as error:
            self.post_message(RetryLater("Edits kept at the last exit are not saved yet", error, attempt,
                                         self._apply_recovered))
            return
        self.post_message(RecoveryApplied(result))

    def on_recovery_applied(self, applied: RecoveryApplied) -> None:
        if self.closing:
            return
        result = applied.result
        self.table.invalidate()
        self.editing.refresh_details_now()
        self.notify(f"Saved the edits of {len(result.saved)} sessions kept at the last exit")
        for conflict in result.conflicts:  # another program changed the same field meanwhile: choose
            self.editing.ask(conflict)

    @work(thread=True, group="housekeeping")
    def prune_thumbnails(self) -> None:
        from ..core.thumbnails import default_cache_dir, prune_cache

        prune_cache(self.thumbnail_cache or default_cache_dir(), THUMBNAIL_CACHE_BYTES)
        try:  # the write engine (SQLAlchemy's import): ready before a save on the way out needs it fast
            _ = self.store.engine
        except StoreError:
            pass  # a read-only database: a save says so when it comes

    def _reload(self, *, details: bool = False, models: bool = False) -> None:
        """The database changed under the list: visible rows fetched again, the filter run again
        (the cursor stays on its session); the details and the model picker too when asked."""
        self.table.invalidate()
        if details:
            self.editing.refresh_details_now()
        self.requery()
        if models:
            self.load_models()

    def requery(self) -> None:
        """The last query again (not the input's text: see :mod:`.query_runner`), the cursor kept."""
        self._query_worker(self.queries.reload(self.table.cursor_session_key))

    # --- table and details ------------------------------------------------------------------------

    def on_session_table_highlighted(self, event: SessionTable.Highlighted) -> None:
        if self._details_timer is not None:
            self._details_timer.stop()
        self._details_timer = self.set_timer(DETAILS_DEBOUNCE, partial(self.show_details, event.session_key))

    @property
    def details_panel(self) -> DetailsPanel | None:
        """The panel beside the list (None until mounted, just after the first frame, and once the
        app has closed its screens: a debounced details timer can still fire then)."""
        stack = self.screen_stack
        return stack[0].query_one_optional("#details", DetailsPanel) if stack else None

    async def mount_details(self) -> DetailsPanel:
        """The panel beside the list, mounted now if it is not yet."""
        panel = self.details_panel
        if panel is None:
            panel = DetailsPanel(thumbnail_cache=self.thumbnail_cache, thumbnail_delay=THUMBNAIL_DELAY,
                                 id="details")
            await self.screen_stack[0].query_one("#side").mount(panel)
        return panel

    def show_details(self, session_key: int | None) -> None:
        panel = self.details_panel
        if panel is not None and not self.narrow:
            for editor in self.editing.editors(self.screen):
                # another session under the cursor (a click): the typed tag is added first
                if editor.is_open and editor.session_keys != [session_key] and not self.table.marked:
                    if self.editing.add_typed_tag(editor):
                        editor.close()
            self.show_details_in(panel, session_key)

    def show_details_in(self, panel: DetailsPanel, session_key: int | None) -> None:
        try:
            found = self.store.get_session(session_key) if session_key is not None else None
        except StoreError as error:
            self.notify(f"This session could not be read: {error}", severity="error")
            return
        if found is None:
            panel.show(None, None)
            return
        stats, metadata = found
        row = self.table.row_at(self.table.cursor_row) if self.table.cursor_row is not None else None
        unavailable = bool(row and row.session_key == session_key and row.is_unavailable)
        panel.show(stats, self.edits.effective(metadata), unavailable=unavailable)

    def on_session_table_selected(self, event: SessionTable.Selected) -> None:
        if self.narrow:
            self.push_screen(DetailsScreen(event.session_key))
        elif (panel := self.details_panel) is not None:
            panel.focus()

    def on_session_table_sort_requested(self, event: SessionTable.SortRequested) -> None:
        self._sort_by(event.column)

    def _sort_by(self, column: str | None) -> None:
        if not column:
            return
        descending = not self.sort.descending if column == self.sort.column else column in ("date", "images")
        # (the sort menu and the table name SORT_COLUMNS)
        self.queries.sort = SessionSort(cast(SortColumn, column), descending)
        self.run_query(self.filter_bar.query_input.value)

    # --- live updates ----------------------------------------------------------------------------

    @property
    def watching(self) -> bool:
        """The roots are watched (pause and resume from the command palette)."""
        return self.live.watching

    @property
    def watch_ready(self) -> threading.Event:
        """Set once the watcher sees changes (its OS watches are set up)."""
        return self.live.ready

    def on_outside_change(self, _message: OutsideChange) -> None:
        """Another instance (or a headless refresh) wrote: show its changes, keep the cursor."""
        if not self.closing:
            self._reload(details=True)

    def on_watch_batches_ready(self, _message: WatchBatchesReady) -> None:
        """New sessions appear where the sort puts them; the cursor, filter, scroll and edits stay."""
        news = self.live.take_batches()
        if self.closing or news is None:
            return
        panel = self.editing.visible_panel()
        self._reload(details=panel is not None and panel.stats is not None and panel.stats.session_path in news.changed,
                     models=news.models)

    def on_notice(self, notice: Notice) -> None:
        if not self.closing:
            self.notify(notice.text, severity=notice.severity, timeout=notice.timeout)

    def on_retry_later(self, retry: RetryLater) -> None:
        if not self.closing:
            self.retry_later(retry.what, retry.error, retry.attempt, retry.again)

    def action_toggle_watch(self) -> None:
        if not self.roots:
            self.notify("No sessions folder to watch: start sdsessions with a ROOT", severity="warning")
            return
        watching = self.live.toggle()
        self.filter_bar.show_watch_paused(not watching)  # (lasting, beside the count)
        if watching:
            self.refresh_roots()  # what changed while paused
            self.notify("Watching the sessions folders again")
        else:
            self.notify("Watching paused: the list changes only on R (refresh all)")

    def on_unmount(self) -> None:
        self.live.stop()  # the watcher's thread ends within a step (50 ms): a prompt exit

    # --- editing: the save queue's background save, and the edit actions (see edit_actions) ---------

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

    def action_save_now(self) -> None:
        self.saves.save_now()

    def on_input_changed(self, event: Input.Changed) -> None:
        """A keystroke in the tag input delays a pending save, like one in the note."""
        if event.input.id == "tag-input":
            self.saves.still_typing()

    def action_toggle_flag(self, name: str) -> None:
        self.editing.toggle_flag(name)

    def action_rate(self, rating: str | None) -> None:
        self.editing.rate(rating)

    def action_toggle_mark(self) -> None:
        self.editing.toggle_mark()

    def action_clear_marks(self) -> None:
        self.editing.clear_marks()

    def action_apply_filtered(self) -> None:
        self.editing.apply_filtered()

    def action_undo(self) -> None:
        self.editing.undo_last()

    async def action_edit_tags(self) -> None:
        await self.editing.edit_tags()

    async def action_edit_note(self) -> None:
        await self.editing.edit_note()

    def action_close_editor(self) -> None:
        self.editing.close_editor()

    def on_bulk_applied(self, applied: BulkApplied) -> None:
        if not self.closing:
            self.editing.bulk_applied(applied)

    def on_undo_rows_read(self, read: UndoRowsRead) -> None:
        if not self.closing:
            self.editing.undo_rows_read(read)

    def on_metadata_editor_tag_submitted(self, event: MetadataEditor.TagSubmitted) -> None:
        self.editing.tag_submitted(event)

    def on_metadata_editor_tag_removed(self, event: MetadataEditor.TagRemoved) -> None:
        self.editing.tag_removed(event)

    def on_metadata_editor_note_changed(self, event: MetadataEditor.NoteChanged) -> None:
        self.editing.note_changed(event)

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
        if isinstance(self.screen, HelpScreen):  # F1 is a priority key (dialogs too): again closes
            self.screen.action_close()
            return
        self.push_screen(HelpScreen(self._help_scopes(), self.keymap))

    def _help_scopes(self) -> tuple[str, ...]:
        """The registry scopes whose keys work where the focus is (F1 lists them; "app" keys last)."""
        from .edit_screens import ApplyMenu
        from .metadata_editor import MetadataEditor, TagList

        focused = self.focused
        if isinstance(self.screen, ApplyMenu):
            return ("apply", "app")
        if isinstance(self.screen, ConflictScreen):
            return ("conflict", "app")
        if isinstance(self.screen, QuitConflictsScreen):
            return ("quit", "app")
        if isinstance(focused, TagList):
            return ("tags", "editor", "app")
        if focused is not None and any(isinstance(node, MetadataEditor) for node in focused.ancestors):
            return ("editor", "app")
        if isinstance(focused, SessionTable):
            return ("table", "edit", "app")
        if isinstance(focused, DetailsPanel):
            return ("details", "edit", "app")
        if isinstance(focused, Input):
            return ("filter", "app")
        return ("app",)

    def action_recompute(self) -> None:
        key = self.table.cursor_session_key
        if key is not None:
            self._recompute(key)

    @work(thread=True, group="recompute")
    def _recompute(self, session_key: int) -> None:
        try:
            self.store.recompute(session_key)
        except StoreError as error:
            self.post_message(Notice(f"The session could not be re-read: {error}", "error"))
            return
        self.post_message(Recomputed(session_key))

    def on_recomputed(self, recomputed: Recomputed) -> None:
        if self.closing:
            return
        key = recomputed.session_key
        self.table.invalidate([key])
        self.show_details(key)
        self.notify("Session re-read from disk")

    def action_refresh_all(self) -> None:
        if not self.roots:
            self.notify("No sessions folder to refresh: start sdsessions with a ROOT", severity="warning")
            return
        self.refresh_roots(report=True)

    @work(thread=True, exclusive=True, group="refresh")
    def refresh_roots(self, report: bool = False, attempt: int = 0) -> None:
        """Bring the database up to date with the roots; ``report``: asked for (R), so say what it
        found even when nothing changed.  A database error (a lock held past the timeout, a
        read-only or damaged file) is said and the refresh tried again with back-off."""
        from ..core.refresh import refresh  # with SQLAlchemy for the writes: off the first paint

        roots = [root for root in self.roots if root.is_dir()]
        if not roots:  # remembered folders on an unmounted drive: nothing to scan
            if report:
                self.post_message(Notice("None of the sessions folders is there to refresh"))
            return
        self.post_message(RefreshProgress(0, None))
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            """At most ten updates a second: each one is a frame of the UI thread's."""
            now = time.monotonic()
            if done == total or now - shown[0] >= PROGRESS_INTERVAL:
                shown[0] = now
                self.post_message(RefreshProgress(done, total))

        try:
            summary = refresh(self.store, roots, progress=progress)
        except StoreError as error:
            self.post_message(RefreshProgress(0, None, active=False))
            self.post_message(RetryLater("The folders could not be refreshed", error, attempt,
                                         partial(self.refresh_roots, report)))
            return
        self.post_message(RefreshDone(summary, report))

    def on_refresh_progress(self, progress: RefreshProgress) -> None:
        if self.closing:
            return
        self.progress_bar.set_class(progress.active, "-active")
        if progress.total is not None:
            self.progress_bar.update(progress=progress.done, total=progress.total)

    def retry_later(self, what: str, error: Exception, attempt: int, again: Callable[[int], object]) -> None:
        """Background work the database refused (a lock held past the timeout, a read-only or
        damaged file): said in one line, then ``again(attempt + 1)`` after the saves' back-off."""
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
        self.notify(f"{what}: {error} — retry in {delay:g} s", severity="error", timeout=min(delay, 10))
        self.set_timer(delay, partial(again, attempt + 1))

    @property
    def progress_bar(self) -> ProgressBar:
        """Mounted at the first refresh: most runs never show it (and it is not on the first frame)."""
        main = self.screen_stack[0]
        bar = main.query_one_optional("#refresh-progress", ProgressBar)
        if bar is None:
            bar = ProgressBar(id="refresh-progress", show_eta=False)
            main.mount(bar, before=main.query_one(KeyBar))
        return bar

    def on_refresh_done(self, done: RefreshDone) -> None:
        if self.closing:
            return
        summary, report = done.summary, done.report
        self.progress_bar.remove_class("-active")
        if summary.new or summary.updated or summary.unavailable:
            self._reload(models=True)
        if summary.new or summary.unavailable:  # running sessions are re-read every time: not news
            self.notify(f"{summary.new} new, {summary.unavailable} gone")
        elif report:  # asked for: say so even when there is no news
            self.notify(f"Up to date: {summary.found} sessions, nothing new")

    async def action_quit(self) -> None:
        """Save what is pending and exit; save conflicts not resolved yet (open, queued, or found
        by this last save) are asked about first, never dropped; a failed save says so, q again quits."""
        saved = self.saves.flush()
        if self.saves.conflicts:
            if not isinstance(self.screen, QuitConflictsScreen):
                self.editing.ask_about_conflicts_at_quit(lambda: self.call_later(self.action_quit))
            return
        if saved or self._quit_anyway:
            self.live.stop()
            self.exit()
        self._quit_anyway = True

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP (an SSH connection dropping) save pending edits before exiting."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self._exit_on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests), Windows
                pass

    def _exit_on_signal(self, signum: int = signal.SIGTERM) -> None:
        """Save (or keep in the recovery file) and exit: non-zero after a hang-up or when an edit
        could not reach the database."""
        self.live.stop()
        self.exit(return_code=HANGUP_EXIT if signum == signal.SIGHUP else 0)

    def final_save(self) -> bool:
        """Write every pending edit now, on the way out (a signal, a hang-up); True when all are in
        the database.

        They go to the recovery file beside the database first (a process killed meanwhile loses
        nothing), then to the database if it takes the write within :data:`FINAL_WRITE_TIMEOUT`;
        those it took leave the file.  Edits that clash with another program's stay in the file
        too: the next start shows the conflict.  Called on the loop or, when the loop is stuck,
        from the lifeline's thread (hence the lock; with a bound, so an exit is never held up).
        """
        if not self._final_lock.acquire(timeout=FINAL_WRITE_TIMEOUT):
            return False
        try:
            return self._final_save_locked()
        finally:
            self._final_lock.release()

    def _final_save_locked(self) -> bool:
        edits = self.saves.take_all()
        if not edits:
            return self._saved_all
        path = recovery_path(self.store.path)
        where = f"are kept in {path} and saved at the next start"
        try:
            add_edits(path, edits)
            kept = True
        except OSError as error:
            kept, where = False, f"could not be kept in {path} either: {error.strerror or error}"
        if not self._saved_all and kept:  # the database refused already on this way out: no second wait
            self.edits.failed()
            return False
        try:
            result = self.store.apply_edits(edits, busy_timeout=FINAL_WRITE_TIMEOUT)
        except StoreError as error:
            self.edits.failed()
            self._saved_all = False
            self.lifeline.set_note(clean_text(f"sdsessions: {len(edits)} unsaved edits {where} ({error})"))
            return False
        self.edits.done(result.saved)
        clashing = [Edit(conflict.session_key, edit.base_version, {name: edit.base.get(name) for name in conflict.mine},
                         dict(conflict.mine))
                    for conflict in result.conflicts for edit in edits if edit.session_key == conflict.session_key]
        if kept:
            try:
                remove_edits(path, edits)
                add_edits(path, clashing)
            except (OSError, RecoveryError):
                pass  # the file still holds them: the next start applies them again, harmlessly
        if clashing:
            self._saved_all = False
            self.lifeline.set_note(clean_text(
                f"sdsessions: {len(clashing)} edits clash with another program's changes: kept in "
                f"{path}, to choose at the next start"))
        return self._saved_all

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected error ends the app (exit code 1): the edits are saved first, and the
        terminal gets one line at exit; the traceback goes to the crash log, not a screenful
        of it (under Pilot, Textual's own handling, which the tests re-raise)."""
        try:
            self.final_save()
        except Exception:  # noqa: BLE001 - the error being handled is the one to report
            pass
        self.lifeline.exiting(1)
        super()._handle_exception(error)
        if not self.is_headless:
            self._exit_renderables.clear()
            self.crash_line = crash_report(error)

    def exit(self, result: None = None, return_code: int = 0, message: Any = None) -> None:
        """Exit, within :data:`~.lifeline.EXIT_GRACE` whatever holds the process up.

        Edits still pending (a signal; or "q again quits anyway" after a failed save) are saved or
        kept in the recovery file first, and then the exit code says so.  Conflicts still waiting
        for the user's choice (only a signal or a hang-up exits past them; ``q`` asks) go with
        them, still clashing, so the next start asks again.
        """
        self.saves.keep_undecided()
        if self.edits and not self.final_save() and return_code == 0:
            return_code = EXIT_UNSAVED
        self.lifeline.exiting(return_code)
        super().exit(result, return_code, message)

    def _call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the app's loop, from another thread; RuntimeError once it has ended."""
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the app's loop has ended")
        loop.call_soon_threadsafe(callback)

    async def run_command(self, command: Command) -> None:
        """Run a registry command from the palette, on the widget its scope names."""
        if command.action.startswith("app."):
            await self.run_action(command.action.removeprefix("app."))
        elif command.scope == "table":
            await self.table.run_action(command.action)
        elif command.scope == "details" and (panel := self.details_panel) is not None:
            await panel.run_action(command.action)

