"""The typed messages by which background work reaches the UI.

One path for every worker result: a worker thread posts one of these (``App.post_message`` is
thread-safe) and the app, or the screen it concerns, handles it on the UI thread.  One module,
so a reader finds every such message here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.notifications import SeverityLevel

if TYPE_CHECKING:
    from pathlib import Path

    from ..core.db import StoreError
    from ..core.edits import SaveResult
    from ..core.filters import ParsedQuery, SessionSort
    from ..core.refresh import RefreshSummary
    from ..core.store import SessionRow
    from .undo import UndoEntry


# --- the list's query (see .query_runner) -----------------------------------------------------------


class QueryMessage(Message):
    """A query worker's news of one query (its generation tells a late one from the latest)."""

    def __init__(self, parsed: ParsedQuery, sort: SessionSort, generation: int, anchor: int | None,
                 reload: bool) -> None:
        super().__init__()
        self.parsed, self.sort, self.generation, self.anchor, self.reload = parsed, sort, generation, anchor, reload


class QueryHead(QueryMessage):
    """The result's first rows, before its whole id list is known; the worker waits on ``painted``
    (set once they are on screen, or when they are not shown) before building the whole list."""

    def __init__(self, query: QueryMessage, ids: list[int], painted: threading.Event) -> None:
        super().__init__(query.parsed, query.sort, query.generation, query.anchor, query.reload)
        self.ids, self.painted = ids, painted


class QueryResult(QueryMessage):
    """The whole result: its ids in order and the number of sessions in the database."""

    def __init__(self, query: QueryMessage, ids: list[int], total: int) -> None:
        super().__init__(query.parsed, query.sort, query.generation, query.anchor, query.reload)
        self.ids, self.total = ids, total


class QueryFailed(QueryMessage):
    """The database could not be read (a drive that went away): the last result stays."""

    def __init__(self, query: QueryMessage, error: str) -> None:
        super().__init__(query.parsed, query.sort, query.generation, query.anchor, query.reload)
        self.error = error


# --- live updates (see .live_updates) ----------------------------------------------------------------


class OutsideChange(Message):
    """Another program (another instance, a headless refresh) committed to the database."""


class WatchBatchesReady(Message):
    """The watcher wrote one or more batches: posted once for all the batches waiting, which the
    handler takes from :meth:`.live_updates.LiveUpdates.take_batches` (one reload for all of them)."""


# --- any background work ---------------------------------------------------------------------------


class Notice(Message):
    """A line for the user (a toast) from background work: a watcher's notice, a failure."""

    def __init__(self, text: str, severity: SeverityLevel = "warning", timeout: float | None = None) -> None:
        super().__init__()
        self.text, self.severity, self.timeout = text, severity, timeout


class RetryLater(Message):
    """Background work the database refused: said, then ``again(attempt + 1)`` after a back-off."""

    def __init__(self, what: str, error: Exception, attempt: int, again: Callable[[int], object]) -> None:
        super().__init__()
        self.what, self.error, self.attempt, self.again = what, error, attempt, again


# --- the app's other workers -------------------------------------------------------------------------


class ModelsLoaded(Message):
    """The model picker's entries: each model with its number of sessions, the commonest first."""

    def __init__(self, models: list[tuple[str, int]]) -> None:
        super().__init__()
        self.models = models


class RecoveryApplied(Message):
    """The edits kept at the last exit are in the database (their conflicts are to be chosen)."""

    def __init__(self, result: SaveResult) -> None:
        super().__init__()
        self.result = result


class Recomputed(Message):
    """A session was read again from its folder (``r``)."""

    def __init__(self, session_key: int) -> None:
        super().__init__()
        self.session_key = session_key


class RefreshProgress(Message):
    """A refresh is running (``active``), ``done`` of ``total`` sessions read (``total`` None: not
    known yet); not ``active``: it ended without a summary, the bar goes.  A newer one waiting
    replaces it: the bar shows the latest, never a backlog."""

    def __init__(self, done: int, total: int | None, *, active: bool = True) -> None:
        super().__init__()
        self.done, self.total, self.active = done, total, active

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RefreshProgress)


class RefreshDone(Message):
    """A refresh ended; ``report``: it was asked for (R), so it says so even with no news."""

    def __init__(self, summary: RefreshSummary, report: bool) -> None:
        super().__init__()
        self.summary, self.report = summary, report


# --- saves (see .save_queue) -------------------------------------------------------------------------


class SaveEnded(Message):
    """A background save of the pending edits ended: the store's result, or the error that
    stopped it (any error: the save queue keeps the edits and retries)."""

    def __init__(self, outcome: SaveResult | BaseException) -> None:
        super().__init__()
        self.outcome = outcome


# --- editing (see .edit_actions) ---------------------------------------------------------------------


class BulkApplied(Message):
    """"Apply to all filtered" wrote ``name`` = ``value`` on ``changed`` sessions; ``previous`` holds
    each session's values before (what undoing puts back)."""

    def __init__(self, changed: int, name: str, value: object, previous: dict[int, dict[str, Any]]) -> None:
        super().__init__()
        self.changed, self.name, self.value, self.previous = changed, name, value, previous


class UndoRowsRead(Message):
    """The rows an undo puts values back on, as stored now (``error``: they could not be read)."""

    def __init__(self, entry: UndoEntry, rows: dict[int, SessionRow], error: StoreError | None = None) -> None:
        super().__init__()
        self.entry, self.rows, self.error = entry, rows, error


class KnownTagsLoaded(Message):
    """Every tag in the database, for the tag editor's completion (posted to the editor)."""

    def __init__(self, tags: list[tuple[str, int]]) -> None:
        super().__init__()
        self.tags = tags


# --- images (see .thumbnail) ---------------------------------------------------------------------------


class ThumbnailLoaded(Message):
    """A thumbnail worker's picture (decoded, ``None``: none to show) for request ``token``, posted
    to the thumbnail widget that asked (a newer request makes it stale)."""

    def __init__(self, token: int, path: Path | None, picture: Any) -> None:
        super().__init__()
        self.token, self.path, self.picture = token, path, picture
