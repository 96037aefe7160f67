"""The list's query, run off the UI thread: generations, the head then the whole result, reloads.

Apart from the app so that its rules can be tested without a terminal: a query is numbered (its
generation) when it starts, and only the latest one's result is shown (typing fast starts many;
an older one finishing late is dropped).  A query shows its first :data:`RESULT_HEAD` rows before
its whole id list is built.  A reload (the data changed under the list) runs the last query that
was run again, never the input's text: while the input holds a half-typed or bad term, that text
is not what the list shows, and its good terms alone would be another filter.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.db import StoreError
from ..core.filters import ParsedQuery, SessionFilter, SessionSort
from .messages import QueryFailed, QueryHead, QueryMessage, QueryResult

if TYPE_CHECKING:
    from textual.message import Message

    from ..core.store import Store

#: Ids of a new result shown before the whole list is known: a screenful and then some.
RESULT_HEAD = 128
#: Longest wait (s) for the head's frame before the whole list is fetched anyway.
HEAD_PAINT_WAIT = 0.1


class QueryRunner:
    """Starts queries, runs them (in a worker thread) and says which results are still wanted.

    ``post`` carries the worker's :mod:`.messages` to the UI thread (the app's ``post_message``).
    """

    def __init__(self, store: Store, post: Callable[[Message], object]) -> None:
        self.store = store
        self._post = post
        self._generations = itertools.count(1)
        self.latest = 0
        """The generation of the query started last: the one whose result is shown."""
        self.parsed = ParsedQuery()
        """The query started last (its good terms): what a reload runs again."""
        self.sort = SessionSort()
        """The sort chosen in the menu or the header (a query's ``sort:`` term wins over it)."""
        self.shown = ParsedQuery()
        """The query whose whole result is on screen."""
        self.total = 0
        """Sessions in the database, as counted with the last result (0: not known, counted next)."""

    def start(self, parsed: ParsedQuery, anchor: int | None, *, reload: bool = False) -> QueryMessage:
        """A new query, the latest; ``anchor``: the session under the cursor now.  The caller runs
        it (:meth:`run`) in a worker."""
        self.latest = next(self._generations)
        self.parsed = parsed
        return QueryMessage(parsed, parsed.sort or self.sort, self.latest, anchor, reload)

    def reload(self, anchor: int | None) -> QueryMessage:
        """The last query again: the data changed (the total is counted again too)."""
        self.total = 0
        return self.start(self.parsed, anchor, reload=True)

    def run(self, query: QueryMessage) -> None:
        """The query's first :data:`RESULT_HEAD` ids first (a few ms from the sort's index), then the
        whole list (20-60 ms at 100 000 sessions): the rows change at the speed of the first query.

        The head is posted only when the whole list cannot move the cursor afterwards: its session
        (the anchor) is in the head, or it left the result (the cursor goes to the top).  Not on a
        reload: there the cursor keeps its row when its session is gone, wherever that row is.
        """
        store, session_filter = self.store, query.parsed.filter
        try:
            ids = store.list_ids(session_filter, query.sort, limit=RESULT_HEAD)
            if len(ids) == RESULT_HEAD:  # (fewer: that was the whole result)
                anchor = query.anchor
                if not query.reload and (anchor is None or anchor in ids or not store.matches(anchor, session_filter)):
                    painted = threading.Event()
                    self._post(QueryHead(query, ids, painted))
                    # The whole list's index scan slows the head's frame down by half on two cores.
                    painted.wait(HEAD_PAINT_WAIT)
                ids = store.list_ids(session_filter, query.sort)
            total = self.total  # (0 after an outside change: counted again)
            if not total:
                total = len(ids) if session_filter == SessionFilter() else len(store.list_ids())
        except StoreError as error:
            self._post(QueryFailed(query, f"The database could not be read: {error}"))
            return
        self._post(QueryResult(query, ids, total))

    def wants_head(self, head: QueryHead, cursor_session_key: int | None) -> bool:
        """Show this head?  Not for an older query, nor when the cursor moved meanwhile (then the
        whole list decides where it goes)."""
        return head.generation == self.latest and cursor_session_key == head.anchor

    def accept(self, result: QueryResult) -> bool:
        """The whole result of the latest query: now the one shown (False: an older one, dropped)."""
        if result.generation != self.latest:
            return False
        self.shown, self.total = result.parsed, result.total
        return True
