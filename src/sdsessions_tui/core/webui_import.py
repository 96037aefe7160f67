"""``sdsessions import-webui-db``: the generator web UI's tags, flags, ratings and notes (spec §13).

The web UI's ``sessions.db`` is opened read-only.  Its key, ``session_id``, is
a folder name, while ours is the session (two folders of the same name in two
roots are two sessions, see :mod:`.schema`).  So a web UI row applies to every
session of that folder name, each merged on its own (the report says when
there are several); a row whose folder we have not seen yet waits in
``pending_metadata`` and is merged into the first session refresh or the
watcher stores under that name.  Nothing is lost (:mod:`.metadata_merge`):

- a field we do not have yet takes the web UI's value;
- tags are merged (union, deduplicated);
- where both sides hold different values, ours is kept and the difference is
  reported as a conflict;
- ``is_complete`` defaults to 1 upstream, so it proves nothing: it is kept as
  a hint in ``auto_metadata`` instead of setting our flag.

Re-running it changes nothing the second time.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .db import snapshot_uri
from .metadata_merge import MergeConflict, normalize_tags
from .store import SessionMetadata, Store

REQUIRED_COLUMNS = {"session_id", "is_test", "is_favorite", "user_rating", "user_note", "tags"}
_FLAGS = ("is_favorite", "is_test")


class WebUIImportError(Exception):
    """The file is not a readable web UI database; the message says why."""


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    pending: int = 0
    """Rows for folders not seen yet: kept, merged when a session of that name is stored."""
    shared: list[str] = field(default_factory=list)
    """Rows applied to several sessions of the same folder name (which ones)."""

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "changed": self.changed, "unchanged": self.unchanged,
                "conflicts": self.conflicts, "pending": self.pending, "shared": self.shared}


def parse_tags(raw: Any) -> tuple[str, ...]:
    """Tags from the web UI's JSON text, tolerating a bare string or comma list."""
    if raw is None:
        return ()
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        value = str(raw).split(",")
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return normalize_tags(str(tag) for tag in value if tag is not None)


def read_webui_rows(path: Path) -> list[dict[str, Any]]:
    """The ``session_metadata`` rows of a web UI database, opened read-only."""
    if not path.is_file():
        raise WebUIImportError(f"{path} does not exist or is not a file")
    try:
        connection = sqlite3.connect(snapshot_uri(path), uri=True)  # no side files beside the web UI's file
        try:
            connection.row_factory = sqlite3.Row
            columns = {row["name"] for row in connection.execute("PRAGMA table_info(session_metadata)")}
            missing = REQUIRED_COLUMNS - columns
            if not columns:
                raise WebUIImportError(f"{path} has no session_metadata table: is it the web UI's sessions.db?")
            if missing:
                raise WebUIImportError(f"{path}: session_metadata lacks {', '.join(sorted(missing))}")
            return [dict(row) for row in connection.execute("SELECT * FROM session_metadata")]
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise WebUIImportError(f"cannot read {path}: {error}") from None


def as_metadata(row: dict[str, Any]) -> SessionMetadata:
    """A web UI row as our metadata values (``session_key`` 0: it names a folder, not a session)."""
    rating = row.get("user_rating") if row.get("user_rating") in ("like", "dislike") else None
    hints = {"webui_is_complete": bool(row["is_complete"])} if "is_complete" in row else {}
    return SessionMetadata(0, row["session_id"], is_test=bool(row.get("is_test")),
                           is_favorite=bool(row.get("is_favorite")), user_rating=rating,
                           user_note=(row.get("user_note") or "").strip() or None,
                           tags=parse_tags(row.get("tags")), auto_metadata=hints)


def _conflict(where: str, conflict: MergeConflict) -> str:
    name, ours, theirs = conflict
    if name == "user_rating":
        return f"{where}: rating here is {ours}, web UI says {theirs}; kept ours"
    return f"{where}: notes differ; kept ours (web UI note: {str(theirs)[:60]!r})"


def import_webui_db(store: Store, path: Path) -> ImportReport:
    """Merge a web UI database into ours; see the module docstring for the rules."""
    report = ImportReport()
    for theirs in read_webui_rows(path):
        session_id = theirs.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            continue
        report.rows += 1
        merges = store.merge_by_name(session_id, as_metadata(theirs))
        several = len(merges) > 1
        if several:
            paths = ", ".join(str(merge.session_path) for merge in merges)
            report.shared.append(f"{session_id}: applied to the {len(merges)} sessions of this folder name ({paths})")
        for merge in merges:
            where = f"{session_id} ({merge.session_path})" if several else session_id
            report.conflicts.extend(_conflict(where, conflict) for conflict in merge.conflicts)
        report.pending += merges[0].session_path is None
        if any(merge.changed for merge in merges):
            report.changed += 1
        else:
            report.unchanged += 1
    return report
