"""Live updates without a terminal: the messages they post collected, the watcher in a plain thread."""

from __future__ import annotations

import threading
import time

import pytest

from sdsessions_tui.core import watch as watch_module
from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.core.watch import WatchBatch
from sdsessions_tui.tui.live_updates import LiveUpdates
from sdsessions_tui.tui.messages import Notice, OutsideChange, RetryLater, WatchBatchesReady
from tests.conftest import write_session
from tests.core import spec_examples as ex
from tests.tui.tree import build_tree


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "sessions"
    build_tree(root)
    with Store(tmp_path / "live.db") as store:
        refresh(store, [root], retry_delays=(), workers=1)
        yield store, root


def live_on(store, roots, **options):
    posted: list[object] = []
    threads: list[threading.Thread] = []

    def run_in_thread(body) -> None:
        threads.append(threading.Thread(target=body, daemon=True))
        threads[-1].start()

    return LiveUpdates(store, roots, post=posted.append, run_in_thread=run_in_thread, **options), posted, threads


def test_one_watcher_batch_is_one_reload(tree):
    """The watcher's own commit is not another program's: a check between its commit and the
    UI's handling of its batch used to reload a second time."""
    store, root = tree
    live, posted, threads = live_on(store, [root])
    live.start_checks()
    live.start_watching()
    wait_for(live.ready.is_set)
    manifest = ex.example_c()
    write_session(root, "20260102_100000-brand_new", manifest=manifest,
                  images=[image["filename"] for image in manifest["images"]], mtime=None)
    wait_for(lambda: posted)
    live.check()  # the poll, before the UI took the batch
    reloads = [type(message) for message in posted]
    news = live.take_batches()
    live.stop()
    threads[0].join(5)
    assert reloads == [WatchBatchesReady]
    assert news is not None and any(path.endswith("brand_new") for path in news.changed) and news.models


def test_batches_waiting_for_the_ui_are_one_message_and_one_news(tree, monkeypatch):
    store, root = tree

    def three_batches(_store, _roots, _stop, *, on_batch, **_options) -> None:
        on_batch(WatchBatch(changed={"/a"}, updated=1))
        on_batch(WatchBatch(changed={"/b"}, new=1))
        on_batch(WatchBatch(changed={"/c"}, updated=1))

    monkeypatch.setattr(watch_module, "watch", three_batches)
    live, posted, threads = live_on(store, [root])
    live.start_watching()
    threads[0].join(5)
    assert [type(message) for message in posted] == [WatchBatchesReady]
    news = live.take_batches()
    assert news is not None and news.changed == {"/a", "/b", "/c"} and news.models
    assert live.take_batches() is None  # (a second message would find nothing)


def test_another_programs_commit_is_an_outside_change_once(tree):
    store, root = tree
    live, posted, _threads = live_on(store, [root], watch=False)
    live.start_checks()
    key = store.list_ids()[0]
    store.update_metadata(key, {"is_test": True})  # ours: not news
    live.check()
    assert posted == [] and live.checking
    with Store(store.path) as other:
        other.update_metadata(key, {"is_complete": True})
    live.check()
    live.check()
    assert [type(message) for message in posted] == [OutsideChange]


def test_a_check_that_fails_says_so_once(tree, monkeypatch):
    store, root = tree
    live, posted, _threads = live_on(store, [root], watch=False)

    def refuse() -> bool:
        raise StoreError("disk I/O error")

    monkeypatch.setattr(store, "changed_by_others", refuse)
    live.start_checks()
    live.check()
    live.check()
    (notice,) = posted
    assert isinstance(notice, Notice) and "disk I/O error" in notice.text and notice.severity == "error"


def test_a_failing_watcher_is_retried_unless_stopped(tree, monkeypatch):
    store, root = tree

    def broken(*_args, **_options) -> None:
        raise OSError("inotify watch limit reached")

    monkeypatch.setattr(watch_module, "watch", broken)
    live, posted, threads = live_on(store, [root])
    live.start_watching(attempt=2)
    threads[0].join(5)
    (retry,) = posted
    assert isinstance(retry, RetryLater) and retry.attempt == 2 and retry.what == "Watching stopped"
    assert not live.toggle() and live.toggle()  # paused, then watching again (a new thread)
    threads[1].join(5)
    assert len(posted) == 2


def test_no_watcher_without_folders_or_when_paused(tree, tmp_path):
    store, root = tree
    live, _posted, threads = live_on(store, [tmp_path / "gone"])
    live.start_watching()
    paused, _posted, paused_threads = live_on(store, [root], watch=False)
    paused.start_watching()
    assert threads == [] and paused_threads == []
