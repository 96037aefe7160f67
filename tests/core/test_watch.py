"""The watcher with real inotify watches (and the polling fallback) on tmp_path: live stats updates."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from sdsessions_tui.core import watch as watch_module
from sdsessions_tui.core.store import Store
from sdsessions_tui.core.watch import FolderPoller, FolderWatches, WatchBatch, polling_reason, watch
from tests.conftest import OLD, image_names, png_bytes, write_session
from tests.core import spec_examples as ex

HAIR = "20251114_093010-hair_test"


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


class Watcher:
    """``watch()`` on a thread, as the TUI runs it; records batches and notices."""

    def __init__(self, store: Store, *roots: Path, poll: bool = False) -> None:
        self.batches: list[WatchBatch] = []
        self.notices: list[str] = []
        self.stop, ready = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=watch, args=(store, list(roots), self.stop), daemon=True,
                                       kwargs={"poll": poll, "on_batch": self.batches.append,
                                               "notice": self.notices.append, "on_ready": ready.set})
        self.thread.start()
        assert ready.wait(30), "the watcher never got ready"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    folder.mkdir()
    return folder


@pytest.fixture(params=[False, True], ids=["notify", "poll"])
def watcher(request, store, root):
    running = Watcher(store, root, poll=request.param)
    yield running
    running.close()


def stats_of(store: Store, name: str):
    for key in store.list_ids():
        found = store.get_session(key)
        if found and found[0].session_id == name:
            return found[0]
    return None


def write_manifest(folder: Path, manifest: dict | bytes) -> None:
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    with open(folder / "manifest.json", "wb") as handle:  # in place, as the generator does
        handle.write(data)


def test_a_new_session_appears(watcher, store, root):
    write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
    wait_until(lambda: getattr(stats_of(store, HAIR), "images_actual", 0) == 6)  # one batch or several
    assert any(batch.new == 1 for batch in watcher.batches)


def test_a_manifest_rewrite_updates_the_row(watcher, store, root):
    manifest = ex.example_c()
    manifest["status"] = "aborted"
    folder = write_session(root, HAIR, manifest=manifest, images=image_names(manifest), mtime=None)
    wait_until(lambda: getattr(stats_of(store, HAIR), "manifest_status", None) == "aborted")
    write_manifest(folder, ex.example_c())
    wait_until(lambda: stats_of(store, HAIR).manifest_status == "completed")


def test_a_session_written_image_by_image_ends_with_correct_stats(watcher, store, root):
    full = ex.example_c()
    folder = root / HAIR
    folder.mkdir()
    for count in range(len(full["images"]) + 1):
        manifest = json.loads(json.dumps(full))
        manifest["images"] = full["images"][:count]
        manifest["status"] = "completed" if count == len(full["images"]) else "ongoing"
        if count:
            (folder / full["images"][count - 1]["filename"]).write_bytes(png_bytes())  # the PNG first…
        write_manifest(folder, manifest)  # …then the manifest, rewritten in place
        time.sleep(0.05)
    wait_until(lambda: getattr(stats_of(store, HAIR), "status", None) == "completed")
    stats = stats_of(store, HAIR)
    assert (stats.images_actual, stats.images_expected, stats.stats_error) == (6, 6, None)


def test_a_truncated_manifest_is_retried_not_stored(watcher, store, root):
    folder = root / HAIR
    folder.mkdir()
    for image in image_names(ex.example_c()):
        (folder / image).write_bytes(png_bytes())
    text = json.dumps(ex.example_c()).encode()
    write_manifest(folder, text[: len(text) // 2])  # caught mid-write
    time.sleep(1.5)
    assert stats_of(store, HAIR) is None  # never cached as broken
    assert any(str(folder) in batch.retrying for batch in watcher.batches) or not watcher.batches
    write_manifest(folder, text)
    wait_until(lambda: stats_of(store, HAIR) is not None)
    assert stats_of(store, HAIR).stats_error is None and stats_of(store, HAIR).images_actual == 6


def test_a_deleted_folder_becomes_unavailable(watcher, store, root):
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
    wait_until(lambda: stats_of(store, HAIR) is not None)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    wait_until(lambda: not store.list_ids())  # hidden by default…
    assert store.known_paths([str(folder)])[str(folder)].is_unavailable  # …but kept


def test_a_renamed_folder_keeps_its_metadata(watcher, store, root):
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
    wait_until(lambda: stats_of(store, HAIR) is not None)
    key = store.list_ids()[0]
    store.update_metadata(key, {"tags": ["keep"], "is_favorite": True})
    renamed = root / "20251114_093010-hair_final"
    folder.rename(renamed)
    wait_until(lambda: store.get_session(key)[0].session_path == str(renamed))
    stats, metadata = store.get_session(key)
    assert stats.session_id == "20251114_093010-hair_final"
    assert metadata.tags == ("keep",) and metadata.is_favorite
    assert store.list_ids() == [key]


def test_the_watcher_stops_when_asked(store, root):
    """No hang on exit (bench_watch.py measures how fast)."""
    Watcher(store, root).close()  # joins with a 5 s limit and fails if the thread is still alive


def test_the_os_watch_limit_falls_back_to_polling(store, root, monkeypatch):
    import inotify_simple

    def refuse(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(inotify_simple.INotify, "add_watch", refuse)
    running = Watcher(store, root)
    try:
        wait_until(lambda: running.notices)
        assert "polling" in running.notices[0] and "watch limit" in running.notices[0]
        write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
        wait_until(lambda: stats_of(store, HAIR) is not None)
    finally:
        running.close()


def seen_until(watches: FolderWatches, wanted: str) -> set[str]:
    """Every folder the watches' batches name until one names ``wanted`` (fails after 10 s)."""
    seen: set[str] = set()
    deadline = time.monotonic() + 10
    for batch in watches.batches(threading.Event()):
        seen |= batch
        if wanted in seen:
            return seen
        assert time.monotonic() < deadline, f"{wanted} not seen"
    raise AssertionError("the watches stopped")


def test_dry_runs_and_hidden_folders_map_to_their_session(root):
    (root / "s1").mkdir()
    with closing(FolderWatches([str(root)])) as watches:
        (root / "s1" / "img_0001.png").write_bytes(b"x")
        assert seen_until(watches, str(root / "s1")) == {str(root / "s1")}
        (root / "dryrun" / "s2").mkdir(parents=True)  # a new dryrun folder, then a session in it
        assert seen_until(watches, str(root / "dryrun" / "s2")) == {str(root / "dryrun" / "s2")}
        (root / "dryrun" / "s2" / "manifest.json").write_bytes(b"{}")
        assert seen_until(watches, str(root / "dryrun" / "s2")) == {str(root / "dryrun" / "s2")}
        (root / ".cache").mkdir()
        (root / ".cache" / "x").write_bytes(b"x")
        (root / "s1" / "img_0002.png").write_bytes(b"x")
        assert seen_until(watches, str(root / "s1")) == {str(root / "s1")}  # hidden folders are not sessions


def test_network_mounts_are_polled(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\nserver:/export /data nfs4 rw 0 0\n")
    assert "nfs4" in polling_reason(["/data/sessions"], str(mounts))
    assert polling_reason(["/home/me/sessions"], str(mounts)) is None


def test_the_poller_sees_in_place_rewrites(root):
    folder = write_session(root, HAIR, manifest=ex.example_c(), mtime=None)
    poller = FolderPoller([str(root)])
    assert poller.changes() == set()
    write_manifest(folder, json.dumps(ex.example_c()).encode() + b" ")  # same folder mtime, new size
    assert poller.changes() == {str(folder)}



def test_a_failed_write_is_retried_with_the_next_tick(store, root, monkeypatch):
    from sdsessions_tui.core.db import StoreError

    original, failures = watch_module.apply_changes, [2]

    def flaky(*args):
        if failures[0]:
            failures[0] -= 1
            raise StoreError("the database is locked by another program (waited 10 s); try again")
        return original(*args)

    monkeypatch.setattr(watch_module, "apply_changes", flaky)
    running = Watcher(store, root)
    try:
        write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
        wait_until(lambda: stats_of(store, HAIR) is not None)
        assert len([n for n in running.notices if "not stored yet" in n]) == 1  # said once, not per retry
    finally:
        running.close()


def test_a_symlink_leading_outside_the_root_is_not_followed(store, root, tmp_path):
    outside = write_session(tmp_path / "elsewhere", HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()))
    (root / "20251114_093010-linked").symlink_to(outside)
    batch = watch_module.apply_changes(store, [str(root)], {str(root / "20251114_093010-linked")})
    assert not batch.changed and not store.list_ids()


@pytest.mark.parametrize("poll", [False, True], ids=["notify", "poll"])
def test_every_root_is_watched(store, tmp_path, poll):
    roots = [tmp_path / "gpu-a", tmp_path / "gpu-b"]
    for folder in roots:
        folder.mkdir()
    running = Watcher(store, *roots, poll=poll)
    try:
        for index, folder in enumerate(roots):
            write_session(folder, f"2025111{index}_093010-run", manifest=ex.example_c(),
                          images=image_names(ex.example_c()), mtime=None)
        wait_until(lambda: len(store.list_ids()) == 2)
        assert {store.get_session(key)[0].session_path for key in store.list_ids()} == {
            str(roots[0] / "20251110_093010-run"), str(roots[1] / "20251111_093010-run")}
    finally:
        running.close()


def test_a_rename_seen_new_name_first_still_relinks(store, root):
    """The new folder's event may come in a batch before the old one's: its content still finds it."""
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()))
    watch_module.apply_changes(store, [str(root)], {str(folder)})
    key = store.list_ids()[0]
    store.update_metadata(key, {"tags": ["keep"]})
    renamed = root / "20251114_093010-hair_final"
    folder.rename(renamed)
    batch = watch_module.apply_changes(store, [str(root)], {str(renamed)})  # only the new name reported
    assert batch.relinked == 1 and batch.new == 0
    assert store.list_ids() == [key]
    stats, metadata = store.get_session(key)
    assert stats.session_path == str(renamed) and metadata.tags == ("keep",)


def test_a_folder_restored_long_after_it_vanished_gets_its_metadata_back(store, root, tmp_path):
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()))
    watch_module.apply_changes(store, [str(root)], {str(folder)})
    (key,) = store.list_ids()
    store.update_metadata(key, {"is_favorite": True})
    folder.rename(tmp_path / "aside")
    assert watch_module.apply_changes(store, [str(root)], {str(folder)}).unavailable == 1
    (tmp_path / "aside").rename(root / "20251114_093010-hair_back")
    batch = watch_module.apply_changes(store, [str(root)], {str(root / "20251114_093010-hair_back")})
    assert (batch.relinked, batch.new, batch.unavailable) == (1, 0, 0)
    assert store.list_ids() == [key] and store.get_metadata(key).is_favorite


def inotify_watches() -> int:
    """Every inotify watch this process holds (each inotify descriptor's fdinfo lists one line per watch)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    count += sum(line.startswith("inotify wd:") for line in info)
        except OSError:  # the descriptor listing itself, closed meanwhile
            continue
    return count


@pytest.fixture
def big_outside(tmp_path: Path) -> Path:
    """A folder outside the root with many sub-folders (a stand-in for /usr)."""
    outside = tmp_path / "usr"
    for index in range(40):
        (outside / f"lib{index}" / "deeper").mkdir(parents=True)
    return outside


@pytest.mark.skipif(not os.path.isdir("/proc/self/fdinfo"), reason="counts watches through /proc")
def test_symlinks_out_of_the_root_add_no_watch(store, root, tmp_path, big_outside):
    (root / "20251114_093010-a").mkdir()
    (root / "20251114_093010-inside").symlink_to(root / "20251114_093010-a")  # inside the root: watched
    (root / "20251114_093010-usr").symlink_to(big_outside)
    (root / "dryrun").symlink_to(big_outside)  # a dryrun folder leading out too
    before = inotify_watches()
    running = Watcher(store, root)
    try:
        # the root and its one session folder (the inside link shares its target's watch); a recursive
        # watcher had 2 + 81 here, one per folder of the outside tree
        assert inotify_watches() - before == 2
        (root / "20251114_093010-b").mkdir()  # a new folder is armed as it appears…
        wait_until(lambda: inotify_watches() - before == 3)
        (root / "20251114_093010-usr2").symlink_to(big_outside)  # …a new link leading out is not
        write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
        wait_until(lambda: stats_of(store, HAIR) is not None)
        assert inotify_watches() - before == 4
    finally:
        running.close()


def test_the_poller_does_not_follow_symlinks_out_of_the_root(root, big_outside, monkeypatch):
    (root / "20251114_093010-a").mkdir()
    (root / "20251114_093010-usr").symlink_to(big_outside)
    (root / "dryrun").symlink_to(big_outside)
    visited: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: visited.append(str(path)) or real_stat(path, *a, **k))
    poller = FolderPoller([str(root)])
    poller.changes()
    assert set(poller._snapshot) == {str(root / "20251114_093010-a")}
    assert not [path for path in visited if "usr" in path or "dryrun" in path]


def test_the_watch_limit_reached_later_switches_to_polling(store, root, monkeypatch):
    import inotify_simple

    real_add, full = inotify_simple.INotify.add_watch, threading.Event()

    def add_watch(self, path, mask):
        if full.is_set():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_add(self, path, mask)

    monkeypatch.setattr(inotify_simple.INotify, "add_watch", add_watch)
    running = Watcher(store, root)
    try:
        full.set()
        write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()), mtime=None)
        wait_until(lambda: getattr(stats_of(store, HAIR), "images_actual", 0) == 6)  # the folder not watched…
        wait_until(lambda: running.notices)
        assert len(running.notices) == 1 and "polling" in running.notices[0] and "watch limit" in running.notices[0]
        write_session(root, "20251114_100000-later", manifest=ex.example_c(), images=image_names(ex.example_c()),
                      mtime=None)
        wait_until(lambda: stats_of(store, "20251114_100000-later") is not None)  # …and what comes next: polled
    finally:
        running.close()


def test_lost_events_are_made_up_by_a_rescan(root, monkeypatch):
    from inotify_simple import Event

    old, written, gone = (write_session(root, name, manifest=ex.example_c()) for name in ("old", "written", "gone"))
    for folder in (old, written, gone):
        os.utime(folder, (OLD, OLD))
    with closing(FolderWatches([str(root)])) as watches:
        gone.rename(root / ".hidden")  # while the kernel's queue was full: these events are lost
        write_manifest(written, ex.example_c())
        write_session(root, "new", mtime=None)
        monkeypatch.setattr(watches._inotify, "read", lambda timeout: [Event(-1, 0x4000, 0, "")])  # IN_Q_OVERFLOW
        changed = watches._read(0)
    assert changed == {str(written), str(gone), str(root / "new")}  # not the old, untouched one
    assert str(old) not in changed


def test_a_folder_name_that_is_not_utf8_is_watched_like_any_other(watcher, store, root):
    name = os.fsdecode(b"20251114_093010-caf\xe9")  # watchfiles died on it (WatchfilesRustInternalError)
    manifest = ex.example_c()
    manifest["status"] = "aborted"
    folder = write_session(root, name, manifest=manifest, images=image_names(manifest), mtime=None)
    wait_until(lambda: getattr(stats_of(store, name), "manifest_status", None) == "aborted")
    assert stats_of(store, name).session_path == str(folder)
    key = store.list_ids()[0]
    store.update_metadata(key, {"tags": ["keep"]})
    write_manifest(folder, ex.example_c())  # its changes are seen…
    wait_until(lambda: stats_of(store, name).manifest_status == "completed")
    renamed = root / os.fsdecode(b"20251114_093010-caf\xe9 final")
    folder.rename(renamed)  # …and a rename relinks it, metadata included
    wait_until(lambda: store.get_session(key)[0].session_path == str(renamed))
    assert store.get_session(key)[1].tags == ("keep",) and store.list_ids() == [key]
    assert watcher.thread.is_alive() and not [notice for notice in watcher.notices if "--poll" not in notice]


def test_a_folder_renamed_while_the_watcher_reads_it_is_relinked(store, root, monkeypatch):
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=image_names(ex.example_c()))
    watch_module.apply_changes(store, [str(root)], {str(folder)})
    key = store.list_ids()[0]
    store.update_metadata(key, {"tags": ["keep"]})
    renamed = root / "20251114_093010-hair_final"
    real = watch_module.read_session

    def read(session, **kwargs):
        if session.path == folder and folder.exists():
            folder.rename(renamed)  # between the batch's check and the read
        return real(session, **kwargs)

    monkeypatch.setattr(watch_module, "read_session", read)
    batch = watch_module.apply_changes(store, [str(root)], {str(folder)})
    assert (batch.unavailable, batch.updated) == (1, 0)  # gone, not stored broken
    assert store.get_session(key)[0].stats_error is None
    batch = watch_module.apply_changes(store, [str(root)], {str(renamed)})
    assert batch.relinked == 1 and store.list_ids() == [key]  # no extra broken row for the old name
    stats, metadata = store.get_session(key)
    assert stats.session_path == str(renamed) and metadata.tags == ("keep",)
