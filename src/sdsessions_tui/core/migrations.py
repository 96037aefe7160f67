"""The ordered schema upgrades, each run once in its own write transaction after a backup.

A fresh database is created at :data:`.db.SCHEMA_VERSION` straight from the
declarations in :mod:`.schema`; these steps bring an older file to the same
shape, reporting progress (an upgrade of 100 000 sessions takes seconds).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection
from sqlmodel import SQLModel

from .columns import METADATA_VALUE_COLUMNS
from .db import Progress
from .schema import SEARCH_DDL  # also declares the tables of SQLModel.metadata

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
    session_keys = [row[0] for row in connection.exec_driver_sql("SELECT id FROM search_docs ORDER BY id")]
    progress(0, len(session_keys), label)
    for start in range(0, len(session_keys), INDEX_CHUNK):
        chunk = session_keys[start:start + INDEX_CHUNK]
        connection.exec_driver_sql("INSERT INTO session_search (rowid, doc) SELECT id, doc FROM search_docs "
                                   "WHERE id BETWEEN ? AND ?", (chunk[0], chunk[-1]))
        progress(start + len(chunk), len(session_keys), label)


def metadata_per_session(connection: Connection, progress: Progress) -> None:
    """Schema 3: the user's metadata belongs to one session (its ``session_stats.id``), not to a folder name.

    Schema 2 keyed it by folder name, so same-named folders in two roots shared it.
    Each row is copied to every session of its name, values and version kept (the
    copies then go their own ways); the search documents already held them.  A row
    whose name no session has (a web UI import of folders not seen yet) waits in
    ``pending_metadata`` for the first session of that name.  The old tables are
    renamed away (their indexes dropped, the names being reused), read, then dropped.
    """
    label = "Giving each session its own metadata"
    values = ", ".join(METADATA_VALUE_COLUMNS)
    total = int(connection.exec_driver_sql("SELECT count(*) FROM session_metadata").scalar_one())
    progress(0, total, label)
    for table in ("session_metadata", "session_tags"):
        for (index,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                   "tbl_name = ? AND sql IS NOT NULL", (table,)).all():
            connection.exec_driver_sql(f'DROP INDEX "{index}"')
        connection.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_v2")
    for table in ("session_metadata", "pending_metadata", "session_tags"):
        SQLModel.metadata.tables[table].create(connection)
    connection.exec_driver_sql(
        f"INSERT INTO session_metadata (session_key, session_id, session_path, {values}) "  # the session's own path
        f"SELECT s.id, m.session_id, s.session_path, {', '.join(f'm.{name}' for name in METADATA_VALUE_COLUMNS)} "
        "FROM session_metadata_v2 AS m JOIN session_stats AS s ON s.session_id = m.session_id")
    connection.exec_driver_sql(
        "INSERT INTO session_tags (session_key, tag) SELECT s.id, t.tag FROM session_tags_v2 AS t "
        "JOIN session_stats AS s ON s.session_id = t.session_id")
    connection.exec_driver_sql(
        f"INSERT INTO pending_metadata (session_id, session_path, {values}) SELECT session_id, session_path, {values} "
        "FROM session_metadata_v2 WHERE session_id NOT IN (SELECT session_id FROM session_stats)")
    connection.exec_driver_sql("DROP TABLE session_tags_v2")
    connection.exec_driver_sql("DROP TABLE session_metadata_v2")
    progress(total, total, label)


#: ``(version, description, upgrade)`` in order; ``upgrade`` takes the schema from ``version - 1``.
MIGRATIONS: list[tuple[int, str, Upgrade]] = [
    (2, "search documents in their own table", separate_search_docs),
    (3, "metadata per session, not per folder name", metadata_per_session),
]
