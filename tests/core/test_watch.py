"""The watcher with a real watchfiles (and the polling fallback) on tmp_path: live stats updates."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sdsessions_tui.core import watch as watch_module
from sdsessions_tui.core.store import Store
from sdsessions_tui.core.watch import FolderPoller, WatchBatch, polling_reason, session_folder, watch
from tests.conftest import png_bytes, write_session
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


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "watch.db") as opened:
        yield opened


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


def images_of(manifest) -> list[str]:
    return [image["filename"] for image in manifest["images"]]


def write_manifest(folder: Path, manifest: dict | bytes) -> None:
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    with open(folder / "manifest.json", "wb") as handle:  # in place, as the generator does
        handle.write(data)


def test_a_new_session_appears(watcher, store, root):
    write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()), mtime=None)
    wait_until(lambda: stats_of(store, HAIR) is not None)
    assert stats_of(store, HAIR).images_actual == 6
    assert any(batch.new == 1 for batch in watcher.batches)


def test_a_manifest_rewrite_updates_the_row(watcher, store, root):
    manifest = ex.example_c()
    manifest["status"] = "aborted"
    folder = write_session(root, HAIR, manifest=manifest, images=images_of(manifest), mtime=None)
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
    for image in images_of(ex.example_c()):
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
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()), mtime=None)
    wait_until(lambda: stats_of(store, HAIR) is not None)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    wait_until(lambda: not store.list_ids())  # hidden by default…
    assert store.known_paths([str(folder)])[str(folder)].is_unavailable  # …but kept


def test_a_renamed_folder_keeps_its_metadata(watcher, store, root):
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()), mtime=None)
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
    import watchfiles

    def refuse(*_args, **_kwargs):
        raise OSError("OS file watch limit reached")
        yield  # a generator, like watchfiles.watch

    monkeypatch.setattr(watchfiles, "watch", refuse)
    running = Watcher(store, root)
    try:
        wait_until(lambda: running.notices)
        assert "polling" in running.notices[0] and "watch limit" in running.notices[0]
        write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()), mtime=None)
        wait_until(lambda: stats_of(store, HAIR) is not None)
    finally:
        running.close()


def test_dry_runs_and_hidden_folders_map_to_their_session():
    roots = ["/data/sessions"]
    assert session_folder("/data/sessions/s1/img_0001.png", roots) == "/data/sessions/s1"
    assert session_folder("/data/sessions/dryrun/s2/manifest.json", roots) == "/data/sessions/dryrun/s2"
    assert session_folder("/data/sessions/dryrun", roots) is None
    assert session_folder("/data/sessions/.cache/x", roots) is None
    assert session_folder("/elsewhere/s1/x.png", roots) is None


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
        write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()), mtime=None)
        wait_until(lambda: stats_of(store, HAIR) is not None)
        assert len([n for n in running.notices if "not stored yet" in n]) == 1  # said once, not per retry
    finally:
        running.close()


def test_a_symlink_leading_outside_the_root_is_not_followed(store, root, tmp_path):
    outside = write_session(tmp_path / "elsewhere", HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()))
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
                          images=images_of(ex.example_c()), mtime=None)
        wait_until(lambda: len(store.list_ids()) == 2)
        assert {store.get_session(key)[0].session_path for key in store.list_ids()} == {
            str(roots[0] / "20251110_093010-run"), str(roots[1] / "20251111_093010-run")}
    finally:
        running.close()


def test_a_rename_seen_new_name_first_still_relinks(store, root):
    """The new folder's event may come in a batch before the old one's: its content still finds it."""
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()))
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
    folder = write_session(root, HAIR, manifest=ex.example_c(), images=images_of(ex.example_c()))
    watch_module.apply_changes(store, [str(root)], {str(folder)})
    (key,) = store.list_ids()
    store.update_metadata(key, {"is_favorite": True})
    folder.rename(tmp_path / "aside")
    assert watch_module.apply_changes(store, [str(root)], {str(folder)}).unavailable == 1
    (tmp_path / "aside").rename(root / "20251114_093010-hair_back")
    batch = watch_module.apply_changes(store, [str(root)], {str(root / "20251114_093010-hair_back")})
    assert (batch.relinked, batch.new, batch.unavailable) == (1, 0, 0)
    assert store.list_ids() == [key] and store.get_metadata(key).is_favorite
