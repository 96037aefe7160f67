"""File names as the database holds them: exactly, even when they are not UTF-8.

``os`` functions give a name that is not valid UTF-8 as a ``str`` with surrogate
escapes (PEP 383: the byte 0xff becomes ``\\udcff``), which SQLite text cannot hold.
Stored with replacement characters instead, such a session's path no longer
matched its folder: new at every refresh, gone at every other.  So a session
path, root, folder name or manifest name that is not UTF-8 is stored as a BLOB of
its raw bytes (a TEXT column keeps a BLOB as it is, and a blob never equals a
text, so it cannot be mistaken for a UTF-8 name that spells ``\\xff``); every other
name stays text.  :func:`from_db` gives back the exact ``str`` that ``os`` gave.
"""

from __future__ import annotations

import os

#: ``session_stats`` columns that hold names from the file system (the store's keys among them).
NAME_COLUMNS = ("session_id", "session_path", "manifest_file", "root")


def to_db(name: str) -> str | bytes:
    """``name`` as SQLite can hold it: itself when it is UTF-8, else its bytes."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name)
    return name


def from_db(value: str | bytes) -> str:
    """A stored name as ``os`` functions give it (undecodable bytes as surrogate escapes)."""
    return os.fsdecode(value) if isinstance(value, bytes) else value
