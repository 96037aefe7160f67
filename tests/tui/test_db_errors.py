"""Database errors in the app's background work are said in one line and retried; the app stays up,
pending edits stay; an unexpected crash exits non-zero with one line on stderr."""

from __future__ import annotations

import os
import sqlite3

import pytest

from sdsessions_tui.core import db, engine
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui import app as app_module
from sdsessions_tui.tui.app import SessionsApp
from tests.tui.helpers import ready, until
from tests.tui.tree import changed_tree


@pytest.fixture
def short_waits(monkeypatch):
    """A lock held by another program fails a write in 0.2 s, not 10; retries come fast."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(app_module, "RETRY_DELAYS", (0.3,))


async def test_a_refresh_against_a_locked_database_is_said_and_retried(app_store, tmp_path, short_waits, notified):
    root = changed_tree(tmp_path)
    store = Store(app_store.path)  # its connections get the short busy timeout
    locker = sqlite3.connect(app_store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    app = SessionsApp(store, [root], thumbnail_cache=tmp_path / "thumbs", watch=False)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await ready(pilot)
            await until(pilot, lambda: any("could not be refreshed" in text for text in notified))
            assert app.is_running
            locker.rollback()
            await until(pilot, lambda: app.table.row_count == 8)  # the retry found the new session
    finally:
        locker.close()
        store.close()


async def test_a_read_only_database_is_said_and_the_pending_edit_stays(app_store, tmp_path, short_waits, notified):
    root = changed_tree(tmp_path)
    store = Store(app_store.path)
    os.chmod(app_store.path, 0o444)
    app = SessionsApp(store, [root], thumbnail_cache=tmp_path / "thumbs", watch=False)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await ready(pilot)
            await until(pilot, lambda: any("could not be refreshed" in text and "read-only" in text
                                           for text in notified))
            await pilot.press("f")
            assert app.edits
            assert app.is_running
    finally:
        os.chmod(app_store.path, 0o644)
        store.close()


CRASH = ("from sdsessions_tui.core.store import Store\n"
         "def broken(self, *args, **kwargs):\n"
         "    raise RuntimeError('boom [bold]x')\n"
         "Store.distinct_values = broken\n")


def test_an_unexpected_error_exits_non_zero_with_one_line_and_the_edit_saved(app_store, tmp_path):
    from tests.tui.terminal import Terminal

    (row,) = app_store.fetch_rows(app_store.list_ids()[:1]).values()
    # The model picker's worker fails after the first frame; the edit is made before it does
    # (the flag key is in the input queue when the list shows).
    terminal = Terminal(app_store.path, cwd=tmp_path, prelude=CRASH + (
        "from sdsessions_tui.tui.app import SessionsApp\n"
        "start = SessionsApp._start_background_work\n"
        "async def later(self):\n"
        "    self.action_toggle_flag('is_favorite')\n"
        "    await start(self)\n"
        "SessionsApp._start_background_work = later\n"))
    try:
        code = terminal.wait_exit(30)
    finally:
        terminal.close()
    assert code == 1
    assert b"sdsessions: crashed: RuntimeError: boom [bold]x (traceback in " in terminal.output
    assert b"Traceback" not in terminal.output
    assert app_store.get_metadata(row.session_key).is_favorite


async def test_a_watcher_that_fails_is_said_and_started_again(app_store, tmp_path, short_waits, notified, monkeypatch):
    from sdsessions_tui.core import watch as watch_module

    original, calls = watch_module.watch, []

    def failing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OSError("no inotify instance left [bold]")
        return original(*args, **kwargs)

    monkeypatch.setattr(watch_module, "watch", failing_once)
    app = SessionsApp(app_store, [tmp_path / "sessions"], thumbnail_cache=tmp_path / "thumbs",
                      refresh_on_start=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: any(text.startswith("Watching stopped: no inotify instance left [bold] — retry in")
                                       for text in notified))
        await until(pilot, lambda: len(calls) == 2)
        await until(pilot, app.watch_ready.is_set)
