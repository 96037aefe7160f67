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
from .session_stats import STATS_VERSION
from .stats import read_session, vanished_mid_read
from .status import RUNNING
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
    new_folders: list[SessionFolder] = []  # read after the known ones: a session that left its path for
    for folder in found.sessions:          # another's is then free to be found at its new one (StatsBatch)
        previous = known.get(str(folder.path))
        if previous is not None and not force and is_unchanged(previous, folder):
            summary.unchanged += 1
            if previous.stats_error is not None:  # still listed: it stays broken
                summary.unreadable.append((previous.session_path, previous.stats_error))
        elif previous is None:
            new_folders.append(folder)
            summary.new += 1
        else:
            to_read.append(folder)
            summary.updated += 1
    to_read += new_folders
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
    summary.updated -= batch.took_over
    summary.new += batch.took_over - batch.relinked
    unlisted = {str(path) for path, reason in found.problems if reason.startswith(("root ", "cannot list"))}
    gone = [path for path, row in known.items()
            if path not in on_disk and not row.is_unavailable and _was_listed(path, resolved, unlisted)]
    for path in gone_mid_read:  # counted as to read: now they are gone (or, never stored, nothing)
        if path in known:
            summary.updated -= 1
            gone.append(path)
        else:
            summary.new -= 1
    summary.unavailable = store.mark_unavailable(gone) + batch.replaced
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


def fingerprint_changed(known: KnownSession, row: dict[str, Any]) -> bool:
    """Whether the folder at a stored session's path now holds another run: its fingerprint, read now,
    is not the stored one.  Only two fingerprints read by this stats version count (an older one
    may have computed it otherwise); one that could not be read (a manifest caught half-written, a
    snapshot the new orchestrator reset) proves nothing.  A running session's rewrites keep it:
    it is what the manifest says at the start of the run (``SessionStats.fingerprint``)."""
    return (known.fingerprint is not None and row["fingerprint"] is not None
            and known.stats_version == STATS_VERSION and known.fingerprint != row["fingerprint"])


class StatsBatch:
    """Stats rows waiting to be written, flushed every :data:`BATCH_SIZE` rows.

    A new folder whose fingerprint matches a vanished session (``vanished``, else an
    unavailable one in the store) is that session renamed or moved: it is relinked,
    keeping its id and so the user's metadata.  Copies of one run (a backup, two
    machines' results gathered in one place) share a fingerprint: a new folder takes
    the candidate in its own parent folder (a rename), else one of its own name (a
    move), else the oldest, and each candidate serves one folder only.

    A folder at a stored session's path whose fingerprint changed (:func:`fingerprint_changed`)
    holds another session: one that moved there (it matches a vanished one, which is relinked
    to the path), else a new one, when its fingerprint comes from the same metadata file
    (another run written there).  The stored session gives the path up: it becomes a
    tombstone (``Store.upsert_stats``), never listed, whose metadata waits for its folder to
    turn up elsewhere (it is a vanished session from then on).  A fingerprint that changed
    with the metadata file (a V0 run's ``metadata.json``, written at its end beside its
    ``session_config.txt``) and matches no other session is the same session.  Used by
    refresh, by the watcher and by ``Store.recompute``.
    """

    def __init__(self, store: Store, known: dict[str, KnownSession], vanished: Iterable[KnownSession]) -> None:
        self.store, self.known = store, known
        self.vanished: dict[str, list[KnownSession]] = {}
        for row in vanished:
            if row.fingerprint:
                self.vanished.setdefault(row.fingerprint, []).append(row)
        self.rows: list[dict[str, Any]] = []
        self.relinked = 0
        self.took_over = 0
        """Rows at a stored session's path that are another session (relinked there, or new)."""
        self.replaced = 0
        """Sessions that gave their path up while their folder was there, not found elsewhere (yet)."""

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self, gone: Sequence[str] = ()) -> int:
        """Write the rows (and mark ``gone`` unavailable) in one transaction; how many became unavailable."""
        if not self.rows and not gone:
            return 0
        changed = [row for row in self.rows
                   if row["session_path"] in self.known and fingerprint_changed(self.known[row["session_path"]], row)]
        arrivals = [row for row in self.rows if row["session_path"] not in self.known and row["fingerprint"]]
        pools = self._pools([*changed, *arrivals])
        leaving = {row["session_path"]: self.known[row["session_path"]] for row in changed}
        for here in leaving.values():  # two sessions that swapped folders find each other
            pools.setdefault(here.fingerprint or "", []).append(here)
        relinks = {row["session_path"]: old for row in changed if (old := _take(pools, row)) is not None}
        moved = {old.session_key for old in relinks.values()}
        for row in changed:
            here = leaving[row["session_path"]]
            if (row["session_path"] in relinks or here.session_key in moved
                    or here.manifest_file == row["manifest_file"]):
                continue
            del leaving[row["session_path"]]  # the run completed its metadata in another file: the same session
            pools[here.fingerprint or ""].remove(here)
        relinks.update((row["session_path"], old) for row in arrivals if (old := _take(pools, row)) is not None)
        displaced = list(leaving.values())
        for here in displaced:  # free to be found at a new path by a later batch
            self.vanished.setdefault(here.fingerprint or "", []).append(here)
        unavailable = self.store.upsert_stats(self.rows, relinks, gone, [here.session_key for here in displaced])
        for here in displaced:
            self.known.pop(here.session_path, None)
        for old in relinks.values():
            self.known.pop(old.session_path, None)
            group = self.vanished.get(old.fingerprint or "", [])
            if old in group:
                group.remove(old)
        relinked = {old.session_key for old in relinks.values()}
        self.replaced += sum(not here.is_unavailable and here.session_key not in relinked for here in displaced)
        self.took_over += len(displaced)
        self.relinked += len(relinks)
        self.rows.clear()
        return unavailable

    def _pools(self, rows: list[dict[str, Any]]) -> dict[str, list[KnownSession]]:
        """The vanished sessions each fingerprint of ``rows`` may be, looked up in the store when
        this batch's are too few; never a session whose own folder is among the rows."""
        here = {row["session_path"] for row in self.rows}
        pools = {fp: [old for old in group if old.session_path not in here] for fp, group in self.vanished.items()}
        wanted = Counter(row["fingerprint"] for row in rows)
        short = [fp for fp, count in wanted.items() if len(pools.get(fp, ())) < count]
        if short:
            for old in self.store.find_relink_candidates(short):
                same = pools.setdefault(old.fingerprint or "", [])
                if old.session_path not in here and all(old.session_key != other.session_key for other in same):
                    same.append(old)
        return pools


def _take(pools: dict[str, list[KnownSession]], row: dict[str, Any]) -> KnownSession | None:
    """The vanished session the folder of ``row`` is (see :func:`_closest`), taken out of its pool."""
    pool = pools.get(row["fingerprint"])
    if not pool:
        return None
    old = _closest(row["session_path"], pool)
    pool.remove(old)
    return old


def _closest(path: str, candidates: list[KnownSession]) -> KnownSession:
    """The candidate ``path`` most likely came from: same parent folder, else same name, else the oldest."""
    parent, name = os.path.split(path)
    return min(candidates, key=lambda old: (os.path.dirname(old.session_path) != parent,
                                            os.path.basename(old.session_path) != name, old.session_key))
