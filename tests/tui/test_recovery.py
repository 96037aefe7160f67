"""SIGTERM while another program holds the database's lock: the pending edit goes to the recovery
file beside the database (one line on stderr, a non-zero exit), and the next start saves it."""

from __future__ import annotations

import os
import signal
import sqlite3

from sdsessions_tui.core.edits import Edit
from sdsessions_tui.core.recovery import read_edits, recovery_path, write_edits
from sdsessions_tui.tui.app import EXIT_UNSAVED
from sdsessions_tui.tui.edit_screens import ConflictScreen
from tests.tui.helpers import ready, until
from tests.tui.terminal import Terminal


def tree(root):
    return sorted((path, os.stat(path).st_mtime_ns) for path in root.rglob("*"))


def test_sigterm_with_the_database_locked_keeps_the_edit_for_the_next_start(app_store, tmp_path):
    (row,) = app_store.fetch_rows(app_store.list_ids()[:1]).values()
    sessions = tree(tmp_path / "sessions")
    terminal = Terminal(app_store.path, cwd=tmp_path)
    locker = sqlite3.connect(app_store.path, isolation_level=None, timeout=0.1)
    try:
        terminal.wait_for(b"hair_test")
        terminal.write(b"f")
        terminal.wait_for(b"unsaved")
        locker.execute("BEGIN EXCLUSIVE")
        terminal.child.send_signal(signal.SIGTERM)
        code = terminal.wait_exit(15)
    finally:
        locker.close()
        terminal.close()
    assert code == EXIT_UNSAVED
    path = recovery_path(app_store.path)
    assert b"sdsessions: 1 unsaved edits are kept in " in terminal.output
    assert b"saved at the next start" in terminal.output
    assert read_edits(path) == [
        Edit(row.session_key, row.metadata.version, {"is_favorite": False}, {"is_favorite": True})]
    assert not app_store.get_metadata(row.session_key).is_favorite
    assert tree(tmp_path / "sessions") == sessions  # nothing written into the session folders


async def test_the_next_start_saves_the_kept_edits_and_removes_the_file(make_app, app_store):
    (row,) = app_store.fetch_rows(app_store.list_ids()[:1]).values()
    path = recovery_path(app_store.path)
    write_edits(path, [Edit(row.session_key, row.metadata.version, {"is_favorite": False}, {"is_favorite": True})])
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: not path.exists())
        assert app_store.get_metadata(row.session_key).is_favorite
        await until(pilot, lambda: app.table.row_at(app.table.ids.index(row.session_key)).metadata.is_favorite)


async def test_a_kept_edit_that_clashes_with_another_programs_asks_the_user(make_app, app_store):
    (row,) = app_store.fetch_rows(app_store.list_ids()[:1]).values()
    app_store.update_metadata(row.session_key, {"user_note": "theirs"})  # another instance, after our exit
    path = recovery_path(app_store.path)
    write_edits(path, [Edit(row.session_key, row.metadata.version, {"user_note": None}, {"user_note": "mine"})])
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        assert not path.exists()
        assert app_store.get_metadata(row.session_key).user_note == "theirs"  # never overwritten unasked


async def test_a_locked_database_at_start_leaves_the_file_and_retries(make_app, app_store, monkeypatch, notified):
    from sdsessions_tui.tui import app as app_module

    monkeypatch.setattr(app_module, "RETRY_DELAYS", (0.2,))
    (row,) = app_store.fetch_rows(app_store.list_ids()[:1]).values()
    path = recovery_path(app_store.path)
    write_edits(path, [Edit(row.session_key, row.metadata.version, {"is_favorite": False}, {"is_favorite": True})])
    original, calls = app_store.apply_edits, []

    def locked_once(edits, **kwargs):
        calls.append(edits)
        if len(calls) == 1:
            from sdsessions_tui.core.db import StoreError

            raise StoreError("the database x is locked by another program")
        return original(edits, **kwargs)

    monkeypatch.setattr(app_store, "apply_edits", locked_once)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: any("not saved yet" in text for text in notified))
        assert path.exists()
        await until(pilot, lambda: not path.exists())
        assert len(calls) == 2
        assert app_store.get_metadata(row.session_key).is_favorite


async def test_exiting_with_edits_the_database_refuses_keeps_them_and_exits_non_zero(make_app, app_store,
                                                                                     monkeypatch):
    """("q again quits anyway" after a failed save, or any other exit with edits still pending.)"""
    from sdsessions_tui.core.db import StoreError

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        row = app.table.row_at(app.table.cursor_row)
        await pilot.press("f")

        def refused(edits, **kwargs):
            raise StoreError("cannot write the database: the database file x is read-only")

        monkeypatch.setattr(app_store, "apply_edits", refused)
        app.exit()
    assert app.return_code == EXIT_UNSAVED
    assert read_edits(recovery_path(app_store.path)) == [
        Edit(row.session_key, row.metadata.version, {"is_favorite": False}, {"is_favorite": True})]



async def test_an_edit_clashing_at_exit_with_another_programs_is_kept_to_choose_at_the_next_start(
        make_app, app_store, monkeypatch):
    from sdsessions_tui.tui import save_queue

    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 60.0)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        row = app.table.row_at(app.table.cursor_row)
        assert row.metadata.user_rating is None
        await pilot.press("plus")
        assert app.edits
        app_store.update_metadata(row.session_key, {"user_rating": "dislike"})  # another instance, meanwhile
        app.exit()
    assert app.return_code == EXIT_UNSAVED
    assert app_store.get_metadata(row.session_key).user_rating == "dislike"  # never overwritten unasked
    assert read_edits(recovery_path(app_store.path)) == [
        Edit(row.session_key, row.metadata.version, {"user_rating": None}, {"user_rating": "like"})]


async def test_an_exit_past_an_open_conflict_dialog_keeps_mine_to_ask_again_at_the_next_start(
        make_app, app_store, monkeypatch):
    """A signal or hang-up cannot ask: the user's side of an unresolved conflict goes to the
    recovery file, still clashing, and the next start shows the same choice (nothing dropped)."""
    from sdsessions_tui.tui import save_queue

    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 60.0)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        row = app.table.row_at(app.table.cursor_row)
        await pilot.press("plus")
        app_store.update_metadata(row.session_key, {"user_rating": "dislike"})  # another instance, meanwhile
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        app.exit()  # what SIGTERM and the hang-up path do
    assert app.return_code == EXIT_UNSAVED
    assert app_store.get_metadata(row.session_key).user_rating == "dislike"
    (kept,) = read_edits(recovery_path(app_store.path))
    assert kept.changes == {"user_rating": "like"}

    again = make_app()
    async with again.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: isinstance(again.screen, ConflictScreen))
        text = str(again.screen.query_one("#conflict Static").render())
        assert "yours:  like" in text and "theirs: dislike" in text
        await pilot.press("m")
        await until(pilot, lambda: app_store.get_metadata(row.session_key).user_rating == "like")
