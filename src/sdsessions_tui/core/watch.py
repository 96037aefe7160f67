"""Keeping the store current while sessions are being written: the TUI's live updates and ``--watch``.

Changes come from inotify (:class:`FolderWatches`): one watch per root, per
``dryrun`` folder and per session folder, none recursive, set up by discovery's
rule, so a symlink leading out of a root is never watched (a recursive watcher
walks into it: one to ``/usr`` gave 15 581 watches).  Where notifications do not
work — the OS watch limit reached, WSL's ``/mnt`` drives, network mounts, a
system without inotify, ``--poll`` — changes come from :class:`FolderPoller`,
which compares cheap snapshots of the session folders (each folder's mtime and
its manifest's mtime and size, never every image: watchfiles' own polling stats
all 200 000 files of 10 000 sessions and took 22–71 % of a core here).  Each
batch becomes a set of session folders, re-read and written in one short
transaction (:func:`apply_changes`).  A manifest caught half-written is retried
on the next event or tick, never stored as broken.  Everything here runs
without Textual.
"""

from __future__ import annotations

import errno
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .db import StoreError
from .discovery import DRYRUN_DIR, SessionFolder, child_dirs
from .names import parse_folder_name
from .refresh import StatsBatch, fingerprint_changed
from .stats import read_session, vanished_mid_read
from .store import KnownSession, Store, stats_to_row

#: A batch is yielded once no event came for STEP_MS, or DEBOUNCE_MS after its first event
#: (watchfiles' default, 1.6 s, would miss the "row updated within a second" target).
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
        for path in session_folders(self.roots):
            folder_mtime = _mtime_size(path)[0]
            previous = self._snapshot.get(path)
            if full or previous is None or folder_mtime >= active_since or previous[0] != folder_mtime:
                snapshot[path] = (folder_mtime, *_mtime_size(os.path.join(path, MANIFEST)))
            else:
                snapshot[path] = (folder_mtime, previous[1], previous[2])
        return snapshot


def session_folders(roots: Sequence[str]) -> Iterator[str]:
    """The session folders under ``roots`` by discovery's rule (no symlink out of a root), unparsed."""
    for root in roots:
        real_root = os.path.realpath(root)
        for entry in child_dirs(Path(root), real_root, []):
            if entry.name == DRYRUN_DIR:
                yield from (dry.path for dry in child_dirs(Path(entry.path), real_root, []))
            else:
                yield entry.path


def _mtime_size(path: str) -> tuple[float, float]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1.0, -1.0)
    return (info.st_mtime, float(info.st_size))


#: What a watch reports, as notify (under watchfiles) asked: entries made, written, closed, touched,
#: moved or deleted, and the watched folder itself deleted or moved.
_EVENTS = 0x002 | 0x004 | 0x008 | 0x040 | 0x080 | 0x100 | 0x200 | 0x400 | 0x800
_ENTERED = 0x100 | 0x080  # created, moved in
_LEFT = 0x200 | 0x040  # deleted, moved out
_Q_OVERFLOW, _IGNORED = 0x4000, 0x8000
#: Watch exactly the folder that was checked (a directory, never a symlink put in its place since).
_ONLYDIR_DONT_FOLLOW = 0x01000000 | 0x02000000
#: File time stamps may be this coarse (FAT, SMB): a rescan takes folders changed this much earlier too.
_MTIME_SLACK = 2.0


class FolderWatches:
    """inotify watches on the roots, their ``dryrun`` folders and every session folder, one level each.

    Never recursive: session folders are one or two levels deep, so watching each
    of them, and adding new ones as their parent reports them, sees every change
    discovery can see and nothing outside a root (a recursive watcher follows
    directory symlinks wherever they lead).  inotify gives names as bytes, so a
    folder name that is not UTF-8 is watched like any other (watchfiles raised
    ``WatchfilesRustInternalError`` on it).  Adding a watch is one system call,
    so new folders are armed at once, without the GIL held for the whole tree.
    """

    def __init__(self, roots: Sequence[str]) -> None:
        from inotify_simple import INotify  # (no type hints shipped: see [tool.mypy] in pyproject.toml)

        self.roots = list(roots)
        self.exhausted: OSError | None = None
        """Set when the OS refused a new watch (its limit): the caller falls back to polling."""
        self._inotify = INotify()
        self._ready = select.poll()  # waits without asking the size of the queue first, as INotify.read does
        self._ready.register(self._inotify.fileno(), select.POLLIN)
        self._parents: dict[int, str] = {}  # watch → a root or a root's dryrun folder
        self._sessions: dict[int, set[str]] = {}  # watch → the session folders it stands for (symlinks too)
        self._watch_of: dict[str, int] = {}  # watched path → its watch
        self._root_of: dict[str, str] = {}  # parent → its root
        self._drained = time.time()  # when the event queue was last seen empty
        try:
            for root in self.roots:
                self._arm_parent(root, root)
        except BaseException:
            self.close()
            raise
        if self.exhausted is not None:
            self.close()
            raise self.exhausted

    def close(self) -> None:
        self._inotify.close()

    def fileno(self) -> int:
        """The inotify descriptor (its ``/proc/self/fdinfo`` entry lists every watch)."""
        return cast(int, self._inotify.fileno())  # (inotify_simple is untyped)

    def batches(self, stop: threading.Event) -> Iterator[set[str]]:
        """Sets of changed session folders until ``stop`` is set or the OS refuses a watch; an empty
        set at least every :data:`TICK_MS`."""
        quiet_since = time.monotonic()
        while not stop.is_set() and self.exhausted is None:
            changed = self._read(STEP_MS)
            if changed is None:
                if time.monotonic() - quiet_since >= TICK_MS / 1000:
                    quiet_since = time.monotonic()
                    yield set()
                continue
            deadline = time.monotonic() + DEBOUNCE_MS / 1000
            while time.monotonic() < deadline and not stop.is_set():
                more = self._read(STEP_MS)
                if more is None:
                    break
                changed |= more
            quiet_since = time.monotonic()
            yield changed

    def drain(self) -> set[str]:
        """What changed since the last batch, without waiting (before switching to polling)."""
        return self._read(0) or set()

    def _read(self, timeout_ms: int) -> set[str] | None:
        """The session folders the pending events name; None when none came within ``timeout_ms``."""
        events = self._inotify.read(timeout=0) if self._ready.poll(timeout_ms) else []
        if not events:
            self._drained = time.time()
            return None
        since, changed, overflow = self._drained, set[str](), False
        for event in events:
            if event.mask & _Q_OVERFLOW:
                overflow = True
            elif event.mask & _IGNORED:  # its folder is gone (or was unwatched)
                self._drop(event.wd)
            else:
                if event.name and event.wd in self._parents:
                    changed |= self._entry_changed(self._parents[event.wd], event.name, event.mask)
                changed |= self._sessions.get(event.wd, set())
        if overflow:  # the kernel dropped events: what changed since the queue was last empty
            changed |= self._rescan(since)
        return changed

    def _entry_changed(self, parent: str, name: str, mask: int) -> set[str]:
        """A root's or dryrun folder's entry was made, moved or deleted: the session folders concerned."""
        if name.startswith("."):
            return set()
        path, root = os.path.join(parent, name), self._root_of[parent]
        entered = mask & _ENTERED and path not in self._watch_of and os.path.isdir(path) and _inside(path, root)
        if parent == root and name == DRYRUN_DIR:
            if mask & _LEFT:
                return self._forget_parent(path)
            return self._arm_parent(path, root) if entered else set()
        if mask & _LEFT:
            self._forget(path)
        elif entered:
            self._add_session(path)
        return {path}

    def _arm_parent(self, parent: str, root: str) -> set[str]:
        """Watch a root or dryrun folder and the session folders in it (discovery's rule); those folders."""
        watch = self._add(os.path.realpath(parent) if os.path.islink(parent) else parent)
        if watch is None:
            return set()
        self._parents[watch], self._watch_of[parent], self._root_of[parent] = parent, watch, root
        found: set[str] = set()
        for entry in child_dirs(Path(parent), os.path.realpath(root), []):
            if parent == root and entry.name == DRYRUN_DIR:
                found |= self._arm_parent(entry.path, root)
            else:
                self._add_session(entry.path)
                found.add(entry.path)
        return found

    def _add_session(self, path: str) -> None:
        watch = self._add(os.path.realpath(path) if os.path.islink(path) else path)
        if watch is not None:
            self._sessions.setdefault(watch, set()).add(path)
            self._watch_of[path] = watch

    def _add(self, path: str) -> int | None:
        """A watch on this folder; None when it cannot have one (gone, not a folder, not readable)."""
        try:
            return int(self._inotify.add_watch(path, _EVENTS | _ONLYDIR_DONT_FOLLOW))
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.ENOMEM) and self.exhausted is None:
                self.exhausted = OSError(error.errno, "OS file watch limit reached (fs.inotify.max_user_watches)")
            return None

    def _forget(self, path: str) -> None:
        watch = self._watch_of.pop(path, None)
        if watch is None:
            return
        paths = self._sessions.get(watch, set())
        paths.discard(path)
        if not paths and self._parents.get(watch) != path:
            self._sessions.pop(watch, None)
            self._parents.pop(watch, None)
            try:
                self._inotify.rm_watch(watch)
            except OSError:  # already gone with its folder
                pass

    def _forget_parent(self, parent: str) -> set[str]:
        """A dryrun folder left: its sessions left with it."""
        inside = [path for path in self._watch_of if path.startswith(parent + os.sep)]
        watch = self._watch_of.get(parent)
        if watch is not None:
            self._parents.pop(watch, None)
        for path in [*inside, parent]:
            self._forget(path)
        return set(inside)

    def _drop(self, watch: int) -> None:
        for path in self._sessions.pop(watch, set()) | {self._parents.pop(watch, "")} - {""}:
            if self._watch_of.get(path) == watch:
                del self._watch_of[path]

    def _rescan(self, since: float) -> set[str]:
        """After lost events: every folder found or lost since, and those written since ``since``."""
        before = {path for paths in self._sessions.values() for path in paths}
        listed: set[str] = set()
        for root in self.roots:
            listed |= self._arm_parent(root, root)
        for path in before - listed:
            self._forget(path)
        horizon = since - _MTIME_SLACK
        recent = {path for path in listed & before
                  if max(_mtime_size(path)[0], _mtime_size(os.path.join(path, MANIFEST))[0]) >= horizon}
        return (before ^ listed) | recent


def change_batches(roots: Sequence[str], stop: threading.Event, *, poll: bool = False,
                   notice: Callable[[str], object] | None = None) -> Iterator[set[str]]:
    """Sets of changed session folders until ``stop`` is set; an empty set at least every tick.

    The first (empty) set comes once changes are being seen.  Notifications first;
    polling with ``poll``, for roots :func:`polling_reason` names, without inotify, or
    when the OS runs out of watches (``notice`` says which, once).
    """
    reason = "--poll" if poll else polling_reason(roots)
    if reason is None and not sys.platform.startswith("linux"):
        reason = "file notifications need Linux inotify"
    poller: FolderPoller | None = None
    if reason is None:
        try:
            watches = FolderWatches(roots)
        except OSError as error:  # the watch limit, or no inotify instance left
            reason = f"file notifications unavailable ({error.strerror or error})"
        else:
            try:
                yield set()
                yield from watches.batches(stop)
                if watches.exhausted is None:
                    return
                reason = f"file notifications unavailable ({watches.exhausted.strerror})"
                poller = FolderPoller(roots)  # its first snapshot, then what the watches saw before it
                yield watches.drain()
            finally:
                watches.close()
    if notice is not None:
        notice(f"Watching by polling every {POLL_INTERVAL:g} s: {reason}")
    if poller is None:
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
        if vanished_mid_read(stats.stats_error, path):  # renamed or deleted meanwhile: gone, not broken
            if path in known and not known[path].is_unavailable:
                gone.append(path)
            continue
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
    batch.updated -= writer.took_over
    batch.new += writer.took_over - writer.relinked
    batch.unavailable += writer.replaced
    batch.unavailable -= sum(path not in writer.known for path in gone)  # relinked: moved, not gone
    batch.changed.update(gone)
    batch.seconds = time.monotonic() - started
    return batch


def _renamed_away(store: Store, rows: list[dict[str, Any]], known: dict[str, KnownSession],
                  folders: set[str]) -> list[str]:
    """Stored sessions whose folder is gone though this batch did not say so, and whose content a new
    folder of the batch has (or a folder now holding another session than the stored one): a rename
    seen by half (the new name first).  They count as gone here, so the new folder takes their place,
    the user's metadata included."""
    prints = [row["fingerprint"] for row in rows if row["fingerprint"] and (
        row["session_path"] not in known or fingerprint_changed(known[row["session_path"]], row))]
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
          on_batch: Callable[[WatchBatch], object] | None = None, notice: Callable[[str], object] | None = None,
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
