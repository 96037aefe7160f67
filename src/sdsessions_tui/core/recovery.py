"""Edits that could not reach the database on the way out, kept in a file beside it.

When the app must end now (SIGTERM, a hang-up) and the database is locked past a
short wait, its pending edits are written to ``<db>.recovery.json`` instead of
being lost; the next start applies them with the usual conflict rules (an edit
carries the version and values it was made against, so another program's change
to the same field is shown to the user, never overwritten) and removes the file
once they are in the database.  The file is written before the database is even
tried, so a process killed in the middle of that write loses nothing either.

It lives beside the database, never in a session folder.  Format (JSON)::

    {"format": 1, "edits": [{"session_key": 12, "base_version": 3,
                             "base": {"tags": ["a"]}, "changes": {"tags": ["a", "b"]}}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .edits import Edit

FORMAT = 1
SUFFIX = ".recovery.json"


class RecoveryError(Exception):
    """The recovery file cannot be read (not ours, or damaged); the message says which file."""


def recovery_path(db_path: Path) -> Path:
    """Where the edits of the database at ``db_path`` wait: beside it."""
    return db_path.with_name(db_path.name + SUFFIX)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {name: list(value) if name == "tags" and value is not None else value for name, value in values.items()}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the app holds them: tags as a tuple."""
    return {name: tuple(value) if name == "tags" and value is not None else value for name, value in values.items()}


def to_json(edit: Edit) -> dict[str, Any]:
    return {"session_key": edit.session_key, "base_version": edit.base_version,
            "base": _jsonable(edit.base), "changes": _jsonable(edit.changes)}


def read_edits(path: Path) -> list[Edit]:
    """The edits waiting in ``path`` (none when there is no file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a format {FORMAT} recovery file")
        return [Edit(int(entry["session_key"]), int(entry["base_version"]), _values(dict(entry["base"])),
                     _values(dict(entry["changes"]))) for entry in data["edits"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RecoveryError(f"cannot read the recovery file {path}: {error}") from None


def write_edits(path: Path, edits: Sequence[Edit]) -> None:
    """Make ``path`` hold exactly ``edits`` (no file when there are none), atomically and durably.

    Raises OSError when the folder cannot be written.
    """
    if not edits:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(path.name + ".tmp")
    payload = json.dumps({"format": FORMAT, "edits": [to_json(edit) for edit in edits]}, ensure_ascii=False)
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def add_edits(path: Path, edits: Sequence[Edit]) -> None:
    """Keep ``edits`` in ``path`` beside those already waiting there (a file that cannot be read is
    moved aside to ``….damaged``, for the user to look at: the edits in hand come first)."""
    try:
        waiting = read_edits(path)
    except RecoveryError:
        os.replace(path, path.with_name(path.name + ".damaged"))
        waiting = []
    write_edits(path, [*waiting, *(edit for edit in edits if not _holds(waiting, edit))])


def remove_edits(path: Path, edits: Sequence[Edit]) -> None:
    """These edits are in the database now: take them out of ``path`` (the file goes when empty)."""
    try:
        waiting = read_edits(path)
    except RecoveryError:
        return
    write_edits(path, [edit for edit in waiting if not _holds(edits, edit)])


def _holds(edits: Sequence[Edit], edit: Edit) -> bool:
    wanted = to_json(edit)
    return any(to_json(other) == wanted for other in edits)
