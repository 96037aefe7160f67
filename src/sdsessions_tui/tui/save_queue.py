"""When the user's metadata edits are written: debounce, one save at a time, back-off, flush.

Plain Python (no Textual), so the timing rules are tested with a fake clock: the timers come from
an injected :class:`Scheduler` (the app itself is one: ``App.set_timer``), the background save is
started by an injected function whose end is reported back with :meth:`SaveQueue.save_ended`
(the app runs it in a worker and posts :class:`~.messages.SaveEnded`), and what the user sees
(the save indicator, the table, the conflict dialogs) is the :class:`SaveListener`'s job.

The rules: a burst of keys is saved once, :data:`FLAG_SAVE_DELAY` after the last flag or rating
key (:data:`TEXT_SAVE_DELAY` after the last keystroke in the tag or note editor); one save runs at
a time (edits made meanwhile go in the next one, started when it ends); a failed save keeps its
edits and is retried after :data:`RETRY_DELAYS`; a conflict with another instance is kept here
until the user chooses; quitting and the signals write what is pending at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from ..core.db import StoreError
from ..core.edits import Conflict, Edit, SaveResult
from ..core.text import clean_text
from .editing import PendingEdits, SaveState

#: Seconds after the last flag or rating key before the burst is written.
FLAG_SAVE_DELAY = 0.5
#: Seconds after the last keystroke in the tag or note editor.
TEXT_SAVE_DELAY = 1.0
#: Back-off between automatic retries of a failed save (the last one repeats).
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
SAVE_STATE_TEXT = {"idle": "", "unsaved": "● unsaved", "saving": "… saving", "saved": "✓ saved"}


def debounce(*, typing: bool) -> float:
    """Seconds from the last edit to its save: longer for typed text (read at each edit, so a test
    can change the delays)."""
    return TEXT_SAVE_DELAY if typing else FLAG_SAVE_DELAY


class Timer(Protocol):
    def stop(self) -> None: ...


class Scheduler(Protocol):
    """Runs callbacks later on the thread that owns the queue (the app's loop)."""

    def set_timer(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` once after ``delay`` seconds (more than 0), unless stopped."""

    def call_later(self, callback: Callable[[], object]) -> object:
        """Run ``callback`` soon, once what runs now has finished."""


class EditWriter(Protocol):
    """Writes a burst of edits in one transaction (the store), on the calling thread."""

    def apply_edits(self, edits: list[Edit]) -> SaveResult: ...


class SaveListener(Protocol):
    """What the user sees of the saves."""

    def show_save_state(self) -> None:
        """:attr:`SaveQueue.state` or :attr:`SaveQueue.text` changed."""

    def edits_saved(self, result: SaveResult) -> None:
        """The store holds these edits now (the table and an open editor follow)."""

    def ask(self, conflict: Conflict) -> None:
        """Another instance changed a field the user edited: the user chooses (:meth:`SaveQueue.resolve`)."""


class SaveQueue:
    """The pending edits and the saves that write them (see the module's docstring).

    ``start_save(burst)`` writes ``burst`` in the background; whatever the outcome, the owner calls
    :meth:`save_ended` with it on this thread.  ``writer`` writes on the calling thread (the flush).
    """

    def __init__(self, scheduler: Scheduler, start_save: Callable[[list[Edit]], object], writer: EditWriter,
                 listener: SaveListener) -> None:
        self.edits = PendingEdits()
        """Edits on screen but not in the database yet; see :mod:`.editing`."""
        self.state: SaveState = "idle"
        self.text = ""
        """What the save indicator says of :attr:`state`."""
        self.conflicts: list[Conflict] = []
        """Save conflicts the user has not resolved yet (their dialogs open or queued, or found
        by the flush at quit): quitting asks about them."""
        self._scheduler = scheduler
        self._start_save = start_save
        self._writer = writer
        self._listener = listener
        self._timer: Timer | None = None
        self._saving = False
        self._failures = 0
        self._owner = threading.current_thread()
        """The thread whose timers these are (a flush from another thread must not touch them)."""

    def edited(self, *, typing: bool = False) -> None:
        """Edits were made (``typing``: in the editor): the save waits until they pause."""
        self._set_timer(debounce(typing=typing))
        self._show("unsaved")

    def still_typing(self) -> None:
        """A keystroke that is not an edit yet (a tag being typed) delays a pending save, like one in the note."""
        if self._timer is not None and self.state == "unsaved":
            self.edited(typing=True)

    def save_now(self) -> None:
        """Start a save of everything pending (ctrl+s, or a timer); while one runs, its end starts the next."""
        self._stop_timer()
        if self._saving or not self.edits:
            return
        burst = self.edits.take()
        self._saving = True
        self._show("saving")
        self._start_save(burst)

    def save_ended(self, outcome: SaveResult | BaseException) -> None:
        """The background save ended with this result, or this error (its edits are kept and retried)."""
        self._saving = False
        if isinstance(outcome, BaseException):
            self._failed(outcome)
            return
        self._failures = 0
        self.edits.done(outcome.saved, _dropped(outcome))
        self._listener.edits_saved(outcome)
        for conflict in outcome.conflicts:
            if conflict not in self.conflicts:  # (already found by the flush at a cancelled quit)
                self.conflicts.append(conflict)
                self._listener.ask(conflict)
        if self.edits:
            self.save_now()
        else:
            self._show("saved")

    def _failed(self, error: BaseException) -> None:
        self.edits.failed()
        delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS) - 1)]
        self._failures += 1
        reason = str(error) if isinstance(error, StoreError) else f"{type(error).__name__}: {error}"
        self._show("error", f"✗ not saved: {clean_text(reason)} — retry in {delay:g} s or ctrl+s")
        self._set_timer(delay)

    def resolve(self, conflict: Conflict, keep_mine: bool | None) -> None:
        """The user chose: their values saved again (``keep_mine``), or the other instance's kept."""
        if conflict in self.conflicts:
            self.conflicts.remove(conflict)
        if keep_mine:
            self.edits.keep_mine(conflict)
            self._show("unsaved")
            self._scheduler.call_later(self.save_now)  # once the dialog's callback has returned
        else:
            self.edits.keep_theirs(conflict)

    def resolve_all(self, conflicts: list[Conflict], keep_mine: bool) -> None:
        """One choice for all of these (quitting): nothing is saved here, the quit's flush saves it."""
        for conflict in conflicts:
            (self.edits.keep_mine if keep_mine else self.edits.keep_theirs)(conflict)
            self.conflicts.remove(conflict)

    def keep_undecided(self) -> None:
        """The app ends before the user chose (a signal, a hang-up): the user's side of every
        conflict is pending again, still clashing, so the next start asks once more."""
        for conflict in self.conflicts:
            self.edits.keep_undecided(conflict)
        self.conflicts.clear()

    def flush(self) -> bool:
        """Write every pending edit now, on this thread (quit); False if that failed (shown)."""
        self._stop_timer()
        if not self.edits:
            return True
        try:  # an edit being saved in the background is written again: same values, harmless
            result = self._writer.apply_edits(self.edits.take())
        except StoreError as error:
            self.edits.failed()
            self._show("error", f"✗ not saved: {clean_text(str(error))} — q again quits anyway")
            return False
        self.edits.done(result.saved, _dropped(result))
        self.conflicts.extend(result.conflicts)  # q asks about them (a signal cannot: exit keeps mine to ask again)
        return True

    def take_all(self) -> list[Edit]:
        """Every pending edit, as one burst (the way out: a signal, a hang-up, from any thread);
        the caller reports :meth:`PendingEdits.done` or :meth:`PendingEdits.failed` on :attr:`edits`."""
        if threading.current_thread() is self._owner:
            self._stop_timer()
        return self.edits.take()

    def _show(self, state: SaveState, text: str | None = None) -> None:
        self.state = state
        self.text = text if text is not None else SAVE_STATE_TEXT[state]
        self._listener.show_save_state()

    def _set_timer(self, delay: float) -> None:
        self._stop_timer()  # (Textual's Timer.reset() would not restart the countdown)
        self._timer = self._scheduler.set_timer(delay, self.save_now)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None


def _dropped(result: SaveResult) -> dict[int, list[str]]:
    """The fields in conflict, by session: they leave the burst (the user chooses)."""
    return {conflict.session_key: list(conflict.mine) for conflict in result.conflicts}
