"""Values SQLite can store, made from whatever a session's files held.

The readers keep what a manifest says when it has the right type, but a number
may still be one SQLite cannot hold: an integer outside 64 bits (Python's are
unbounded), or a NaN (stored as NULL, which a NOT NULL column refuses).  One
such value used to abort a whole refresh batch.  Here each value becomes one
the database takes (dropped to NULL, or clamped where the column needs a value),
and each change is described, for the session's warnings.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import orjson

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def column_value(name: str, value: Any, *, nullable: bool, problems: list[str]) -> Any:
    """``value`` as sqlite3 binds it (datetimes as ISO text); a value it cannot take is dropped
    (``nullable``) or clamped, and ``problems`` says so."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return value
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return value
        problems.append(f"{name}: a number too large for the database was {'dropped' if nullable else 'clamped'}")
        return None if nullable else max(INT64_MIN, min(INT64_MAX, value))
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.append(f"{name}: a value that is not a finite number was {'dropped' if nullable else 'set to 0'}")
        return None if nullable else 0.0
    if isinstance(value, datetime):
        return value.isoformat()
    problems.append(f"{name}: a value of type {type(value).__name__} cannot be stored; "
                    f"{'dropped' if nullable else 'stored as text'}")
    return None if nullable else str(value)


def json_text(name: str, value: Any, *, problems: list[str]) -> str:
    """``value`` as JSON text that SQLite's JSON functions and ``orjson.loads`` read back.

    orjson takes the common case; what it refuses goes through the standard library: text
    with surrogate escapes (undecodable file-name bytes, kept as ``\\udcXX``), and numbers
    outside 64 bits or not finite, which become ``null`` (the standard library would write
    them as bare ``NaN``, which is not JSON).
    """
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError: out-of-range integer, surrogates, nesting
        pass
    found: set[str] = set()
    try:
        text = json.dumps(_plain(value, found), default=str, allow_nan=False)
    except (RecursionError, ValueError):
        found = {"nested too deeply to store; dropped"}
        text = "[]" if isinstance(value, list) else "{}"
    problems.extend(f"{name}: {what}" for what in sorted(found))
    return text


def _plain(value: Any, found: set[str]) -> Any:
    """``value`` with every number the database's JSON cannot hold replaced by None."""
    if isinstance(value, dict):
        return {str(key): _plain(item, found) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, found) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        found.add("a number too large for the database was dropped")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        found.add("a value that is not a finite number was dropped")
        return None
    return value


def json_value(text: str | None, default: Any) -> Any:
    """Stored JSON text read back; ``default`` when it is empty or unreadable (rows written by an
    older version may hold ``NaN``, which orjson refuses; the standard library reads it)."""
    if not text:
        return default
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return default
