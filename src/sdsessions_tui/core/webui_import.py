"""``sdsessions import-webui-db``: the generator web UI's tags, flags, ratings and notes (spec §13).

The web UI's ``sessions.db`` is opened read-only.  Rows match ours by
``session_id`` (the folder name) exactly; rows for sessions we have not seen
yet are kept (they link up when the folder is found).  Nothing is lost:

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
from .store import SessionMetadata, Store, normalize_tags

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

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "changed": self.changed, "unchanged": self.unchanged,
                "conflicts": self.conflicts}


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


def _plan(ours: SessionMetadata, theirs: dict[str, Any], report: ImportReport) -> dict[str, Any]:
    """The changes that bring the web UI's values into ours without overwriting anything."""
    sid = ours.session_id
    changes: dict[str, Any] = {}
    for column in _FLAGS:
        if bool(theirs.get(column)) and not getattr(ours, column):
            changes[column] = True
    rating = theirs.get("user_rating") if theirs.get("user_rating") in ("like", "dislike") else None
    if rating and ours.user_rating is None:
        changes["user_rating"] = rating
    elif rating and ours.user_rating != rating:
        report.conflicts.append(f"{sid}: rating here is {ours.user_rating}, web UI says {rating}; kept ours")
    note = (theirs.get("user_note") or "").strip()
    if note and not ours.user_note:
        changes["user_note"] = note
    elif note and ours.user_note != note:
        report.conflicts.append(f"{sid}: notes differ; kept ours (web UI note: {note[:60]!r})")
    tags = normalize_tags((*ours.tags, *parse_tags(theirs.get("tags"))))
    if tags != ours.tags:
        changes["tags"] = list(tags)
    return changes


def import_webui_db(store: Store, path: Path) -> ImportReport:
    """Merge a web UI database into ours; see the module docstring for the rules."""
    report = ImportReport()
    for theirs in read_webui_rows(path):
        session_id = theirs.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            continue
        report.rows += 1
        ours = store.get_metadata(session_id)
        changes = _plan(ours, theirs, report)
        hint = {"webui_is_complete": bool(theirs["is_complete"])} if "is_complete" in theirs else {}
        if not changes and (not hint or ours.auto_metadata.get("webui_is_complete") == hint["webui_is_complete"]):
            report.unchanged += 1
            continue
        if changes or ours.version == 0:
            store.update_metadata(session_id, changes, expected_version=ours.version)
        if hint:
            store.set_auto_metadata(session_id, hint)
        report.changed += 1
    return report
