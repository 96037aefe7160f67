"""The user's edits to session metadata: validation, and what a save sends to the store.

The TUI gathers a burst of edits per session (an :class:`Edit`: the metadata
it was made against plus the changed fields; a session is its key, the
``session_stats.id``, since folder names are not unique) and hands them to
:meth:`.store.Store.apply_edits` in one short transaction.  Keeping the base
lets the store tell a harmless concurrent change (another instance changed a
different field) from a real conflict (the same field), which the user
resolves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from . import flags

MAX_TAG_LENGTH = 50
#: The note editor's hard limit (the store keeps longer notes imported from the web UI as they are).
MAX_NOTE_LENGTH = 500
#: The user's flags' metadata columns (web UI column names; see :mod:`.flags`).
FLAGS = tuple(flag.field for flag in flags.FLAGS)

_SPACES = re.compile(r"\s+")


class EditError(ValueError):
    """An edit the user must correct; the message says how."""


def normalize_tag(text: str) -> str:
    """``text`` as a tag: trimmed, inner spaces collapsed.  Raises :class:`EditError` when it
    is empty, longer than :data:`MAX_TAG_LENGTH`, or holds a comma or a control character."""
    tag = _SPACES.sub(" ", text).strip()
    if not tag:
        raise EditError("a tag cannot be empty")
    if "," in tag:
        raise EditError("a tag cannot contain a comma (add several tags one by one)")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in tag):
        raise EditError("a tag cannot contain control characters")
    if len(tag) > MAX_TAG_LENGTH:
        raise EditError(f"a tag has at most {MAX_TAG_LENGTH} characters ({len(tag)} given)")
    return tag


def add_tag(tags: tuple[str, ...], tag: str) -> tuple[str, ...]:
    """``tags`` with ``tag`` appended unless present in another case (the first spelling is kept)."""
    if tag.casefold() in {existing.casefold() for existing in tags}:
        return tags
    return (*tags, tag)


def remove_tag(tags: tuple[str, ...], tag: str) -> tuple[str, ...]:
    return tuple(existing for existing in tags if existing.casefold() != tag.casefold())


#: A version no stored row has: an edit made against it is compared field by field with its base.
ANY_VERSION = -1


@dataclass(frozen=True, slots=True)
class Edit:
    """Changed fields of one session, and the field values they were made against."""

    session_key: int
    """The session's ``session_stats.id``."""
    base_version: int
    base: dict[str, Any]
    """Each changed field's value when the user started editing it."""
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Conflict:
    """Fields another instance changed too: both values, for the user to choose."""

    session_key: int
    session_id: str
    """The folder name, to tell the user which session."""
    mine: dict[str, Any]
    theirs: dict[str, Any]
    version: int
    """The stored version now: keeping mine writes against it."""


@dataclass(slots=True)
class SaveResult:
    """What :meth:`.store.Store.apply_edits` did with a burst of edits."""

    saved: dict[int, Any] = field(default_factory=dict)
    """Session key → its :class:`~.store.SessionMetadata` as stored now."""
    conflicts: list[Conflict] = field(default_factory=list)
