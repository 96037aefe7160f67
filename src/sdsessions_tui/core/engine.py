"""The SQLAlchemy side of the database: the write engine, schema creation and migrations.

Imported on the first write (or when a database must be created or upgraded),
never on the TUI's first-paint path: reads go through :mod:`.db`'s plain
sqlite3 connections.  Python's sqlite3 runs in autocommit mode so that
transactions are real ``BEGIN`` statements we control: writers ask for
``BEGIN IMMEDIATE`` (taking the write lock up front, so two processes wait
for each other instead of failing with "database is locked" mid-transaction).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlmodel import SQLModel

from . import db, migrations
from .db import APPLICATION_ID, BUSY_TIMEOUT_MS, Progress, StoreError, backup_database, configure, describe, sqlite_of
from .schema import SEARCH_DDL


def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    configure(dbapi_connection)


def _begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path) -> Engine:
    """The write engine; :class:`StoreError` naming the read-only file or folder, before any
    connection could create side files with the wrong mode (see :mod:`.db`)."""
    db.check_writable(path)

    def connect() -> sqlite3.Connection:  # not a URL: "?" or "#" in a folder name would be read as its query
        return sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)

    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=2, max_overflow=4)
    event.listen(engine, "connect", _configure)
    event.listen(engine, "begin", _begin)
    return engine


@contextmanager
def write_transaction(engine: Engine, busy_timeout: float | None = None) -> Iterator[Connection]:
    """A short ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on error.

    ``busy_timeout``: seconds to wait for another program's lock instead of the usual
    :data:`~.db.BUSY_TIMEOUT_MS` (a save on the way out must not wait ten seconds).
    """
    with engine.connect().execution_options(write=True) as connection:
        raw = sqlite_of(connection)
        if busy_timeout is not None:  # on the sqlite3 connection: SQLAlchemy would begin a transaction
            raw.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        try:
            with connection.begin():
                yield connection
        finally:
            if busy_timeout is not None:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def prepare_schema(path: Path, version: int, backup_dir: Path,
                   progress: Progress = db.no_progress) -> tuple[Engine, Path | None]:
    """An engine on ``path`` whose schema is current, and the backup made on the way if any:
    created when ``version`` is 0, else migrated from ``version`` after a backup (both reported
    to ``progress``).  ``version`` comes from :func:`.db.check_database`."""
    engine, backup = make_engine(path), None
    try:
        if version == 0:
            _create_schema(engine)
        elif version < db.SCHEMA_VERSION:
            backup = _migrate(engine, path, version, backup_dir, progress)
    except StoreError:
        engine.dispose()
        raise
    except (DBAPIError, sqlite3.Error) as error:
        engine.dispose()
        raise StoreError(describe(error, path)) from None
    return engine, backup


def _migrate(engine: Engine, path: Path, version: int, backup_dir: Path, progress: Progress) -> Path:
    backup = backup_database(path, backup_dir, version, progress)
    for number, _description, upgrade in migrations.MIGRATIONS:
        if number <= version:
            continue
        with write_transaction(engine) as connection:
            # Another process may have run it while this one waited for the write lock.
            if int(connection.exec_driver_sql("PRAGMA user_version").scalar_one()) >= number:
                continue
            upgrade(connection, progress)
            connection.exec_driver_sql(f"PRAGMA user_version = {number}")
    if version_of(engine) != db.SCHEMA_VERSION:
        raise StoreError(f"migration of {path} stopped at schema {version_of(engine)}; the backup is {backup}")
    return backup


def _create_schema(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection)
        for statement in SEARCH_DDL:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.exec_driver_sql(f"PRAGMA user_version = {db.SCHEMA_VERSION}")


def version_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA user_version")).scalar_one())
