"""The ordered schema upgrades, each run once in its own write transaction after a backup.

A fresh database is created at :data:`.db.SCHEMA_VERSION` straight from the
declarations in :mod:`.schema`; these steps bring an older file to the same
shape, reporting progress (an upgrade of 100 000 sessions takes seconds).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from .db import Progress
from .schema import SEARCH_DDL

#: Search documents indexed per statement while the index is rebuilt (one progress step).
INDEX_CHUNK = 5_000

Upgrade = Callable[[Connection, Progress], None]


def separate_search_docs(connection: Connection, progress: Progress) -> None:
    """Schema 2: the search documents move from the FTS table into ``search_docs``, which the
    index then reads as external content.  A 1-2 character term scans the documents with LIKE,
    and a plain table scans in half the time of the FTS table (37 against 62 ms at 100 000)."""
    label = "Rebuilding the search index"
    documents, index = SEARCH_DDL
    connection.exec_driver_sql(documents)
    connection.exec_driver_sql("INSERT INTO search_docs (id, doc) SELECT rowid, doc FROM session_search")
    connection.exec_driver_sql("DROP TABLE session_search")
    connection.exec_driver_sql(index)
    ids = [row[0] for row in connection.exec_driver_sql("SELECT id FROM search_docs ORDER BY id")]
    progress(0, len(ids), label)
    for start in range(0, len(ids), INDEX_CHUNK):
        chunk = ids[start:start + INDEX_CHUNK]
        connection.exec_driver_sql("INSERT INTO session_search (rowid, doc) SELECT id, doc FROM search_docs "
                                   "WHERE id BETWEEN ? AND ?", (chunk[0], chunk[-1]))
        progress(start + len(chunk), len(ids), label)


#: ``(version, description, upgrade)`` in order; ``upgrade`` takes the schema from ``version - 1``.
MIGRATIONS: list[tuple[int, str, Upgrade]] = [
    (2, "search documents in their own table", separate_search_docs),
]
