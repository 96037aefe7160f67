"""Keeping the store current while sessions are being written: the TUI's live updates and ``--watch``.

Changes come from watchfiles (inotify and the like), batched; where notifications
do not work — the OS watch limit reached, WSL's ``/mnt`` drives, network mounts,
``--poll`` — from :class:`FolderPoller`, which compares cheap snapshots of the
session folders (each folder's mtime and its manifest's mtime and size, never
every image: watchfiles' own polling stats all 200 000 files of 10 000 sessions
and took 22–71 % of a core here).  Each batch becomes a set of session folders,
re-read and written in one short transaction (:func:`apply_changes`).  A
manifest caught half-written is retried on the next event or tick, never stored
as broken.  Everything here runs without Textual.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .db import StoreError
from .discovery import DRYRUN_DIR, SessionFolder
from .names import parse_folder_name
from .refresh import StatsBatch
from .stats import read_session
from .store import KnownSession, Store, stats_to_row

#: watchfiles: wait this long after the last event before yielding a batch (its default, 1.6 s,
#: would miss the "row updated within a second" target).
DEBOUNCE_MS = 300
STEP_MS = 50
#: Wake at least this often without events: retries of half-written manifests, and the stop check.
TICK_MS = 1000
#: Seconds between two snapshots of the polling fallback (one costs ~45 ms for 10 000 folders here).
POLL_INTERVAL = 2.0
#: A folder changed this recently is being written: its manifest is checked at every poll (in-place
#: rewrites do not change the folder's mtime); the others' at every FULL_SWEEP-th poll.
ACTIVE_WINDOW = 600.0
FULL_SWEEP = 15
#: A broken manifest written this many seconds ago or less is still being written: retried, not stored.
RECENT_WRITE = 10.0
#: Re-reads of a torn manifest inside one batch (short: the next event or tick retries anyway).
WATCH_RETRY_DELAYS = (0.05, 0.15)
#: The file the generator rewrites in place (new images and per-image files change the folder's mtime).
MANIFEST = "manifest.json"
#: File systems where change notifications do not arrive: polled.
REMOTE_FILE_SYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "9p", "fuse.sshfs", "drvfs"})


@dataclass(slots=True)
class WatchBatch:
    """What one batch of changes did to the store."""

    changed: set[str] = field(default_factory=set)
    """Session paths written (new, updated, relinked) or marked unavailable."""
    new: int = 0
    updated: int = 0
    relinked: int = 0
    unavailable: int = 0
    retrying: set[str] = field(default_factory=set)
    """Folders whose manifest was caught half-written: read again on the next event or tick."""
    seconds: float = 0.0


def session_folder(path: str, roots: Sequence[str]) -> str | None:
    """The session folder a changed path belongs to (a root's child, or ``<root>/dryrun/<child>``)."""
    for root in roots:
        if not path.startswith(root.rstrip(os.sep) + os.sep):
            continue
        parts = path[len(root.rstrip(os.sep)) + 1:].split(os.sep)
        if parts[0] == DRYRUN_DIR:
            parts = parts[1:]
            root = os.path.join(root, DRYRUN_DIR)
        if not parts or not parts[0] or parts[0].startswith("."):
            return None
        return os.path.join(root, parts[0])
    return None


def polling_reason(roots: Sequence[str], mounts: str = "/proc/mounts") -> str | None:
    """Why these roots must be polled (a WSL Windows drive, a network file system), or None."""
    table: list[tuple[str, str]] = []
    try:
        with open(mounts, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 3:
                    table.append((fields[1].replace("\\040", " "), fields[2]))
    except OSError:
        pass
    table.sort(key=lambda entry: len(entry[0]), reverse=True)  # the deepest mount point first
    for root in roots:
        mount = next(((point, kind) for point, kind in table if root == point or root.startswith(
            point.rstrip("/") + "/")), None)
        if mount and mount[1] in REMOTE_FILE_SYSTEMS:
            return f"{root} is on {mount[1]} (no change notifications there)"
        if root.startswith("/mnt/") and _is_wsl():
            return f"{root} is a Windows drive under WSL (no change notifications there)"
    return None


def _is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            return "microsoft" in handle.read().lower()
    except OSError:
        return False


class FolderPoller:
    """The polling fallback: compares snapshots of the session folders' mtimes and their manifests'.

    A snapshot stats every folder; the manifest only of folders written within
    :data:`ACTIVE_WINDOW` (the generator adds an image, then rewrites the manifest),
    and of all of them every :data:`FULL_SWEEP` polls.
    """

    def __init__(self, roots: Sequence[str]) -> None:
        self.roots = list(roots)
        self._polls = 0
        self._snapshot: dict[str, tuple[float, float, float]] = {}
        self._snapshot = self._take(full=True)

    def changes(self) -> set[str]:
        """Session folders that appeared, vanished or changed since the last call."""
        self._polls += 1
        now = self._take(full=self._polls % FULL_SWEEP == 0)
        before, self._snapshot = self._snapshot, now
        return {path for path in before.keys() | now.keys() if before.get(path) != now.get(path)}

    def _take(self, *, full: bool) -> dict[str, tuple[float, float, float]]:
        snapshot: dict[str, tuple[float, float, float]] = {}
        active_since = time.time() - ACTIVE_WINDOW
        for root in self.roots:
            for folder in _child_folders(root):
                for path in _child_folders(folder) if os.path.basename(folder) == DRYRUN_DIR else (folder,):
                    folder_mtime = _mtime_size(path)[0]
                    previous = self._snapshot.get(path)
                    if full or previous is None or folder_mtime >= active_since or previous[0] != folder_mtime:
                        snapshot[path] = (folder_mtime, *_mtime_size(os.path.join(path, MANIFEST)))
                    else:
                        snapshot[path] = (folder_mtime, previous[1], previous[2])
        return snapshot


def _child_folders(directory: str) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return [entry.path for entry in entries if not entry.name.startswith(".") and entry.is_dir()]
    except OSError:
        return []


def _mtime_size(path: str) -> tuple[float, float]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1.0, -1.0)
    return (info.st_mtime, float(info.st_size))


def change_batches(roots: Sequence[str], stop: threading.Event, *, poll: bool = False,
                   notice: Callable[[str], None] | None = None) -> Iterator[set[str]]:
    """Sets of changed session folders until ``stop`` is set; an empty set at least every tick.

    Notifications first; polling with ``poll``, for roots :func:`polling_reason` names, or
    when the OS runs out of watches (``notice`` says which, once).
    """
    reason = "--poll" if poll else polling_reason(roots)
    if reason is None:
        import watchfiles

        try:
            for changes in watchfiles.watch(*roots, debounce=DEBOUNCE_MS, step=STEP_MS, rust_timeout=TICK_MS,
                                            yield_on_timeout=True, stop_event=stop, raise_interrupt=False):
                yield {folder for _kind, path in changes if (folder := session_folder(path, roots))}
            return
        except OSError as error:  # "OS file watch limit reached", or a root that cannot be watched
            reason = f"file notifications unavailable ({error})"
    if notice is not None:
        notice(f"Watching by polling every {POLL_INTERVAL:g} s: {reason}")
    poller = FolderPoller(roots)
    yield set()  # the first snapshot is taken: changes from now on are seen
    while not stop.wait(POLL_INTERVAL):
        yield poller.changes()


def apply_changes(store: Store, roots: Sequence[str], folders: set[str]) -> WatchBatch:
    """Re-read these session folders and write them in one transaction; vanished ones become unavailable."""
    started = time.monotonic()
    batch = WatchBatch()
    known = store.known_paths(sorted(folders))
    gone = [path for path in sorted(folders)
            if not os.path.isdir(path) and path in known and not known[path].is_unavailable]
    rows: list[dict[str, Any]] = []
    for path in sorted(folders):
        root = _root_of(path, roots)
        if not os.path.isdir(path) or not _inside(path, root):
            continue
        parent = Path(path).parent
        stats = read_session(SessionFolder(Path(path), Path(root), parse_folder_name(os.path.basename(path)),
                                           parent.name == DRYRUN_DIR and str(parent.parent) == root),
                             retry_delays=WATCH_RETRY_DELAYS)
        if stats.stats_error and _being_written(path):
            batch.retrying.add(path)  # half-written: the stored row (if any) stays as it was
            continue
        rows.append(stats_to_row(stats, root))
        batch.changed.add(path)
        time.sleep(0)  # let a waiting UI thread take the GIL now, not after the 5 ms switch interval
        if path in known:
            batch.updated += 1
        else:
            batch.new += 1
    gone += _renamed_away(store, rows, known, folders)
    writer = StatsBatch(store, dict(known), [known[path] for path in gone])
    for row in rows:
        writer.add(row)
    batch.unavailable = writer.flush(gone)
    batch.relinked = writer.relinked
    batch.new -= writer.relinked
    batch.unavailable -= sum(path not in writer.known for path in gone)  # relinked: moved, not gone
    batch.changed.update(gone)
    batch.seconds = time.monotonic() - started
    return batch


def _renamed_away(store: Store, rows: list[dict[str, Any]], known: dict[str, KnownSession],
                  folders: set[str]) -> list[str]:
    """Stored sessions whose folder is gone though this batch did not say so, and whose content a new
    folder of the batch has: a rename seen by half (the new name first).  They count as gone here, so
    the new folder takes their place, the user's metadata included."""
    prints = [row["fingerprint"] for row in rows if row["session_path"] not in known and row["fingerprint"]]
    if not prints:
        return []
    moved = [old for old in store.find_relink_candidates(prints, available_too=True)
             if not old.is_unavailable and old.session_path not in folders and not os.path.isdir(old.session_path)]
    for old in moved:
        known[old.session_path] = old
    return [old.session_path for old in moved]


def _root_of(path: str, roots: Sequence[str]) -> str:
    parent = os.path.dirname(path)
    return os.path.dirname(parent) if parent not in roots and os.path.basename(parent) == DRYRUN_DIR else parent


def _inside(path: str, root: str) -> bool:
    """Like discovery: a symlinked folder counts only when it leads inside its root."""
    if not os.path.islink(path):
        return True
    real_root = os.path.realpath(root)
    target = os.path.realpath(path)
    return target != real_root and target.startswith(real_root.rstrip(os.sep) + os.sep)


def _being_written(folder: str) -> bool:
    """Whether a JSON file of the folder changed within :data:`RECENT_WRITE` seconds."""
    horizon = time.time() - RECENT_WRITE
    try:
        with os.scandir(folder) as entries:
            return any(entry.name.endswith(".json") and entry.stat().st_mtime >= horizon for entry in entries)
    except OSError:
        return False


def watch(store: Store, roots: Sequence[str | os.PathLike[str]], stop: threading.Event, *, poll: bool = False,
          on_batch: Callable[[WatchBatch], None] | None = None, notice: Callable[[str], None] | None = None,
          on_ready: Callable[[], None] | None = None) -> None:
    """Keep the store current with ``roots`` until ``stop`` is set (a thread or the headless loop).

    ``on_batch`` is called after each batch that changed the store; ``notice`` with a
    one-line message when the watcher falls back to polling; ``on_ready`` once changes are
    being seen (the OS watches are set up: ~1 s for a small tree, 1–3 s for 10 000 folders).
    """
    resolved = [str(Path(root).expanduser().resolve()) for root in roots]
    retrying: set[str] = set()
    failing = False
    for folders in change_batches(resolved, stop, poll=poll, notice=notice):
        if on_ready is not None:
            on_ready()
            on_ready = None
        todo = folders | retrying
        if not todo:
            continue
        try:
            batch = apply_changes(store, resolved, todo)
        except StoreError as error:  # locked past the timeout, disk full: keep the folders, try again
            if not failing and notice is not None:
                notice(f"Changes not stored yet ({error}); retrying")
            failing, retrying = True, todo
            continue
        failing, retrying = False, batch.retrying
        if batch.changed and on_batch is not None:
            on_batch(batch)
