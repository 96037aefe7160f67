"""The real ``sdsessions`` CLI in a pseudo-terminal, for tests (and bench/bench_hangup.py) that hang it up.

``controlling``: the terminal is the child's controlling terminal and the child leads its
session, as ``ssh host sdsessions`` runs it: closing the master side then sends it SIGHUP and
its reads return end-of-file.  Without, it only sees the terminal fail (no SIGHUP), as a job
whose shell went away first does.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

#: The child: the CLI with the flag debounce raised to a minute, so an edit is certainly still
#: pending when the test acts (only the exit paths can save it).
CHILD = ("import sys\n"
         "from sdsessions_tui.tui import save_queue\n"
         "save_queue.FLAG_SAVE_DELAY = 60.0\n"
         "{prelude}\n"
         "from sdsessions_tui.cli import main\n"
         "sys.exit(main())\n")


class Terminal:
    """A child on a pseudo-terminal; what it writes is read as it comes (it blocks if nobody reads)."""

    def __init__(self, db: Path, args: Sequence[str] = (), *, controlling: bool = False,
                 cwd: Path | None = None, env: dict[str, str] | None = None, prelude: str = "") -> None:
        """``prelude``: Python run in the child before the CLI (to break something on purpose)."""
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        environment = {**os.environ, "TERM": "xterm-256color", "SDSESSIONS_DB": str(db), **(env or {})}
        self.child = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(prelude=prelude), "--images", "none", *args],
            stdin=slave, stdout=slave, stderr=slave,
            env=environment, start_new_session=True, cwd=cwd,
            preexec_fn=(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0)) if controlling else None)
        os.close(slave)
        self.output = b""
        self.closed = False

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            assert time.monotonic() < deadline, f"{marker!r} not shown; last output: {self.output[-300:]!r}"
            assert self.child.poll() is None, f"the app ended ({self.child.returncode}): {self.output[-600:]!r}"
            self.read(0.1)

    def read(self, timeout: float) -> None:
        if not self.closed and select.select([self.master], [], [], timeout)[0]:
            try:
                self.output += os.read(self.master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                pass

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def hang_up(self) -> float:
        """Close the master side (the SSH connection drops); returns the moment it did."""
        os.close(self.master)
        self.closed = True
        return time.monotonic()

    def wait_exit(self, timeout: float) -> int | None:
        """The child's exit code once it ended, or None if it still runs after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.child.poll() is None and time.monotonic() < deadline:
            if self.closed:
                time.sleep(0.005)
            else:
                self.read(0.01)
        return self.child.poll()

    def close(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        if not self.closed:
            os.close(self.master)
            self.closed = True
