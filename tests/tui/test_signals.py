"""A pending edit survives the terminal going away: the real CLI in a pseudo-terminal, then SIGHUP/SIGTERM.

The flag debounce is raised to a minute in the child, so the edit is certainly
still pending when the signal arrives: only the app's signal handler can save it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

CHILD = ("import sys\n"
         "from sdsessions_tui.tui import edit_actions\n"
         "edit_actions.FLAG_SAVE_DELAY = 60.0\n"
         "from sdsessions_tui.cli import main\n"
         "sys.exit(main())\n")


class Screen:
    """What the child wrote to its terminal, read as it comes (it blocks if nobody reads)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.output = fd, b""

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            assert time.monotonic() < deadline, f"{marker!r} not shown; last output: {self.output[-300:]!r}"
            self.read(0.1)

    def read(self, timeout: float) -> None:
        if select.select([self.fd], [], [], timeout)[0]:
            try:
                self.output += os.read(self.fd, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                pass


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_with_a_pending_edit_persists_it(app_store, tmp_path, signum):
    first = app_store.fetch_rows(app_store.list_ids()[:1])
    (row,) = first.values()
    assert not app_store.get_metadata(row.id).is_favorite
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "SDSESSIONS_DB": str(app_store.path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, "--images", "none"], stdin=slave, stdout=slave,
                             stderr=slave, env=env, start_new_session=True, cwd=tmp_path)
    os.close(slave)
    screen = Screen(master)
    try:
        screen.wait_for(b"hair_test")  # the list is on screen
        os.write(master, b"f")
        screen.wait_for(b"unsaved")  # the edit is pending
        child.send_signal(signum)
        deadline = time.monotonic() + 15
        while child.poll() is None:
            assert time.monotonic() < deadline, "the app did not exit after the signal"
            screen.read(0.1)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    assert child.returncode == 0  # exited through the handler, not killed by the signal
    assert app_store.get_metadata(row.id).is_favorite
