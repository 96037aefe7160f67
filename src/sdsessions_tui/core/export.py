"""``sdsessions export``: sessions with their stats and metadata as JSON or CSV.

Keys are the ``session_stats`` and ``session_metadata`` column names, so the
output loads back into any tool that knows the upstream tables.  Rows are
streamed page by page: exporting 100 000 sessions never holds them all.

Values are written one way per type: flags are ``true``/``false`` in JSON and
``1``/``0`` in CSV, also for a session never edited (whose metadata row does not
exist yet: its flags are off, its tags ``[]``, its ``auto_metadata`` ``{}``);
lists and objects are JSON text in CSV; no value is ``null`` / an empty cell.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from .columns import BOOLEAN_COLUMNS, JSON_STATS_COLUMNS, METADATA_JSON_COLUMNS, METADATA_VALUE_COLUMNS
from .filters import SessionFilter, SessionSort
from .storable import json_value
from .store import Store
from .text import escape_undecodable

_JSON_COLUMNS = JSON_STATS_COLUMNS | METADATA_JSON_COLUMNS
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def columns(store: Store) -> list[str]:
    """The export's columns: every ``session_stats`` column, then the user's metadata values.

    ``id`` is the session's own key (``session_metadata.session_key``) and ``session_path`` its folder:
    two sessions of the same ``session_id`` (folder name, the web UI's key) are told apart by them.
    """
    return store.stats_columns() + list(METADATA_VALUE_COLUMNS)


def iter_records(store: Store, session_filter: SessionFilter | None = None,
                 sort: SessionSort | None = None) -> Iterator[dict[str, Any]]:
    """One dict per session (JSON-valued columns decoded), in list order."""
    ids = store.list_ids(session_filter or SessionFilter(unavailable=None), sort)
    for record in store.export_rows(ids):
        yield _decode(record)


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_COLUMNS:
        value = record.get(name)
        if isinstance(value, str):
            record[name] = json_value(value, None)
    for name in BOOLEAN_COLUMNS & record.keys():
        record[name] = bool(record[name])  # NULL: a session never edited, whose flags are off
    if record.get("tags") is None:
        record["tags"] = []
    if record.get("auto_metadata") is None:
        record["auto_metadata"] = {}
    return record


def write_json(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, one object per line; returns the number written.

    A file name that is not UTF-8 is written with JSON's own escape for each such byte
    (``\\udcff``, as Python's ``os`` holds it): ``json.load`` and ``os.fsencode`` give back its bytes.
    """
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        text = json.dumps(record, ensure_ascii=False, default=str)
        out.write(text if text.isascii() else _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text))
        count += 1
    out.write("\n]\n")
    return count


def write_csv(records: Iterator[dict[str, Any]], out: TextIO, fieldnames: list[str]) -> int:
    """CSV with the given columns (:func:`columns`): flags as 1/0, list and object values as JSON text.

    CSV has no escapes: a byte of a file name that is not UTF-8 is written ``\\xNN``, as the app shows it.
    """
    writer = csv.DictWriter(_Escaped(out), fieldnames=fieldnames, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({key: _csv_value(value) for key, value in record.items()})
        count += 1
    return count


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


class _Escaped:
    """``out`` for the CSV writer, each line with its undecodable bytes written ``\\xNN`` (one pass per row)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, line: str) -> int:
        return self.out.write(escape_undecodable(line))
