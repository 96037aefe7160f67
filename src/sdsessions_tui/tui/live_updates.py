"""Keeping the list current: the watcher of the sessions folders, and the poll for other programs'
commits to the database.

Apart from the app so that it can be tested without a terminal.  Both say "the data changed" to
the app with :mod:`.messages` through ``post`` (the app's ``post_message``); the app decides what to
draw again.  Which commits are another program's is the store's question
(:meth:`~..core.store.Store.changed_by_others`: it notes each of its own commits), so the
watcher's commits, the saves' and the refresh's never come back as a second reload.  The
watcher's batches are coalesced: however many wait for the UI thread, one message, one reload.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.db import StoreError
from .messages import Notice, OutsideChange, RetryLater, WatchBatchesReady

if TYPE_CHECKING:
    from textual.message import Message

    from ..core.store import Store
    from ..core.watch import WatchBatch


@dataclass
class WatchNews:
    """The watcher's batches since the app last looked, merged."""

    changed: set[str] = field(default_factory=set)
    """Session paths written or marked unavailable."""
    models: bool = False
    """A session appeared (new or moved): the model picker may have a new entry."""


class LiveUpdates:
    """The watcher thread and the poll; ``run_in_thread`` runs the watcher (the app: a worker)."""

    def __init__(self, store: Store, roots: Sequence[Path], *, post: Callable[[Message], object],
                 run_in_thread: Callable[[Callable[[], None]], object], watch: bool = True,
                 poll: bool = False) -> None:
        self.store = store
        self.roots = list(roots)
        self._post = post
        self._run_in_thread = run_in_thread
        self.watching = watch
        """The roots are watched (paused and resumed from the command palette)."""
        self.poll = poll
        """Watch by polling (file systems without change events)."""
        self._stop = threading.Event()
        self.ready = threading.Event()
        """Set once the watcher sees changes (its OS watches are set up)."""
        self._batches: list[WatchBatch] = []
        self._batches_lock = threading.Lock()
        self._poll_error: str | None = None
        self.checking = False
        """The checks for other programs' changes have started (their starting version is taken)."""

    # --- other programs' commits ------------------------------------------------------------------

    def start_checks(self) -> None:
        """From now on, :meth:`check` tells other programs' commits (those before are shown already)."""
        try:
            self.store.changed_by_others()  # (the first look takes the version to compare with)
        except StoreError:
            pass  # the first check says so
        self.checking = True

    def check(self) -> None:
        """Another program committed since the last check: post :class:`OutsideChange`.  An error is
        said once, not at every check, until the checks work again."""
        try:
            changed = self.store.changed_by_others()
        except StoreError as error:
            if str(error) != self._poll_error:
                self._poll_error = str(error)
                self._post(Notice(f"Changes by other programs are not seen: {error}", "error"))
            return
        self._poll_error = None
        if changed:
            self._post(OutsideChange())

    # --- the watcher ------------------------------------------------------------------------------

    def start_watching(self, attempt: int = 0) -> None:
        """Watch the roots that are there, in a thread (again after a failure: ``attempt``)."""
        roots = [str(root) for root in self.roots if root.is_dir()]
        if roots and self.watching:
            # A batch of 1 000 sessions is ~1 s of Python on the watcher's thread: a key must not
            # wait the default 5 ms for the GIL at every switch (measured: worst key 153 → ~40 ms).
            sys.setswitchinterval(0.001)
            self._stop, self.ready = threading.Event(), threading.Event()
            stop, ready = self._stop, self.ready
            self._run_in_thread(lambda: self._watch(roots, stop, ready, attempt))

    def stop(self) -> None:
        """The watcher's thread ends within a step (50 ms): a prompt exit, or a pause."""
        self._stop.set()

    def toggle(self) -> bool:
        """Pause or resume watching; True when watching now."""
        self.watching = not self.watching
        if self.watching:
            self.start_watching()
        else:
            self.stop()
        return self.watching

    def _watch(self, roots: list[str], stop: threading.Event, ready: threading.Event, attempt: int) -> None:
        """Keep the database current with the roots (on the watcher's thread); a watcher that fails
        (the database, the OS's watches) is started again with back-off (a batch the database
        refuses is retried inside)."""
        from ..core.watch import watch

        try:
            watch(self.store, roots, stop, poll=self.poll, on_ready=ready.set, on_batch=self._batch_done,
                  notice=lambda text: self._post(Notice(text, "warning", timeout=10)))
        except (StoreError, OSError) as error:
            if not stop.is_set():  # (paused meanwhile, or quitting: not started again)
                self._post(RetryLater("Watching stopped", error, attempt, self.start_watching))

    def _batch_done(self, batch: WatchBatch) -> None:
        """A batch is stored (the watcher's thread): the UI hears of it once for all that wait."""
        with self._batches_lock:
            first = not self._batches
            self._batches.append(batch)
        if first:
            self._post(WatchBatchesReady())

    def take_batches(self) -> WatchNews | None:
        """The batches stored since the last call, merged (None: another message took them)."""
        with self._batches_lock:
            batches, self._batches = self._batches, []
        if not batches:
            return None
        news = WatchNews()
        for batch in batches:
            news.changed |= batch.changed
            news.models = news.models or bool(batch.new or batch.relinked)
        return news
