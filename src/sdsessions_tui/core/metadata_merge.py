"""Merging metadata from elsewhere into a session's own without overwriting anything.

One set of rules for the generator web UI's rows (``import-webui-db``) and for
metadata that waited for its session (``pending_metadata``, applied when a
session of that folder name is first stored):

- a flag set there and not here is set (one set here is never cleared);
- a rating or note there fills an empty one here; a different value here is
  kept, and the difference returned as a conflict;
- tags are merged (union, deduplicated case-insensitively, ours first);
- machine-written hints (``auto_metadata``) are merged, theirs winning a key.

Merging the same values twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .edits import FLAGS

if TYPE_CHECKING:
    from .store import SessionMetadata

#: (field, our value, their value) of a field both sides set differently; ours is kept.
MergeConflict = tuple[str, Any, Any]


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags stripped, without empties, deduplicated case-insensitively (first spelling kept)."""
    seen: dict[str, str] = {}
    for tag in tags:
        clean = " ".join(str(tag).split())
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return tuple(seen.values())


def merge_changes(ours: SessionMetadata, theirs: SessionMetadata) -> tuple[dict[str, Any], list[MergeConflict]]:
    """The changes that bring ``theirs`` into ``ours`` (field → new value, as
    :meth:`.store.Store.update_metadata` takes them, plus ``auto_metadata``), and the conflicts."""
    changes: dict[str, Any] = {}
    conflicts: list[MergeConflict] = []
    for flag in FLAGS:
        if getattr(theirs, flag) and not getattr(ours, flag):
            changes[flag] = True
    if theirs.user_rating is not None and ours.user_rating is None:
        changes["user_rating"] = theirs.user_rating
    elif theirs.user_rating is not None and ours.user_rating != theirs.user_rating:
        conflicts.append(("user_rating", ours.user_rating, theirs.user_rating))
    note = theirs.user_note if theirs.user_note and theirs.user_note.strip() else None
    if note and not ours.user_note:
        changes["user_note"] = note
    elif note and ours.user_note != note:
        conflicts.append(("user_note", ours.user_note, note))
    tags = normalize_tags((*ours.tags, *theirs.tags))
    if tags != ours.tags:
        changes["tags"] = list(tags)
    hints = {**ours.auto_metadata, **theirs.auto_metadata}
    if hints != ours.auto_metadata:
        changes["auto_metadata"] = hints
    return changes, conflicts
