"""What ``u`` takes back: each edit action's field values before it, newest last.

Plain Python (no Textual), so the bookkeeping is tested on its own.  An entry
holds, for one field, every affected session's value before the action (as the
user saw it, unsaved edits included) and the value the action set; the app puts
the old values back as ordinary edits (debounced, saved, conflict-checked: the
value set is what a later change by another instance is told apart from).
Keys of one burst — a note typed key by key, a flag pressed twice — collapse
into one entry while they come within the burst's save delay, so one ``u``
takes back what one save wrote.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

#: Entries kept; the oldest go first.
UNDO_LIMIT = 100


def settled(name: str, value: Any) -> Any:
    """``value`` of field ``name`` as the store keeps it (a blank note is none, tags a tuple), so
    that what an action set compares equal to what was saved."""
    if name == "user_note":
        return value if value and value.strip() else None
    if name == "tags":
        return tuple(value)
    return value


@dataclass(slots=True)
class UndoEntry:
    name: str
    """The metadata field (one per entry: an action edits one field)."""
    before: dict[int, Any]
    """Session key → the value before the action: what undoing puts back."""
    after: dict[int, Any]
    """Session key → the value the action set."""
    at: float
    """When the action (or the last key of its burst) happened, in ``time.monotonic()`` seconds."""
    window: float
    """Seconds within which the same edit of the same sessions joins this entry (0: never)."""


class UndoStack:
    """The last :data:`UNDO_LIMIT` edit actions, newest last."""

    def __init__(self, limit: int = UNDO_LIMIT) -> None:
        self._entries: deque[UndoEntry] = deque(maxlen=limit)
        self._open: UndoEntry | None = None
        """The newest entry while later keys of its burst may still join it."""

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, name: str, before: dict[int, Any], after: dict[int, Any], *, now: float,
               window: float = 0.0) -> None:
        """An action changed field ``name`` of these sessions from ``before`` to ``after``.

        It joins the newest entry when that is the same field of the same sessions, at most
        ``window`` seconds after its last key, with the same window; an entry whose burst ends
        where it began is dropped (nothing to undo).
        """
        before = {key: settled(name, value) for key, value in before.items()}
        after = {key: settled(name, value) for key, value in after.items()}
        top = self._open
        if (top is not None and window > 0 and top.window == window and top.name == name
                and top.before.keys() == before.keys() and now - top.at <= window):
            top.after, top.at = after, now
            if top.after == top.before:
                self._entries.pop()
                self._open = None
            return
        changed = [key for key in before if before[key] != after.get(key)]
        if not changed:
            return
        entry = UndoEntry(name, {key: before[key] for key in changed}, {key: after[key] for key in changed}, now,
                          window)
        self._entries.append(entry)
        self._open = entry

    def pop(self) -> UndoEntry | None:
        """The newest entry, taken off the stack (None when there is nothing to undo)."""
        self._open = None  # what comes next starts an entry of its own
        return self._entries.pop() if self._entries else None
