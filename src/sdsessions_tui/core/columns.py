"""Facts about the stored columns that the plain-SQL reader and the SQLModel schema both need.

Kept apart from :mod:`.schema` so that reading never imports SQLModel.  The ``session_stats``
columns are the fields of :class:`.SessionStats` (their one declaration) and the few the store
adds (:data:`STORE_COLUMN_TYPES`); which hold JSON, times or flags follows from the fields'
types, and a test checks the SQLModel table against the same types (:func:`stored_type`).
"""

from __future__ import annotations

from datetime import datetime
from types import NoneType, UnionType
from typing import Any, get_args, get_origin, get_type_hints

from .session_stats import SessionStats

#: The stats record's fields and their types, in declaration order (the table's column order).
STATS_FIELD_TYPES: dict[str, Any] = get_type_hints(SessionStats)
#: ``session_stats`` columns the store adds to the record's fields (besides the key, ``id``).
STORE_COLUMN_TYPES: dict[str, Any] = {"root": str, "is_unavailable": bool, "unavailable_since": str | None}
#: ``session_stats`` columns but ``id``: every stats field, then what the store adds.
STATS_COLUMNS = (*STATS_FIELD_TYPES, *STORE_COLUMN_TYPES)


def _base(hint: Any) -> Any:
    """The type without ``| None`` and without its parameters (``list[int]`` → ``list``)."""
    if get_origin(hint) is UnionType:
        (hint,) = [arg for arg in get_args(hint) if arg is not NoneType]
    return get_origin(hint) or hint


def stored_type(hint: Any) -> Any:
    """The type a column holds a field of type ``hint`` as: lists and dicts as JSON text, times as ISO
    text, anything else as itself; ``| None`` kept (the column may be NULL)."""
    base = _base(hint)
    if base not in (dict, list, datetime):
        return hint
    return str | None if NoneType in get_args(hint) else str


#: Columns of ``session_stats`` that hold JSON text, with the type of their value (its empty value).
JSON_STATS_TYPES: dict[str, type] = {name: _base(hint) for name, hint in STATS_FIELD_TYPES.items()
                                     if _base(hint) in (dict, list)}
JSON_STATS_COLUMNS = frozenset(JSON_STATS_TYPES)
#: Columns of ``session_stats`` that hold a time (naive local ISO text).
TIME_STATS_COLUMNS = frozenset(name for name, hint in STATS_FIELD_TYPES.items() if _base(hint) is datetime)
#: Columns of ``session_stats`` that may hold NULL.
NULLABLE_STATS_COLUMNS = frozenset(name for name, hint in {**STATS_FIELD_TYPES, **STORE_COLUMN_TYPES}.items()
                                   if NoneType in get_args(hint))

#: The list's covering index: the availability flag every list query tests, then
#: every column the list filters or sorts on.
LIST_INDEX_COLUMNS = (
    "is_unavailable", "session_created_at", "id", "session_id", "sd_model", "sampler_name", "status", "steps",
    "cfg_scale", "width", "height", "images_actual", "images_expected", "completion_percentage", "is_seed_sweep",
    "is_dry_run", "duration_seconds",
)

#: ``session_metadata`` columns, in table order: the user's values (shared with ``pending_metadata``),
#: then the session's key (its ``session_stats.id``) and folder name.
METADATA_COLUMNS = ("session_path", "is_test", "is_complete", "is_favorite", "user_rating", "user_note", "tags",
                    "auto_metadata", "created_at", "updated_at", "version", "session_key", "session_id")
#: The identity columns: ``session_stats`` has the folder name and path, and its ``id`` is the key.
METADATA_IDENTITY = ("session_key", "session_id", "session_path")
#: The user's values (what an export adds to the stats columns).
METADATA_VALUE_COLUMNS = tuple(name for name in METADATA_COLUMNS if name not in METADATA_IDENTITY)

#: ``session_stats.is_unavailable`` of a row that gave up its folder path to another session (a
#: "tombstone"): 0 is a session whose folder is there, 1 one whose folder is gone (listed on request),
#: 2 one whose folder is gone and whose path now holds another session (never listed; it keeps its
#: metadata, and takes a path again when its folder turns up elsewhere, see :mod:`.refresh`).
TOMBSTONE = 2

#: ``session_metadata`` columns that hold JSON text.
METADATA_JSON_COLUMNS = frozenset({"tags", "auto_metadata"})

#: Columns stored as 0/1 that read back as ``bool`` (SQLite has no boolean type): the stats' flags, then
#: the user's.
BOOLEAN_COLUMNS = frozenset({
    *(name for name, hint in {**STATS_FIELD_TYPES, **STORE_COLUMN_TYPES}.items() if hint is bool),
    "is_test", "is_complete", "is_favorite"})
