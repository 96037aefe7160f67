"""A pending edit survives the terminal going away: the real CLI in a pseudo-terminal, then SIGHUP/SIGTERM.

The flag debounce is raised to a minute in the child (:mod:`tests.tui.terminal`), so the edit is
certainly still pending when the signal arrives: only the app's signal handler can save it.
"""

from __future__ import annotations

import signal

import pytest

from sdsessions_tui.tui.lifeline import HANGUP_EXIT
from tests.tui.terminal import Terminal


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_with_a_pending_edit_persists_it(app_store, tmp_path, signum):
    first = app_store.fetch_rows(app_store.list_ids()[:1])
    (row,) = first.values()
    assert not app_store.get_metadata(row.session_key).is_favorite
    terminal = Terminal(app_store.path, cwd=tmp_path)
    try:
        terminal.wait_for(b"hair_test")  # the list is on screen
        terminal.write(b"f")
        terminal.wait_for(b"unsaved")  # the edit is pending
        terminal.child.send_signal(signum)
        code = terminal.wait_exit(15)
    finally:
        terminal.close()
    # Exited through the handler, not killed by the signal (a hang-up is said in the exit code).
    assert code == (HANGUP_EXIT if signum == signal.SIGHUP else 0)
    assert app_store.get_metadata(row.session_key).is_favorite
