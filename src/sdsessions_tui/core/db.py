"""The SQLite file: where it lives, how every connection is set up, and whether it is ours.

Standard library only: the TUI reads its first screen through plain sqlite3
connections, so the ~300 ms import of SQLAlchemy and SQLModel stays off the
first-paint path (the writes and the schema live in :mod:`.engine`, imported
on the first write).

Every connection gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign
keys.  Failures to open come back as :class:`StoreError` with a one-line
reason; a file that is not our database (corrupt, foreign, or from a newer
version, or an empty file) is never written to: it is inspected read-only
before any setting touches it.

A database this process may not write is read without creating its ``-wal`` and
``-shm`` side files: SQLite would give them the main file's read-only mode, and
they would keep every later write failing after the user made the file writable
again.  Writers check first and name the read-only file (or folder).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import platformdirs

if TYPE_CHECKING:
    from sqlalchemy import Connection

ENV_DB = "SDSESSIONS_DB"
APP_NAME = "sdsessions"
#: ``PRAGMA application_id`` of our files ("SDSS"), so another app's SQLite file is never migrated.
APPLICATION_ID = 0x53445353
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 3
#: Pages (4 KiB) a backup copies per step, one progress report each.
BACKUP_PAGES = 1024

#: The files SQLite keeps beside a WAL database while it is open.
SIDE_SUFFIXES = ("-wal", "-shm")

#: ``progress(done, total, label)`` for long database work (a backup, a migration).
Progress = Callable[[int, int, str], None]


def no_progress(_done: int, _total: int, _label: str) -> None:
    """The default :data:`Progress`: nobody is watching."""


def sqlite_of(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy one in use (which types it as any DB-API's, or None)."""
    return cast(sqlite3.Connection, connection.connection.dbapi_connection)


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


class SnapshotConnection(sqlite3.Connection):
    """A reader opened ``immutable``: it takes no locks and creates no side files, and sees the file as
    it is on disk.  Right while nobody can write the file; to be replaced once it is writable."""


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES]


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` and its mode lets anyone: root passes the permission
    test for any file, so a file made read-only with chmod counts as read-only for root as well."""
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    except OSError:
        return False


def read_only_reason(path: Path) -> str | None:
    """Which of the database file, its side files and its folder cannot be written (SQLite needs all
    of them: it creates the side files in the folder), as a phrase naming it; None when none.
    Never raises (it also words error messages): ``os.path.exists`` is False for what cannot be reached."""
    if os.path.exists(path) and not _writable(path):
        return f"the database file {path} is read-only"
    for side in _side_files(path):
        if os.path.exists(side) and not _writable(side):
            return f"the database's side file {side} is read-only"
    if not _writable(path.parent):
        return f"the database's folder {path.parent} is read-only"
    return None


def check_writable(path: Path) -> None:
    """Raise :class:`StoreError` naming what is read-only before a writer touches ``path``.

    Side files left read-only by an earlier read-only open (SQLite copies the main file's
    mode) first get the main file's mode back when this process may change it.
    """
    if _writable(path):
        for side in _side_files(path):
            if os.path.exists(side) and not _writable(side):
                try:
                    side.chmod(path.stat().st_mode & 0o7777)
                except OSError:
                    pass  # not ours (or gone meanwhile): reported below if it still is read-only
    reason = read_only_reason(path)
    if reason is not None:
        raise StoreError(f"cannot write the database: {reason} (make it writable, e.g. chmod u+w)")


def snapshot_uri(path: Path) -> str:
    """A URI that reads ``path`` without creating side files: ``mode=ro`` when a ``-wal`` exists (its
    content counts), else ``immutable=1``.  Percent-encoded, so ``?`` or ``#`` in a folder name is safe."""
    uri = Path(os.path.abspath(path)).as_uri()
    return f"{uri}?mode=ro" if os.path.exists(_side_files(path)[0]) else f"{uri}?immutable=1"


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (``query_only``) usable from any one thread at a time.

    On a database this process cannot write it reads without creating side files: a
    :class:`SnapshotConnection` unless a ``-wal`` already exists.
    """
    options: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    if read_only_reason(path) is None:
        connection: sqlite3.Connection = sqlite3.connect(path, **options)
    else:
        uri = snapshot_uri(path)
        factory = SnapshotConnection if uri.endswith("immutable=1") else sqlite3.Connection
        connection = sqlite3.connect(uri, uri=True, factory=factory, **options)
    configure(connection)
    connection.execute("PRAGMA query_only = ON")
    return connection


def describe(error: BaseException, path: Path, waited: float | None = None) -> str:
    """A one-line reason for an SQLite failure on ``path``, naming the file at fault when it can
    (``waited``: the seconds the busy timeout was, when not the usual one)."""
    original = getattr(error, "orig", error)
    message = str(original).strip() or type(original).__name__
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        seconds = BUSY_TIMEOUT_MS / 1000 if waited is None else waited
        return f"the database {path} is locked by another program (waited {seconds:g} s); try again"
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"{path} is not a usable sdsessions database ({message}); it was left untouched"
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        if os.path.exists(path) and not os.access(path, os.R_OK):
            return f"cannot read the database file {path} (permission denied)"
        reason = read_only_reason(path)
        if reason is not None:
            return f"cannot write the database: {reason} ({message})"
        return f"cannot open or write the database {path} ({message})"
    return f"database error on {path}: {message}"


def check_database(path: Path, *, create: bool = True) -> int:
    """The schema version of the database at ``path`` (0 = new), after checking it is ours.

    With ``create``, a missing file is a new database and its parent folder is
    made; without (read-only commands), a missing file or one without our schema
    is an error and nothing is created.  Raises :class:`StoreError` for a folder,
    an empty (zero-byte) file, a foreign or corrupt file, or one written by a
    newer version; never writes to the file.
    """
    path = path.expanduser()
    try:
        size = None if not path.exists() else path.stat().st_size
        folder = path.is_dir()
    except OSError as error:  # a folder on the way this user may not enter
        raise StoreError(f"cannot reach the database {path}: {error.strerror or error}") from None
    if folder:
        raise StoreError(f"the database path {path} is a folder")
    if not create and size is None:
        raise StoreError(f"no database at {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for the database {path}: {error.strerror or error}") from None
    version, app_id, objects = _inspect(path, size)
    if not create and version == 0:
        raise StoreError(f"no database at {path} (the file is an SQLite file with no sdsessions data yet)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer sdsessions (schema {version}, this one knows "
                         f"{SCHEMA_VERSION}); upgrade sdsessions — the file was left untouched")
    if objects and app_id != APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite file of another program; choose another --db path "
                         "(the file was left untouched)")
    return version


def _inspect(path: Path, size: int | None) -> tuple[int, int, int]:
    """(user_version, application_id, object count) of the file of ``size`` bytes (None: none), read-only.

    Done before our own connection settings touch the file: switching a
    foreign file to WAL would already change its header.  An empty file is
    refused: a file someone made (``touch``) is not known to be ours to fill.
    (SQLite writes a new database's header at once, when WAL is switched on:
    no sdsessions leaves an empty file behind.)
    """
    if size is None:
        return 0, 0, 0
    if size == 0:
        raise StoreError(f"{path} is an empty file, not an sdsessions database; delete it to start a new "
                         "database there, or choose another --db path (the file was left untouched)")
    try:
        connection = sqlite3.connect(snapshot_uri(path), uri=True)
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
