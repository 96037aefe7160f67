"""The save queue's timing rules, with a fake clock and a fake background save (no app, no real time)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.edits import Conflict, Edit, SaveResult
from sdsessions_tui.core.store import SessionMetadata
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.save_queue import FLAG_SAVE_DELAY, RETRY_DELAYS, TEXT_SAVE_DELAY, SaveQueue


class FakeTimer:
    def __init__(self, due: float, callback: Callable[[], object]) -> None:
        self.due, self.callback, self.stopped = due, callback, False

    def stop(self) -> None:
        self.stopped = True


class FakeClock:
    """A scheduler whose time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[FakeTimer] = []

    def set_timer(self, delay: float, callback: Callable[[], object]) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def call_later(self, callback: Callable[[], object]) -> None:
        self.set_timer(0, callback)

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while due := sorted((t for t in self.timers if not t.stopped and t.due <= end), key=lambda t: t.due):
            timer = due[0]
            self.now = timer.due
            self.timers.remove(timer)
            timer.callback()
        self.now = end


class Harness:
    """The queue, its clock, its background saves (started, not ended until the test says), and what the user saw."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.started: list[list[Edit]] = []
        self.written: list[list[Edit]] = []
        self.write_error: StoreError | None = None
        self.shown: list[str] = []
        self.saved: list[SaveResult] = []
        self.asked: list[Conflict] = []
        self.queue = SaveQueue(self.clock, self.started.append, self, self)

    def apply_edits(self, edits: list[Edit]) -> SaveResult:  # the flush's writer
        if self.write_error is not None:
            raise self.write_error
        self.written.append(edits)
        return stored(edits)

    def show_save_state(self) -> None:
        self.shown.append(self.queue.state)

    def edits_saved(self, result: SaveResult) -> None:
        self.saved.append(result)

    def ask(self, conflict: Conflict) -> None:
        self.asked.append(conflict)

    def edit(self, key: int, name: str = "is_favorite", value: object = True, *, typing: bool = False) -> None:
        self.queue.edits.change(SessionMetadata(key, version=1), name, value)
        self.queue.edited(typing=typing)

    def end_save(self, outcome: SaveResult | BaseException | None = None) -> None:
        self.queue.save_ended(stored(self.started[-1]) if outcome is None else outcome)


def stored(edits: list[Edit]) -> SaveResult:
    return SaveResult(saved={edit.session_key: SessionMetadata(edit.session_key, version=edit.base_version + 1)
                             for edit in edits})


def conflict(key: int) -> Conflict:
    return Conflict(key, f"s{key}", mine={"is_favorite": True}, theirs={"is_favorite": False}, version=5)


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_a_burst_of_flag_keys_is_saved_once_after_the_last(h):
    h.edit(1)
    h.clock.advance(FLAG_SAVE_DELAY - 0.1)
    h.edit(2)  # restarts the countdown
    h.clock.advance(FLAG_SAVE_DELAY - 0.1)
    assert h.started == [] and h.queue.state == "unsaved" and h.queue.text == "● unsaved"
    h.clock.advance(0.1)
    assert [[edit.session_key for edit in burst] for burst in h.started] == [[1, 2]]
    assert h.queue.state == "saving"
    h.end_save()
    assert h.queue.state == "saved" and not h.queue.edits and len(h.saved) == 1


def test_typed_text_waits_longer_and_a_keystroke_that_is_no_edit_yet_delays_it(h):
    h.edit(1, "user_note", "a", typing=True)
    h.clock.advance(TEXT_SAVE_DELAY - 0.1)
    h.queue.still_typing()
    h.clock.advance(TEXT_SAVE_DELAY - 0.1)
    assert h.started == []
    h.clock.advance(0.1)
    assert len(h.started) == 1


def test_still_typing_starts_nothing_when_nothing_waits(h):
    h.queue.still_typing()
    assert h.clock.timers == [] and h.queue.state == "idle"


def test_the_delays_are_read_at_each_edit(h, monkeypatch):
    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 30.0)
    h.edit(1)
    h.clock.advance(29)
    assert h.started == []
    h.queue.save_now()  # ctrl+s
    assert len(h.started) == 1 and not any(not timer.stopped for timer in h.clock.timers)


def test_one_save_at_a_time_and_the_edits_made_meanwhile_go_in_the_next(h):
    h.edit(1)
    h.queue.save_now()
    h.edit(2)
    h.clock.advance(FLAG_SAVE_DELAY)
    assert len(h.started) == 1  # the timer fired while saving: nothing started
    h.end_save()
    assert [[edit.session_key for edit in burst] for burst in h.started] == [[1], [2]]
    assert h.queue.state == "saving"
    h.end_save()
    assert h.queue.state == "saved"


def test_a_failed_save_is_retried_with_back_off_and_keeps_its_edits(h):
    h.edit(1)
    h.queue.save_now()
    starts = []
    for delay in (*RETRY_DELAYS, RETRY_DELAYS[-1]):  # the last delay repeats
        h.end_save(StoreError("database is locked"))
        assert h.queue.state == "error" and h.queue.edits
        assert h.queue.text == f"✗ not saved: database is locked — retry in {delay:g} s or ctrl+s"
        before = len(h.started)
        h.clock.advance(delay - 0.01)
        assert len(h.started) == before
        h.clock.advance(0.01)
        starts.append(h.clock.now)
    assert [b - a for a, b in zip([0.0, *starts], starts, strict=False)] == pytest.approx(
        [*RETRY_DELAYS, RETRY_DELAYS[-1]])
    assert all(burst[0].changes == {"is_favorite": True} for burst in h.started)
    h.end_save()
    assert h.queue.state == "saved"
    h.edit(2)  # the back-off starts again after a success
    h.queue.save_now()
    h.end_save(RuntimeError("boom"))
    assert h.queue.text == f"✗ not saved: RuntimeError: boom — retry in {RETRY_DELAYS[0]:g} s or ctrl+s"


def test_an_error_message_never_carries_control_characters(h):
    h.edit(1)
    h.queue.save_now()
    h.end_save(StoreError("bad\x1b[31m file"))
    assert "\x1b" not in h.queue.text


def test_conflicts_are_asked_once_and_kept_until_resolved(h):
    h.edit(1)
    h.edit(2)
    h.queue.save_now()
    clash = conflict(2)
    h.end_save(SaveResult(saved={1: SessionMetadata(1, version=2)}, conflicts=[clash]))
    assert h.asked == [clash] and h.queue.conflicts == [clash]
    assert h.queue.state == "saved"
    h.queue.resolve(clash, keep_mine=True)  # saved again against the other instance's version
    assert h.queue.conflicts == [] and h.queue.state == "unsaved"
    h.clock.advance(0)
    (edit,) = h.started[-1]
    assert (edit.session_key, edit.base_version, edit.changes) == (2, 5, {"is_favorite": True})


def test_keeping_theirs_saves_nothing(h):
    h.edit(1)
    h.queue.save_now()
    clash = conflict(1)
    h.end_save(SaveResult(conflicts=[clash]))
    h.queue.resolve(clash, keep_mine=False)
    h.clock.advance(60)
    assert len(h.started) == 1 and not h.queue.edits and h.queue.conflicts == []


def test_a_conflict_found_by_the_flush_is_not_asked_again_by_the_running_save(h):
    h.edit(1)
    h.queue.save_now()
    clash = conflict(1)
    h.queue.conflicts.append(clash)  # as the flush at a cancelled quit leaves it
    h.end_save(SaveResult(conflicts=[clash]))
    assert h.asked == [] and h.queue.conflicts == [clash]


def test_the_flush_writes_everything_at_once_even_while_a_save_runs(h):
    h.edit(1)
    h.queue.save_now()  # running in the background
    h.edit(2)
    assert h.queue.flush()
    assert [sorted(edit.session_key for edit in burst) for burst in h.written] == [[1, 2]]
    assert not h.queue.edits and all(timer.stopped for timer in h.clock.timers)


def test_the_flush_keeps_the_edits_when_the_database_refuses_and_says_so(h):
    h.edit(1)
    h.write_error = StoreError("readonly")
    assert not h.queue.flush()
    assert h.queue.edits and h.queue.state == "error"
    assert h.queue.text == "✗ not saved: readonly — q again quits anyway"


def test_the_flush_collects_conflicts_for_the_quit_to_ask(h, monkeypatch):
    h.edit(1)
    clash = conflict(1)
    monkeypatch.setattr(h, "apply_edits", lambda edits: SaveResult(conflicts=[clash]))
    assert h.queue.flush() and h.queue.conflicts == [clash] and h.asked == []
    h.queue.resolve_all([clash], keep_mine=True)
    assert h.queue.conflicts == [] and h.queue.edits


def test_nothing_pending_flushes_to_true_without_writing(h):
    assert h.queue.flush() and h.written == []


def test_undecided_conflicts_go_pending_again_at_exit(h):
    h.edit(1)
    h.queue.save_now()
    clash = conflict(1)
    h.end_save(SaveResult(conflicts=[clash]))
    h.queue.keep_undecided()
    assert h.queue.conflicts == []
    (edit,) = h.queue.take_all()
    assert edit.changes == {"is_favorite": True}
    assert edit.base["is_favorite"] is not False  # unlike theirs: the next start's save clashes and asks


def test_take_all_from_another_thread_leaves_the_timers_alone(h):
    import threading

    h.edit(1)
    taken: list[list[Edit]] = []
    thread = threading.Thread(target=lambda: taken.append(h.queue.take_all()))
    thread.start()
    thread.join()
    assert len(taken[0]) == 1 and not any(timer.stopped for timer in h.clock.timers)
    h.queue.take_all()
    assert all(timer.stopped for timer in h.clock.timers)
