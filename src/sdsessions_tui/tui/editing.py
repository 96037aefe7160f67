"""Edits the user has made but the database does not hold yet.

Plain Python (no Textual), so the bookkeeping is tested on its own: the app
records each key's change here, shows :meth:`PendingEdits.effective` metadata
at once (the table and details never wait for the disk), and a debounced save
takes a burst with :meth:`PendingEdits.take`.  An edit stays here until the
store confirms it — a failed save puts it back, so nothing typed is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..core.edits import ANY_VERSION, Conflict, Edit
from ..core.store import SessionMetadata

SaveState = Literal["idle", "unsaved", "saving", "saved", "error"]


@dataclass(slots=True)
class _Pending:
    base_version: int
    base: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)


class PendingEdits:
    """Unsaved changes by session key (``session_stats.id``), with the values they were made against."""

    def __init__(self) -> None:
        self._pending: dict[int, _Pending] = {}
        self._in_flight: dict[int, _Pending] = {}
        self._held: dict[int, dict[str, Any]] = {}
        """Changes of fields in conflict made while their save ran: they wait for the user's
        choice (:meth:`keep_mine` saves them, :meth:`keep_theirs` drops them), never saved over
        the other instance's value meanwhile."""

    def __bool__(self) -> bool:
        return bool(self._pending or self._in_flight)

    def touches(self, session_keys: list[int]) -> bool:
        """Some of these sessions have edits not saved yet (being saved, or waiting for a choice)."""
        return any(key in self._pending or key in self._in_flight or key in self._held for key in session_keys)

    def change(self, meta: SessionMetadata, name: str, value: Any) -> None:
        """Record ``name = value`` for a session whose stored metadata is ``meta``."""
        pending = self._pending.get(meta.session_key)
        if pending is None:
            flying = self._in_flight.get(meta.session_key)
            pending = self._pending[meta.session_key] = _Pending(flying.base_version if flying else meta.version)
            if flying:  # a burst still being saved: its changes are this one's base
                pending.base = dict(flying.base)
        if name not in pending.base:
            pending.base[name] = getattr(meta, name)
        pending.changes[name] = value

    def effective(self, meta: SessionMetadata) -> SessionMetadata:
        """``meta`` with this session's unsaved (and saving) changes applied: what the user sees."""
        key = meta.session_key
        changes = {**_changes(self._in_flight.get(key)), **self._held.get(key, {}), **_changes(self._pending.get(key))}
        if not changes:
            return meta
        shown: dict[str, Any] = {name: tuple(value) if name == "tags" else value for name, value in changes.items()}
        return replace(meta, **shown)

    def take(self) -> list[Edit]:
        """The burst to save now (moved to "in flight" until :meth:`done` or :meth:`failed`)."""
        burst = []
        for session_key, pending in self._pending.items():
            flying = self._in_flight.setdefault(session_key, _Pending(pending.base_version))
            for name, value in pending.changes.items():
                flying.base.setdefault(name, pending.base[name])
                flying.changes[name] = value
        self._pending.clear()
        for session_key, flying in self._in_flight.items():
            burst.append(Edit(session_key, flying.base_version, dict(flying.base), dict(flying.changes)))
        return burst

    def done(self, saved: dict[int, SessionMetadata], dropped: dict[int, list[str]] | None = None) -> None:
        """The store holds these sessions' edits now (``saved``: the stored metadata, new versions).

        Later edits of the same sessions (made while saving) now rest on the new
        versions; ``dropped`` fields (conflicts sent to the user) leave the burst.
        """
        dropped = dropped or {}
        for session_key, meta in saved.items():
            self._in_flight.pop(session_key, None)
            later = self._pending.get(session_key)
            if later is None:
                continue
            held = {name: later.changes.pop(name) for name in dropped.get(session_key, ()) if name in later.changes}
            if held:  # typed on after the conflicting value: it waits for the user's choice too
                self._held.setdefault(session_key, {}).update(held)
            if not later.changes:
                del self._pending[session_key]
            later.base_version = meta.version
            later.base = {name: getattr(meta, name) for name in later.changes}
        for session_key in dropped:
            self._in_flight.pop(session_key, None)

    def keep_mine(self, conflict: Conflict) -> None:
        """The user chose their values over the other instance's: save them against its version."""
        self._keep(conflict, conflict.version, lambda theirs: theirs)

    def keep_undecided(self, conflict: Conflict) -> None:
        """The app must end before the user chose (a signal, a hang-up): keep their values as an
        edit that clashes with the other instance's again, so the next start asks once more."""
        self._keep(conflict, ANY_VERSION, _unlike)

    def _keep(self, conflict: Conflict, version: int, base_of: Callable[[Any], Any]) -> None:
        """The user's values of ``conflict`` pending again, at ``version``, each made against
        ``base_of`` the other instance's value."""
        pending = self._pending.setdefault(conflict.session_key, _Pending(version))
        pending.base_version = version
        held = self._held.pop(conflict.session_key, {})
        for name, value in conflict.mine.items():
            pending.base[name] = base_of(conflict.theirs[name])
            pending.changes.setdefault(name, held.get(name, value))  # (the last typed value wins)

    def keep_theirs(self, conflict: Conflict) -> None:
        """The user chose the other instance's values: what they typed on after theirs goes too."""
        self._held.pop(conflict.session_key, None)

    def failed(self) -> None:
        """The save did not happen: the burst waits for the next attempt (nothing is lost)."""
        for session_key, flying in self._in_flight.items():
            later = self._pending.pop(session_key, None)
            if later is not None:
                flying.changes.update(later.changes)
                for name, value in later.base.items():
                    flying.base.setdefault(name, value)
        self._pending, self._in_flight = self._in_flight, {}


def _unlike(value: Any) -> Any:
    """A base no stored value equals, of the field's kind (JSON-safe, for the recovery file)."""
    if isinstance(value, (tuple, list)):
        return (*value, _UNSEEN)
    if isinstance(value, str):
        return value + _UNSEEN
    return _UNSEEN if value is None else None


#: Never a stored value: tags and notes refuse control characters.
_UNSEEN = "\0unseen"


def _changes(pending: _Pending | None) -> dict[str, Any]:
    return pending.changes if pending is not None else {}
