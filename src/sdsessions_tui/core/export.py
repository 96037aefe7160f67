"""``sdsessions export``: sessions with their stats and metadata as JSON or CSV.

Keys are the ``session_stats`` and ``session_metadata`` column names, so the
output loads back into any tool that knows the upstream tables.  Rows are
streamed page by page: exporting 100 000 sessions never holds them all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

import orjson
from sqlalchemy import select

from .filters import SessionFilter, SessionSort
from .schema import JSON_STATS_COLUMNS
from .store import META, PAGE_SIZE, STATS, Store

_META_COLUMNS = [column for column in META.c if column.name not in ("session_id", "session_path")]
COLUMNS = [column.name for column in STATS.c] + [column.name for column in _META_COLUMNS]
_JSON_COLUMNS = JSON_STATS_COLUMNS | {"tags", "auto_metadata"}


def iter_records(store: Store, session_filter: SessionFilter | None = None,
                 sort: SessionSort | None = None) -> Iterator[dict[str, Any]]:
    """One dict per session (JSON-valued columns decoded), in list order."""
    ids = store.list_ids(session_filter or SessionFilter(unavailable=None), sort)
    query = select(*STATS.c, *_META_COLUMNS).select_from(
        STATS.outerjoin(META, META.c.session_id == STATS.c.session_id))
    with store.engine.connect() as connection:
        for start in range(0, len(ids), PAGE_SIZE):
            page = ids[start:start + PAGE_SIZE]
            rows = {row["id"]: row for row in connection.execute(query.where(STATS.c.id.in_(page))).mappings()}
            for session_key in page:
                yield _decode(dict(rows[session_key]))


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_COLUMNS:
        value = record.get(name)
        if isinstance(value, str):
            record[name] = orjson.loads(value)
    if record.get("tags") is None:
        record["tags"] = []
    return record


def write_json(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, one object per line; returns the number written."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False, default=str))
        count += 1
    out.write("\n]\n")
    return count


def write_csv(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """CSV with the same columns; list and object values as JSON text."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({key: json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value
                         for key, value in record.items()})
        count += 1
    return count
