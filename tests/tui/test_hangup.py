"""The app ends within a bounded time of losing its terminal, in every phase, its pending edit saved.

Each test runs the real CLI in a pseudo-terminal (:mod:`tests.tui.terminal`) and closes the
master side: with the terminal as the app's controlling one (SIGHUP, reads at end-of-file), and
without (no SIGHUP: only the terminal failing).  The bounds here are generous (a loaded
machine); bench/bench_hangup.py measures the real latency.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from sdsessions_tui.core.recovery import read_edits, recovery_path
from sdsessions_tui.tui.lifeline import EXIT_GRACE, HANGUP_EXIT
from tests.tui.terminal import Terminal
from tests.tui.tree import changed_tree

EXIT_BOUND = 5.0


def first_row(store):
    (row,) = store.fetch_rows(store.list_ids()[:1]).values()
    return row


def liked_or_kept(store, key: int) -> bool:
    """The edit is in the database, or in the recovery file the next start applies: when the
    hang-up comes while the first write still imports SQLAlchemy (~0.5 s here), the database
    cannot be written in time (test_recovery.py shows the file applied)."""
    return store.get_metadata(key).is_favorite or any(
        edit.session_key == key and edit.changes == {"is_favorite": True}
        for edit in read_edits(recovery_path(store.path)))


@pytest.fixture(params=[True, False], ids=["controlling", "no-sighup"])
def terminal(request, app_store, tmp_path):
    term = Terminal(app_store.path, controlling=request.param, cwd=tmp_path)
    yield term
    term.close()


def test_hang_up_while_running_ends_the_app(terminal):
    terminal.wait_for(b"hair_test")
    terminal.hang_up()
    assert terminal.wait_exit(EXIT_BOUND) == HANGUP_EXIT


def test_hang_up_with_a_pending_edit_saves_it_first(terminal, app_store):
    row = first_row(app_store)
    assert not app_store.get_metadata(row.session_key).is_favorite
    terminal.wait_for(b"hair_test")
    terminal.write(b"f")
    terminal.wait_for(b"unsaved")
    terminal.hang_up()
    assert terminal.wait_exit(EXIT_BOUND) == HANGUP_EXIT
    assert liked_or_kept(app_store, row.session_key)


@pytest.mark.parametrize("pause", [0.0, 0.05, 0.3])
def test_hang_up_right_after_quitting_ends_the_app(terminal, app_store, pause):
    row = first_row(app_store)
    terminal.wait_for(b"hair_test")
    terminal.write(b"f")
    terminal.wait_for(b"unsaved")
    terminal.write(b"q")
    time.sleep(pause)
    terminal.hang_up()
    assert terminal.wait_exit(EXIT_BOUND) is not None
    assert liked_or_kept(app_store, row.session_key)


def test_an_exit_held_up_by_a_worker_waiting_for_a_lock_still_ends_the_process(app_store, tmp_path):
    """q while the refresh waits (10 s) for another program's lock: the process ends within the
    exit's grace (3 s), not when the wait gives up."""
    root = changed_tree(tmp_path)  # the refresh has a session to write
    locker = sqlite3.connect(app_store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    terminal = Terminal(app_store.path, [str(root)], cwd=tmp_path)
    try:
        terminal.wait_for(b"hair_test")
        time.sleep(0.5)  # the refresh is waiting for the lock
        terminal.write(b"q")
        assert terminal.wait_exit(EXIT_GRACE + 3) == 0
    finally:
        terminal.close()
        locker.close()
