"""Bringing the store up to date with the session folders on disk (``--refresh-all``).

Incremental: a stored session whose folder and manifest are unchanged (mtime
and size) is not re-read.  Sessions are always re-read when their last result
can go stale without a file changing (``running`` turns ``stale`` with time),
when it was a failure that may pass without the files changing (a permission,
a manifest caught being written), or when the stats code is newer.  A manifest
that stays broken is remembered with its time and size, and read again once
it changes.  Results are written in batches, each in its own short transaction, so
an interrupted run leaves a consistent database and the next run continues
where it stopped.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discovery import SessionFolder, discover
from .jsonread import DEFAULT_RETRY_DELAYS
from .status import RUNNING
from .session_stats import STATS_VERSION
from .stats import read_session, vanished_mid_read
from .store import KnownSession, Store, stats_to_row

#: Sessions per write transaction: small enough that a TUI sharing the DB
#: never waits long, large enough that executemany pays off.
BATCH_SIZE = 500
#: Reading goes to a process pool from this many sessions to read (below, start-up costs more).
PARALLEL_MIN = 400
#: Sessions per task handed to a reader process.
CHUNK = 100


@dataclass(slots=True)
class RefreshSummary:
    """What a refresh did; printed by ``--refresh-all`` (and as JSON with ``--json``)."""

    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    relinked: int = 0
    unavailable: int = 0
    """Sessions newly marked unavailable (their folder is gone)."""
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(session path, reason) for sessions whose stats could not be computed."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) for what discovery could not scan."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
            "relinked": self.relinked, "unavailable": self.unavailable,
            "unreadable": [{"path": path, "reason": reason} for path, reason in self.unreadable],
            "problems": [{"path": path, "reason": reason} for path, reason in self.problems],
            "seconds": round(self.seconds, 3),
        }


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def is_unchanged(known: KnownSession, folder: SessionFolder) -> bool:
    """Whether a stored session can be trusted without reading its folder again.

    A failure is trusted only when it was stored with its manifest's time and size (a file that
    stays broken, see ``stats._Metadata``) and the file and folder are unchanged since.
    """
    if known.stats_version != STATS_VERSION or known.status == RUNNING or known.is_unavailable:
        return False
    if known.stats_error is not None and (known.manifest_file is None or known.manifest_mtime is None):
        return False
    folder_stat = _stat(str(folder.path))
    if folder_stat is None or folder_stat.st_mtime != known.folder_mtime:
        return False
    if known.manifest_file is None:
        return True
    manifest = _stat(os.path.join(folder.path, known.manifest_file))
    return (manifest is not None and manifest.st_mtime == known.manifest_mtime
            and manifest.st_size == known.manifest_size)


def refresh(
    store: Store,
    roots: Sequence[str | os.PathLike[str]],
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
    workers: int | None = None,
) -> RefreshSummary:
    """Discover every session under ``roots`` and store its stats; see the module docstring.

    ``retry_delays`` are the pauses before re-reading a manifest caught half-written;
    ``workers`` the reader processes (default: one per core, for large jobs only).
    """
    started = time.monotonic()
    resolved = [str(Path(root).expanduser().resolve()) for root in roots]
    found = discover(resolved)
    summary = RefreshSummary(found=len(found.sessions), problems=[(str(p), r) for p, r in found.problems])
    known = store.known_sessions(resolved)
    on_disk = {str(folder.path) for folder in found.sessions}
    # Folders that vanished since the last refresh: a new folder with the same
    # fingerprint is the same session renamed or moved.
    batch = StatsBatch(store, known, [row for path, row in known.items() if path not in on_disk])
    to_read: list[SessionFolder] = []
    for folder in found.sessions:
        previous = known.get(str(folder.path))
        if previous is not None and not force and is_unchanged(previous, folder):
            summary.unchanged += 1
            if previous.stats_error is not None:  # still listed: it stays broken
                summary.unreadable.append((previous.session_path, previous.stats_error))
        else:
            to_read.append(folder)
            if previous is None:
                summary.new += 1
            else:
                summary.updated += 1
    done = summary.unchanged
    gone_mid_read: list[str] = []
    for row in _read_rows(to_read, retry_delays, workers):
        done += 1
        if vanished_mid_read(row["stats_error"], row["session_path"]):  # gone, not broken: see there
            gone_mid_read.append(row["session_path"])
        else:
            if row["stats_error"]:
                summary.unreadable.append((row["session_path"], row["stats_error"]))
            batch.add(row)
        if progress:
            progress(done, len(found.sessions))
    if progress and not to_read:
        progress(done, len(found.sessions))
    batch.flush()
    summary.relinked = batch.relinked
    summary.new -= batch.relinked
    unlisted = {str(path) for path, reason in found.problems if reason.startswith(("root ", "cannot list"))}
    gone = [path for path, row in known.items()
            if path not in on_disk and not row.is_unavailable and _was_listed(path, resolved, unlisted)]
    for path in gone_mid_read:  # counted as to read: now they are gone (or, never stored, nothing)
        if path in known:
            summary.updated -= 1
            gone.append(path)
        else:
            summary.new -= 1
    summary.unavailable = store.mark_unavailable(gone)
    summary.seconds = time.monotonic() - started
    return summary


def _read_chunk(chunk: list[SessionFolder], retry_delays: tuple[float, ...]) -> list[dict[str, Any]]:
    return [stats_to_row(read_session(folder, retry_delays=retry_delays), str(folder.root)) for folder in chunk]


def _init_reader() -> None:
    """Reader processes leave Ctrl+C to the parent (which stops the pool and keeps what it wrote),
    and exit by themselves when the parent dies (``kill -9``): they would otherwise wait forever
    on a task queue whose other ends their siblings keep open."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()


def _read_rows(folders: list[SessionFolder], retry_delays: tuple[float, ...],
               workers: int | None) -> Iterator[dict[str, Any]]:
    """Stats rows for ``folders``, in order; read on several processes when it pays.

    Reading is CPU-bound Python (JSON, per-image checks), so a pool of
    processes uses every core while this process writes the rows.  Processes
    are forked only from a single-threaded program (the headless CLI): forking
    a threaded one (a TUI) can deadlock, so there it reads in-process.
    """
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or len(folders) < PARALLEL_MIN or threading.active_count() > 1:
        for folder in folders:
            yield stats_to_row(read_session(folder, retry_delays=retry_delays), str(folder.root))
        return
    chunks = [folders[start:start + CHUNK] for start in range(0, len(folders), CHUNK)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_reader) as pool:
        try:
            for rows in pool.map(_read_chunk, chunks, [retry_delays] * len(chunks)):
                yield from rows
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _was_listed(path: str, roots: Sequence[str], unlisted: set[str]) -> bool:
    """Whether discovery listed the folder that should hold ``path`` (else its absence proves nothing)."""
    parent = os.path.dirname(path)
    in_root = parent in roots or (os.path.basename(parent) == "dryrun" and os.path.dirname(parent) in roots)
    return in_root and parent not in unlisted and os.path.dirname(parent) not in unlisted


class StatsBatch:
    """Stats rows waiting to be written, flushed every :data:`BATCH_SIZE` rows.

    A new folder whose fingerprint matches a vanished session (``vanished``, else an
    unavailable one in the store) is that session renamed or moved: it is relinked,
    keeping its id and so the user's metadata.  Copies of one run (a backup, two
    machines' results gathered in one place) share a fingerprint: a new folder takes
    the candidate in its own parent folder (a rename), else one of its own name (a
    move), else the oldest, and each candidate serves one folder only.  Used by
    refresh and by the watcher.
    """

    def __init__(self, store: Store, known: dict[str, KnownSession], vanished: Iterable[KnownSession]) -> None:
        self.store, self.known = store, known
        self.vanished: dict[str, list[KnownSession]] = {}
        for row in vanished:
            if row.fingerprint:
                self.vanished.setdefault(row.fingerprint, []).append(row)
        self.rows: list[dict[str, Any]] = []
        self.relinked = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self, gone: Sequence[str] = ()) -> int:
        """Write the rows (and mark ``gone`` unavailable) in one transaction; how many became unavailable."""
        if not self.rows and not gone:
            return 0
        arrivals = [row for row in self.rows if row["session_path"] not in self.known and row["fingerprint"]]
        pools = {fp: list(rows) for fp, rows in self.vanished.items()}
        wanted = Counter(row["fingerprint"] for row in arrivals)
        short = [fp for fp, count in wanted.items() if len(pools.get(fp, ())) < count]
        if short:
            for old in self.store.find_relink_candidates(short):
                same = pools.setdefault(old.fingerprint or "", [])
                if all(old.id != other.id for other in same):
                    same.append(old)
        relinks: dict[str, KnownSession] = {}
        for row in arrivals:
            pool = pools.get(row["fingerprint"])
            if pool:
                old = _closest(row["session_path"], pool)
                pool.remove(old)
                relinks[row["session_path"]] = old
        unavailable = self.store.upsert_stats(self.rows, relinks, gone)
        for old in relinks.values():
            self.known.pop(old.session_path, None)
            group = self.vanished.get(old.fingerprint or "", [])
            if old in group:
                group.remove(old)
        self.relinked += len(relinks)
        self.rows.clear()
        return unavailable


def _closest(path: str, candidates: list[KnownSession]) -> KnownSession:
    """The candidate ``path`` most likely came from: same parent folder, else same name, else the oldest."""
    parent, name = os.path.split(path)
    return min(candidates, key=lambda old: (os.path.dirname(old.session_path) != parent,
                                            os.path.basename(old.session_path) != name, old.id))
