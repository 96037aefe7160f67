"""Live updates in the app: the watcher keeps the list current; the app still exits at once."""

from __future__ import annotations

import time

import pytest

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui import app as app_module
from sdsessions_tui.tui.app import SessionsApp
from tests.conftest import write_session
from tests.core import spec_examples as ex
from tests.tui.helpers import until
from tests.tui.tree import build_tree


def images_of(manifest) -> list[str]:
    return [image["filename"] for image in manifest["images"]]


@pytest.fixture
def live_app(tmp_path):
    """The app on the fixture tree, watching it (no start-up refresh: the database is current)."""
    root = tmp_path / "sessions"
    build_tree(root)
    store = Store(tmp_path / "live.db")
    refresh(store, [root], retry_delays=(), workers=1)
    yield SessionsApp(store, [root], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False), root
    store.close()


def watching(app) -> bool:
    return any(worker.group == "watch" and worker.is_running for worker in app.workers)


async def test_new_sessions_appear_and_the_cursor_stays(live_app):
    app, root = live_app
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.table
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("down", "down")
        held = table.cursor_session_key
        await until(pilot, app.watch_ready.is_set, timeout=30)  # the watches are set up
        newest = ex.example_c()
        newest["snapshot"]["timestamp"] = "2026-01-02T10:00:00"
        write_session(root, "20260102_100000-brand_new", manifest=newest, images=images_of(newest), mtime=None)
        await until(pilot, lambda: table.row_count == 8, timeout=10)
        assert table.row_at(0).session_id == "20260102_100000-brand_new"  # where the date sort puts it
        assert table.cursor_session_key == held  # the cursor stays on its session
        started = time.monotonic()
    assert time.monotonic() - started < 5.0  # no hang with the watcher running (bench_watch.py times it)


async def test_new_sessions_appear_under_the_last_good_filter_while_a_term_is_half_typed(live_app, monkeypatch):
    """A reload runs the query the list shows, not the input's text: ``steps:20-`` being typed
    leaves ``steps:20`` shown, and its good terms (none) would list every session instead."""
    monkeypatch.setattr(app_module, "TYPING_ERROR_DELAY", 30.0)  # longer than the test: "while typing"
    app, root = live_app
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.table
        await until(pilot, lambda: table.row_count == 7)
        await until(pilot, lambda: app.watch_ready.is_set(), timeout=30)  # (the watcher's event, once started)
        await pilot.press("slash", *"steps:20")
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("minus")  # a range being typed: the list stays
        await until(pilot, lambda: app.typing_error_pending)
        newest = ex.example_c()  # 20 steps
        newest["snapshot"]["timestamp"] = "2026-01-02T10:00:00"
        write_session(root, "20260102_100000-brand_new", manifest=newest, images=images_of(newest), mtime=None)
        await until(pilot, lambda: table.row_count != 1, timeout=10)  # the reload's result
        assert table.row_count == 2 and table.row_at(0).session_id == "20260102_100000-brand_new"
        assert app.filter_bar.query_input.value == "steps:20-"


async def test_watching_pauses_and_resumes_from_the_palette(live_app):
    app, root = live_app
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.table
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("ctrl+p", *"pause", "enter")
        await until(pilot, lambda: not app.watching and not watching(app))
        write_session(root, "20260102_100000-while_paused", manifest=ex.example_c(),
                      images=images_of(ex.example_c()), mtime=None)
        await pilot.pause(1.5)
        assert table.row_count == 7  # paused: not picked up
        await pilot.press("W")  # resume: what changed meanwhile is refreshed
        await until(pilot, app.watch_ready.is_set, timeout=30)
        await until(pilot, lambda: table.row_count == 8, timeout=10)
        assert app.watching


async def test_a_paused_watch_shows_until_resumed(live_app):
    app, _root = live_app
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.table.row_count == 7)
        paused = app.query_one("#watch-state")
        assert not paused.display
        await pilot.press("W")
        await until(pilot, lambda: not watching(app))
        assert paused.display and "paused" in str(paused.render())
        await pilot.press("down", "slash", "escape")  # other keys, other focus: it stays
        assert paused.display
        await pilot.press("W")
        await until(pilot, lambda: watching(app))
        assert not paused.display


async def test_refresh_all_with_nothing_new_says_so(live_app):
    app, _root = live_app
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.table.row_count == 7)
        app.notify = lambda message, **_kwargs: notes.append(message)  # type: ignore[method-assign]
        await pilot.press("R")
        await until(pilot, lambda: any(note.startswith("Up to date") for note in notes), timeout=15)
        assert "Up to date: 7 sessions, nothing new" in notes


async def test_one_watcher_batch_reloads_the_list_once(live_app, monkeypatch):
    """The watcher's own commit is not another program's: the check for outside changes running
    between that commit and the UI's handling of the batch reloaded the list a second time."""
    monkeypatch.setattr(app_module, "EXTERNAL_CHECK_INTERVAL", 0.05)
    app, root = live_app
    store, upsert = app.store, app.store.upsert_stats

    def stored_then_slow(*args, **kwargs):
        written = upsert(*args, **kwargs)
        time.sleep(0.3)  # committed: several checks run before the watcher posts its batch
        return written

    monkeypatch.setattr(store, "upsert_stats", stored_then_slow)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.table
        await until(pilot, lambda: table.row_count == 7)
        await until(pilot, lambda: app.watch_ready.is_set(), timeout=30)  # (the event of the watcher started)
        reloads: list[object] = []
        invalidate = table.invalidate
        monkeypatch.setattr(table, "invalidate", lambda *keys: (reloads.append(keys), invalidate(*keys)))
        newest = ex.example_c()
        newest["snapshot"]["timestamp"] = "2026-01-02T10:00:00"
        write_session(root, "20260102_100000-brand_new", manifest=newest, images=images_of(newest), mtime=None)
        await until(pilot, lambda: table.row_count == 8, timeout=10)
        await pilot.pause(0.5)  # any second reload
        assert reloads == [()]
