"""The SQLite file: where it lives, how every connection is set up, and whether it is ours.

Standard library only: the TUI reads its first screen through plain sqlite3
connections, so the ~300 ms import of SQLAlchemy and SQLModel stays off the
first-paint path (the writes and the schema live in :mod:`.engine`, imported
on the first write).

Every connection gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign
keys.  Failures to open come back as :class:`StoreError` with a one-line
reason; a file that is not our database (corrupt, foreign, or from a newer
version) is never written to: it is inspected read-only before any setting
touches it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import platformdirs

ENV_DB = "SDSESSIONS_DB"
APP_NAME = "sdsessions"
#: ``PRAGMA application_id`` of our files ("SDSS"), so another app's SQLite file is never migrated.
APPLICATION_ID = 0x53445353
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 3
#: Pages (4 KiB) a backup copies per step, one progress report each.
BACKUP_PAGES = 1024

#: ``progress(done, total, label)`` for long database work (a backup, a migration).
Progress = Callable[[int, int, str], None]


def no_progress(_done: int, _total: int, _label: str) -> None:
    """The default :data:`Progress`: nobody is watching."""


class StoreError(Exception):
    """The database cannot be used; the message is a one-line reason for the user."""


def default_db_path() -> Path:
    """``$SDSESSIONS_DB`` if set, else ``sessions.db`` in the user data folder."""
    override = os.environ.get(ENV_DB)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "sessions.db"


def configure(connection: sqlite3.Connection) -> None:
    """The settings every connection gets; autocommit, so transactions are the ``BEGIN``s we issue."""
    connection.isolation_level = None
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (``query_only``) usable from any one thread at a time."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    configure(connection)
    connection.execute("PRAGMA query_only = ON")
    return connection


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


def check_database(path: Path) -> int:
    """The schema version of the database at ``path`` (0 = new or empty), after checking it is ours.

    Creates the parent folder.  Raises :class:`StoreError` for a folder, a
    foreign or corrupt file, or one written by a newer version; never writes
    to the file.
    """
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for the database {path}: {error.strerror or error}") from None
    if path.is_dir():
        raise StoreError(f"the database path {path} is a folder")
    version, app_id, objects = _inspect(path)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer sdsessions (schema {version}, this one knows "
                         f"{SCHEMA_VERSION}); upgrade sdsessions — the file was left untouched")
    if objects and app_id != APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite file of another program; choose another --db path "
                         "(the file was left untouched)")
    return version


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


def backup_database(path: Path, backup_dir: Path, version: int, progress: Progress = no_progress) -> Path:
    """Copy the database (WAL included, via SQLite's backup API) before a migration touches it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = backup_dir / f"{path.stem}.v{version}.{stamp}.backup{path.suffix}"

    def report(_status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total, "Backing up the database")

    try:
        source = sqlite3.connect(path)
        target = sqlite3.connect(backup)
        with target:
            source.backup(target, pages=BACKUP_PAGES, progress=report)
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        source.close()
        target.close()
    except sqlite3.Error as error:
        raise StoreError(f"cannot back up {path} before migrating it ({error}); nothing was changed") from None
    except OSError as error:
        backup.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup {backup}: {error.strerror or error}") from None
    return backup
