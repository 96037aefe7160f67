"""The process ends soon after its terminal goes away, with the pending edits saved first.

A terminal lost (an SSH connection dropping, a tmux pane closed) does not always
end a Textual app: reads of a hung-up terminal return end-of-file at once, which
Textual's input thread takes as "no key yet" and loops on (a core at 100 %), and
writes fail, which stops its output thread with its queue full, so the app's
shutdown waits forever to write the screen's last bytes.  SIGHUP does not
always come either (the app is not the session leader; the shell that would
pass it on is gone first).

So a daemon thread watches the terminal itself: ``poll`` on its file
descriptors with no events asked for still reports a hang-up (``POLLHUP``),
and never takes a byte of input from Textual.  When the terminal is gone, the
app's loop is asked to save the pending edits (or keep them in the recovery
file, see :mod:`..core.recovery`); if the loop is stuck, the thread saves them
itself; then the process ends with :data:`HANGUP_EXIT`.  It also bounds any
exit: once the app starts exiting, whatever holds the process up (a worker
thread waiting for a lock, the output thread), it ends within
:data:`EXIT_GRACE` seconds, the edits saved first.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from collections.abc import Callable, Sequence

#: Exit code after a hang-up, as a shell reports a program ended by SIGHUP (128 + 1).
HANGUP_EXIT = 129
#: Seconds between two looks at the terminal (each one a blocking ``poll``: no cost meanwhile).
CHECK_INTERVAL = 0.05
#: Seconds the app's loop gets to save after a hang-up before this thread saves the edits itself.
LOOP_WAIT = 0.15
#: Seconds a process that started exiting may take to end (its terminal still there).
EXIT_GRACE = 3.0
_LOST = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_fds() -> list[int]:
    """The file descriptors the app reads keys from and draws on (stdin, stderr), those that are terminals."""
    fds = []
    for stream in (sys.__stdin__, sys.__stderr__):
        try:
            if stream is not None and os.isatty(stream.fileno()):
                fds.append(stream.fileno())
        except (OSError, ValueError):  # closed, or not a real file
            pass
    return fds


class Lifeline:
    """Ends the process when its terminal is lost, or when an exit takes too long; edits saved first.

    ``save()``: write the pending edits (thread-safe, bounded in time; True when they are all in the
    database).  ``on_loop(callback)``: run ``callback`` on the app's loop (RuntimeError once it is closed).
    """

    def __init__(self, save: Callable[[], bool], on_loop: Callable[[Callable[[], None]], None],
                 fds: Sequence[int] | None = None) -> None:
        self._save = save
        self._on_loop = on_loop
        self._fds = list(terminal_fds() if fds is None else fds)
        self._deadline: float | None = None
        self._code = 0
        self._note: str | None = None
        self._said = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sdsessions-lifeline", daemon=True)
        self._thread.start()

    def set_note(self, text: str | None) -> None:
        """A line for stderr when the process ends (where its edits went); said once."""
        self._note = text

    def say_note(self) -> None:
        """Print the note now, if it was not printed yet (the terminal may be gone: never raises)."""
        with self._said:
            note, self._note = self._note, None
        if note:
            try:
                os.write(2, (note + "\n").encode("utf-8", "replace"))
            except OSError:
                pass

    def exiting(self, code: int, grace: float = EXIT_GRACE) -> None:
        """The app is on its way out with ``code``: the process ends within ``grace`` seconds anyway."""
        deadline = time.monotonic() + grace
        if self._deadline is None or deadline < self._deadline:
            self._deadline, self._code = deadline, code

    def _run(self) -> None:
        poller = select.poll()
        for fd in self._fds:
            poller.register(fd, 0)  # no events asked: a hang-up is always reported, no input is taken
        while True:
            if self._fds:
                lost = any(events & _LOST for _fd, events in poller.poll(CHECK_INTERVAL * 1000))
            else:
                time.sleep(CHECK_INTERVAL)
                lost = False
            if lost:
                self._hung_up()
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self._save_anyway()
                self._end(self._code)

    def _hung_up(self) -> None:
        """Save on the app's loop (it owns the edits); if it does not answer in time, from here."""
        saved = threading.Event()

        def save_on_loop() -> None:
            self._save()
            saved.set()

        try:
            self._on_loop(save_on_loop)
        except RuntimeError:  # the loop has ended: nothing of the app runs any more
            pass
        if not saved.wait(LOOP_WAIT):
            self._save_anyway()
        self._end(HANGUP_EXIT)

    def _save_anyway(self) -> None:
        """Save from this thread; whatever goes wrong, the process still ends (the edits were
        written to the recovery file first)."""
        try:
            self._save()
        except BaseException:  # noqa: BLE001 - nothing may keep this thread from ending the process
            pass

    def _end(self, code: int) -> None:
        self.say_note()
        os._exit(code)
