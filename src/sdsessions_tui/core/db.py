"""Opening the SQLite database: location, connection settings, schema version and migrations.

Every connection gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign
keys.  Python's sqlite3 is put in autocommit mode so that SQLAlchemy's
transactions are real ``BEGIN`` statements we control: writers ask for
``BEGIN IMMEDIATE`` (taking the write lock up front, so two processes wait
for each other instead of failing with "database is locked" mid-transaction),
readers get a plain deferred ``BEGIN``.

Failures to open come back as :class:`StoreError` with a one-line reason; a
file that is not our database (corrupt, foreign, or from a newer version) is
never written to.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from .schema import SEARCH_TABLE_DDL, SQLModel

ENV_DB = "SDSESSIONS_DB"
APP_NAME = "sdsessions"
#: ``PRAGMA application_id`` of our files ("SDSS"), so another app's SQLite file is never migrated.
APPLICATION_ID = 0x53445353
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 1

#: Ordered upgrades: ``(version, description, upgrade)``; ``upgrade`` takes a
#: connection inside a write transaction and brings the schema from
#: ``version - 1`` to ``version``.  A fresh database is created at
#: :data:`SCHEMA_VERSION` directly from the table declarations.
Migration = tuple[int, str, Callable[[Connection], None]]
MIGRATIONS: list[Migration] = []


class StoreError(Exception):
    """The database cannot be used; the message is a one-line reason for the user."""


def default_db_path() -> Path:
    """``$SDSESSIONS_DB`` if set, else ``sessions.db`` in the user data folder."""
    override = os.environ.get(ENV_DB)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "sessions.db"


def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=QueuePool, pool_size=2, max_overflow=4,
                           connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _configure)
    event.listen(engine, "begin", _begin)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A short ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on error."""
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        yield connection


def describe(error: BaseException, path: Path) -> str:
    """A one-line reason for an SQLite failure on ``path``."""
    original = getattr(error, "orig", error)
    message = str(original).strip() or type(original).__name__
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return f"the database {path} is locked by another program (waited {BUSY_TIMEOUT_MS // 1000} s); try again"
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"{path} is not a usable sdsessions database ({message}); it was left untouched"
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return f"cannot open or write the database {path} ({message})"
    return f"database error on {path}: {message}"


def open_database(path: Path, *, backup_dir: Path | None = None) -> Engine:
    """Open (creating if needed) the database at ``path``, migrating it if it is older.

    Raises :class:`StoreError` with a clear reason; never changes a file that
    is not an sdsessions database or that a newer version wrote.
    """
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for the database {path}: {error.strerror or error}") from None
    if path.is_dir():
        raise StoreError(f"the database path {path} is a folder")
    engine = make_engine(path)
    try:
        _prepare_schema(engine, path, backup_dir or path.parent)
    except StoreError:
        engine.dispose()
        raise
    except (DBAPIError, sqlite3.Error) as error:
        engine.dispose()
        raise StoreError(describe(error, path)) from None
    return engine


def _inspect(path: Path) -> tuple[int, int, int]:
    """(user_version, application_id, object count) of an existing file, read-only.

    Done before our own connection settings touch the file: switching a
    foreign file to WAL would already change its header.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0, 0, 0
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            app_id = connection.execute("PRAGMA application_id").fetchone()[0]
            objects = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StoreError(describe(error, path)) from None
    return version, app_id, objects


def _prepare_schema(engine: Engine, path: Path, backup_dir: Path) -> None:
    version, app_id, objects = _inspect(path)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer sdsessions (schema {version}, this one knows "
                         f"{SCHEMA_VERSION}); upgrade sdsessions — the file was left untouched")
    if objects and app_id != APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite file of another program; choose another --db path "
                         "(the file was left untouched)")
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        _create_schema(engine)
        return
    backup = backup_database(path, backup_dir, version)
    for number, _description, upgrade in MIGRATIONS:
        if number <= version:
            continue
        with write_transaction(engine) as connection:
            upgrade(connection)
            connection.exec_driver_sql(f"PRAGMA user_version = {number}")
    if version_of(engine) != SCHEMA_VERSION:
        raise StoreError(f"migration of {path} stopped at schema {version_of(engine)}; the backup is {backup}")


def _create_schema(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection)
        connection.exec_driver_sql(SEARCH_TABLE_DDL)
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def version_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA user_version")).scalar_one())


def backup_database(path: Path, backup_dir: Path, version: int) -> Path:
    """Copy the database (WAL included, via SQLite's backup API) before a migration touches it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = backup_dir / f"{path.stem}.v{version}.{stamp}.backup{path.suffix}"
    try:
        source = sqlite3.connect(path)
        target = sqlite3.connect(backup)
        with target:
            source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        source.close()
        target.close()
    except sqlite3.Error as error:
        raise StoreError(f"cannot back up {path} before migrating it ({error}); nothing was changed") from None
    except OSError as error:
        backup.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup {backup}: {error.strerror or error}") from None
    return backup
