"""The session store: the small API the TUI and the headless commands use.

Reads are plain SQL on a small pool of standard-library sqlite3 connections
(read-only), so opening the app never imports SQLAlchemy; writes go through
the SQLAlchemy engine of :mod:`.engine`, created on the first write, as short
``BEGIN IMMEDIATE`` transactions.  Bulk stats writes are ``executemany``
upserts (the ORM's ``add_all`` was 60× slower).  User metadata belongs to one
session, keyed by its ``session_stats.id`` (the "session key"; see :mod:`.schema`
for why not the folder name); only the user's edits and merges
(:meth:`Store.merge_by_name`: the web UI import, metadata waiting for its session)
write it, never a refresh.
"""

from __future__ import annotations

import logging
import operator
import os
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from . import db
from .columns import (
    BOOLEAN_COLUMNS,
    JSON_STATS_TYPES,
    METADATA_COLUMNS,
    METADATA_VALUE_COLUMNS,
    NULLABLE_STATS_COLUMNS,
    STATS_COLUMNS,
    STORE_COLUMN_TYPES,
    TIME_STATS_COLUMNS,
    TOMBSTONE,
)
from .db import StoreError, check_database, connect_reader, default_db_path, describe, sqlite_of
from .edits import FLAGS, Conflict, Edit, SaveResult
from .filters import SessionFilter, SessionSort
from .fsnames import NAME_COLUMNS, from_db, to_db
from .metadata_merge import MergeConflict, merge_changes, normalize_tags
from .session_stats import SessionStats
from .sql_filters import LIKE_SAMPLE, Driver, Where, driven_query, filter_where, order_by, source
from .storable import column_value, json_text, json_value
from .text import escape_undecodable

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

#: Rows per ``WHERE id IN (…)`` page fetch; well under SQLite's variable limit.
PAGE_SIZE = 500
#: A filter's look-up drives the list query when it keeps under 1/DRIVE_SHARE of the sessions:
#: a row look-up per match (~2 µs) then beats walking the list index (~0.25 µs per session).
DRIVE_SHARE = 8
_ROW_VALUES = operator.itemgetter(*STATS_COLUMNS)
_UPSERT_SQL = (
    f"INSERT INTO session_stats ({', '.join(STATS_COLUMNS)}) VALUES ({', '.join('?' * len(STATS_COLUMNS))}) "
    "ON CONFLICT(session_path) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in STATS_COLUMNS if name != "session_path")
)
_METADATA_FIELDS = frozenset({"is_test", "is_complete", "is_favorite", "user_rating", "user_note", "tags"})
RATINGS = (None, "like", "dislike")


class MetadataConflict(StoreError):
    """The metadata changed since it was read (another window or process); nothing was written."""

    def __init__(self, current: SessionMetadata) -> None:
        super().__init__(f"the metadata of {current.session_id} was changed elsewhere (now version "
                         f"{current.version}); reload and try again")
        self.current = current


class UnknownSession(StoreError):
    """No session has this key (stats rows are never deleted: a caller's mistake, or another database)."""


@dataclass(frozen=True, slots=True)
class SessionMetadata:
    """The user's data about one session (web UI column names; ``is_favorite`` is shown as "liked")."""

    session_key: int
    """The session's ``session_stats.id``: what the metadata belongs to.  0 for metadata that
    belongs to no session yet (waiting for a folder of its name, or a web UI row)."""
    session_id: str = ""
    """The folder name (information: two sessions can share it)."""
    is_test: bool = False
    is_complete: bool = False
    is_favorite: bool = False
    user_rating: str | None = None
    user_note: str | None = None
    tags: tuple[str, ...] = ()
    auto_metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 0
    """0 = no row yet."""


@dataclass(frozen=True, slots=True)
class NameMerge:
    """What :meth:`Store.merge_by_name` did to one session of the name (at ``session_path``), or to
    the metadata waiting for the name (``session_path`` None)."""

    session_path: str | None
    changed: bool
    conflicts: list[MergeConflict]
    """Fields both sides set differently: ours was kept."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    """What a list row shows: a session's main stats and its user metadata."""

    session_key: int
    """The session's ``session_stats.id``."""
    session_id: str
    session_path: str
    display_name: str
    session_created_at: str | None
    sd_model: str | None
    sampler_name: str | None
    steps: int | None
    cfg_scale: float | None
    width: int | None
    height: int | None
    images_actual: int
    images_expected: int | None
    completion_percentage: float | None
    status: str
    is_seed_sweep: bool
    is_dry_run: bool
    is_unavailable: bool
    stats_error: str | None
    duration_seconds: float | None
    metadata: SessionMetadata


@dataclass(frozen=True, slots=True)
class KnownSession:
    """What refresh needs to decide whether a stored session changed on disk."""

    session_key: int
    """The session's ``session_stats.id``."""
    session_id: str
    session_path: str
    manifest_file: str | None
    manifest_mtime: float | None
    manifest_size: int | None
    folder_mtime: float | None
    status: str
    stats_version: int
    stats_error: str | None
    is_unavailable: bool
    fingerprint: str | None


def tombstone_path(session_key: int) -> str:
    """The ``session_path`` of a row that gave up its folder's path to another session (``session_path``
    is unique): its own, and no session folder's, being relative (sessions are found under resolved
    roots).  No NUL byte: a file function given one raises ValueError, where code expects OSError."""
    return f"(tombstone {session_key})"


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _json(value: Any) -> str:
    return json_text("value", value, problems=[])


def _text(value: str | None) -> str | None:
    """Text SQLite can store: bytes that were not UTF-8 (surrogate escapes) written ``\\xNN``.

    For shown text only (names, prompts, messages); file names are stored exactly (:mod:`.fsnames`).
    """
    return None if value is None else escape_undecodable(value)


def stats_to_row(stats: SessionStats, root: str) -> dict[str, Any]:
    """A ``session_stats`` row (column → value) for ``stats`` found under ``root``.

    A value the database cannot hold (a number outside 64 bits, a NaN) is dropped or clamped,
    with a warning on the session (:mod:`.storable`): one such session must not stop a batch.
    """
    row: dict[str, Any] = {}
    problems: list[str] = []
    for name in STATS_COLUMNS:
        if name in STORE_COLUMN_TYPES or name == "warnings":
            continue
        value = getattr(stats, name)
        if name in JSON_STATS_TYPES:
            value = json_text(name, value, problems=problems)
        elif isinstance(value, str) and name not in NAME_COLUMNS:  # names as os gave them: stored exactly
            value = _text(value)
        else:  # a value a nullable column cannot store is dropped
            value = column_value(name, value, nullable=name in NULLABLE_STATS_COLUMNS, problems=problems)
        row[name] = value
    row["warnings"] = json_text("warnings", [*stats.warnings, *problems], problems=[])
    row.update(root=root, is_unavailable=False, unavailable_since=None)
    return row


_NAME_INDEXES = [STATS_COLUMNS.index(name) for name in NAME_COLUMNS]


def _bindable(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values (:data:`.columns.STATS_COLUMNS` order) with its names as SQLite holds them."""
    if all(values[index] is None or values[index].isascii() for index in _NAME_INDEXES):
        return values
    bound = list(values)
    for index in _NAME_INDEXES:
        if bound[index] is not None:
            bound[index] = to_db(bound[index])
    return tuple(bound)


def row_to_stats(data: dict[str, Any]) -> SessionStats:
    """Rebuild a :class:`SessionStats` from a stored row (the details panel shows it)."""
    values: dict[str, Any] = {}
    for name in SessionStats.__dataclass_fields__:
        if name not in data:
            continue
        value = data[name]
        if name in JSON_STATS_TYPES:
            value = json_value(value, JSON_STATS_TYPES[name]())
        elif name in NAME_COLUMNS and value is not None:
            value = from_db(value)
        elif name in TIME_STATS_COLUMNS and isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[name] = value
    return SessionStats(**values)


def _known_session(row: Sequence[Any]) -> KnownSession:
    """A :class:`KnownSession` from its columns (:data:`_KNOWN_COLUMNS`), names as ``os`` gives them."""
    session_key, session_id, session_path, manifest_file, *rest = row
    return KnownSession(session_key, from_db(session_id), from_db(session_path),
                        None if manifest_file is None else from_db(manifest_file), *rest)


def _metadata_from(values: Any, session_key: int, session_id: str | bytes, prefix: str = "") -> SessionMetadata:
    """Metadata from a row mapping (``prefix`` for joined, labelled columns); defaults when absent.
    ``session_id`` as stored or as ``os`` gives it."""
    session_id = from_db(session_id)
    if values is None or values.get(f"{prefix}version") is None:
        return SessionMetadata(session_key, session_id)

    def get(name: str) -> Any:
        return values[f"{prefix}{name}"]

    return SessionMetadata(
        session_key=session_key, session_id=session_id, is_test=bool(get("is_test")),
        is_complete=bool(get("is_complete")),
        is_favorite=bool(get("is_favorite")), user_rating=get("user_rating"), user_note=get("user_note"),
        tags=tuple(orjson.loads(get("tags") or "[]")), auto_metadata=orjson.loads(get("auto_metadata") or "{}"),
        created_at=get("created_at"), updated_at=get("updated_at"), version=get("version"))


def _selected(name: str, table: str = "") -> str:
    """The column of a record's field (``session_key`` is the ``id`` column), named as the field."""
    return f"{table}id AS session_key" if name == "session_key" else f"{table}{name}"


_KNOWN_COLUMNS = ", ".join(map(_selected, KnownSession.__dataclass_fields__))
_ROW_FIELDS = [name for name in SessionRow.__dataclass_fields__ if name != "metadata"]
_ROW_COLUMNS = ", ".join(_selected(name, "s.") for name in _ROW_FIELDS)
_JOINED_METADATA = ", ".join(f"m.{name} AS m_{name}" for name in METADATA_COLUMNS)
_METADATA_JOIN = "session_stats AS s LEFT JOIN session_metadata AS m ON m.session_key = s.id"


def _mappings(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    """Rows as dicts by column name (joined metadata as ``m_…``), flags as ``bool``."""
    names = [description[0] for description in cursor.description]
    flags = [name for name in names if name.removeprefix("m_") in BOOLEAN_COLUMNS]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        for name in flags:
            if row[name] is not None:
                row[name] = bool(row[name])
        yield row


def _small_driver(connection: sqlite3.Connection, where: Where) -> Driver | None:
    """A look-up of the filter that keeps few enough sessions (under 1/:data:`DRIVE_SHARE` of
    them, by a capped count or a sample) to drive the list query; None to walk the list index."""
    if not where.drivers:
        return None
    sessions = connection.execute("SELECT coalesce(max(id), 0) FROM session_stats").fetchone()[0]
    cap = sessions // DRIVE_SHARE
    for driver in where.drivers:
        if driver.sampled:
            sample = min(LIKE_SAMPLE, sessions)
            matches = connection.execute(driver.estimate_sql, [sample, *driver.params]).fetchone()[0]
            estimate = matches * sessions // max(sample, 1)
        else:
            estimate = connection.execute(driver.estimate_sql, [*driver.params, cap]).fetchone()[0]
        if estimate < cap:
            return driver
    return None


def _in(values: Sequence[object]) -> str:
    return f"({', '.join('?' * len(values))})"


class Store:
    """One open database.  Cheap to share within a process (threads included); safe across processes."""

    def __init__(self, path: Path | str | None = None, *, backup_dir: Path | None = None,
                 progress: db.Progress = db.no_progress) -> None:
        """Open (create, or back up and upgrade) the database; ``progress`` hears of an upgrade."""
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        version = check_database(self.path)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._readers: list[sqlite3.Connection] = []
        self._watcher: sqlite3.Connection | None = None
        self._watcher_lock = threading.Lock()
        """Guards the watcher connection, and the version bookkeeping through each commit of ours."""
        self._seen_version: int | None = None
        """The data version accounted for: at the last :meth:`changed_by_others`, or after this
        store's own last commit (None until someone asks: then commits note nothing)."""
        self._others_meanwhile = False
        """Another program committed just before one of our commits (seen inside its transaction)."""
        self.backup: Path | None = None
        """The copy made before this open upgraded the file, if it did."""
        if version != db.SCHEMA_VERSION:
            from .engine import prepare_schema

            self._engine, self.backup = prepare_schema(self.path, version, backup_dir or self.path.parent,
                                                       progress)
        try:
            self._release(self._open_reader())
        except sqlite3.Error as error:
            self.close()
            raise StoreError(describe(error, self.path)) from None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine for writes, created (and SQLAlchemy imported) on first use."""
        with self._engine_lock:
            if self._engine is None:
                from .engine import make_engine

                self._engine = make_engine(self.path)
            return self._engine

    def close(self) -> None:
        for connection in self._readers:
            connection.close()
        self._readers.clear()
        if self._engine is not None:
            self._engine.dispose()

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the database.

        SQLite's ``PRAGMA data_version`` on a connection kept for it: another app
        instance, a ``--refresh-all`` or ``--watch``, and this store's own writer all
        count as "another connection".  Cheap (no table is read): the TUI polls it to
        pick up other instances' changes.
        """
        with self._watcher_lock:
            return self._version_locked()

    def _version_locked(self) -> int:
        """:meth:`data_version`, the watcher lock held."""
        try:
            if self._watcher is None or self._retired(self._watcher):
                self._watcher = self._open_reader()
            return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as error:
            raise StoreError(describe(error, self.path)) from None

    def changed_by_others(self) -> bool:
        """Whether another program (another app instance, a ``--refresh-all`` or ``--watch``)
        committed since the last call: what the TUI polls to show their changes.

        This store's own commits never count: every write notes the version after it (see
        :meth:`_write`), so no caller has to remember to.  The first call only takes the
        version to compare with.  False, without waiting, while a commit of ours is being
        noted: the UI thread that polls never waits for a writer; the next poll tells.
        """
        if not self._watcher_lock.acquire(blocking=False):
            return False
        try:
            version = self._version_locked()
            changed = self._others_meanwhile or (self._seen_version is not None and version != self._seen_version)
            self._seen_version, self._others_meanwhile = version, False
            return changed
        finally:
            self._watcher_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_reader(self) -> sqlite3.Connection:
        connection = connect_reader(self.path)
        self._readers.append(connection)
        return connection

    def _release(self, connection: sqlite3.Connection) -> None:
        self._idle.put(connection)

    def _retired(self, connection: sqlite3.Connection) -> bool:
        """Close an immutable reader (the file was read-only when it opened) once this store writes:
        it would miss the writes; the caller opens an ordinary one instead."""
        if isinstance(connection, db.SnapshotConnection) and self._engine is not None:
            connection.close()
            self._readers.remove(connection)
            return True
        return False

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of the pool, for one thread at a time; SQLite errors become StoreError."""
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = self._open_reader()
            if not self._retired(connection):
                break
        try:
            yield connection
        except sqlite3.Error as error:
            raise StoreError(describe(error, self.path)) from None
        finally:
            self._release(connection)

    @contextmanager
    def _write(self, busy_timeout: float | None = None) -> Iterator[Connection]:
        """A short ``BEGIN IMMEDIATE`` transaction; SQLite errors become StoreError.

        Its commit is noted for :meth:`changed_by_others`: the version is read just before it,
        while the transaction holds the database's write lock (any other program's commit is in
        it then), and just after it; the watcher lock, held from one read to the other, keeps
        another thread's commit of ours from being taken for someone else's.
        """
        from sqlalchemy.exc import DBAPIError

        from .engine import write_transaction

        noting = False
        try:
            with write_transaction(self.engine, busy_timeout) as connection:
                yield connection
                self._watcher_lock.acquire()
                noting = True
                before = self._noted_version()
            if before is not None:
                self._others_meanwhile |= before != self._seen_version
                self._seen_version = self._noted_version()
        except DBAPIError as error:
            raise StoreError(describe(error, self.path, busy_timeout)) from None
        finally:
            if noting:
                self._watcher_lock.release()

    def _noted_version(self) -> int | None:
        """The data version for the bookkeeping of our commits (the watcher lock held); None while
        nobody asks about others' changes, or when it cannot be read (then the next
        :meth:`changed_by_others` starts over: a write never fails for its bookkeeping)."""
        if self._seen_version is None:
            return None
        try:
            return self._version_locked()
        except StoreError:
            self._seen_version, self._others_meanwhile = None, False
            return None

    # --- refresh side ---------------------------------------------------------------------------

    def known_sessions(self, roots: Sequence[str]) -> dict[str, KnownSession]:
        """Stored sessions under ``roots``, by path."""
        return self._known("root", roots)

    def known_paths(self, session_paths: Sequence[str]) -> dict[str, KnownSession]:
        """Stored sessions at these folder paths, by path (what the watcher's batch touches)."""
        return self._known("session_path", session_paths)

    def _known(self, column: str, values: Sequence[str]) -> dict[str, KnownSession]:
        names = [to_db(value) for value in values]
        found: dict[str, KnownSession] = {}
        with self._read() as connection:
            for start in range(0, len(names), PAGE_SIZE):
                page = names[start:start + PAGE_SIZE]
                for row in connection.execute(f"SELECT {_KNOWN_COLUMNS} FROM session_stats WHERE {column} IN "
                                              f"{_in(page)}", page):
                    known = _known_session(row)
                    found[known.session_path] = known
        return found

    def find_relink_candidates(self, fingerprints: Iterable[str], *,
                               available_too: bool = False) -> list[KnownSession]:
        """Unavailable sessions (tombstones too) with these fingerprints, by id: a renamed or moved
        folder is one of them.

        Every one, not one per fingerprint: copies of a session (a backup, the same run
        gathered from two machines) share the fingerprint, and the caller picks the one
        that moved (:meth:`.refresh.StatsBatch.flush`).  ``available_too``: also sessions
        not marked unavailable yet (the watcher may see a rename's new folder before the
        old one's removal).
        """
        wanted = list(set(fingerprints))
        found: list[KnownSession] = []
        availability = "" if available_too else " AND is_unavailable IS NOT 0"
        with self._read() as connection:
            for start in range(0, len(wanted), PAGE_SIZE):
                page = wanted[start:start + PAGE_SIZE]
                found.extend(_known_session(row) for row in connection.execute(
                    f"SELECT {_KNOWN_COLUMNS} FROM session_stats WHERE fingerprint IN {_in(page)}{availability}", page))
        return sorted(found, key=lambda known: known.session_key)

    def upsert_stats(self, rows: Sequence[dict[str, Any]], relinks: dict[str, KnownSession] | None = None,
                     gone: Sequence[str] = (), displaced: Sequence[int] = ()) -> int:
        """Write stats rows (``stats_to_row``) in one short transaction; metadata is untouched.

        ``relinks`` maps a new session path to the unavailable row it replaces
        (same fingerprint): that row takes the new path, keeping its id, so the
        user's metadata (keyed by that id) follows; only its folder name and path,
        kept there as information, change.  A session stored under a folder name
        that has metadata waiting (``pending_metadata``) takes it.  ``gone``: session
        paths whose folder vanished, marked unavailable first in the same
        transaction (a rename in the same batch then relinks one of them).
        ``displaced``: keys of sessions whose folder path now holds another session;
        each becomes a tombstone (:data:`.columns.TOMBSTONE`, at :func:`tombstone_path`)
        before the relinks, which may give it a new path in the same transaction.
        Returns how many sessions became unavailable (tombstones not counted).
        """
        if not rows and not gone:
            return 0
        relinks = relinks or {}
        with self._write() as connection:
            unavailable = self._mark_unavailable(connection, gone)
            stamp = _now()
            for session_key in displaced:
                connection.exec_driver_sql(
                    "UPDATE session_stats SET session_path = ?, is_unavailable = ?, "
                    "unavailable_since = coalesce(unavailable_since, ?) WHERE id = ?",
                    (tombstone_path(session_key), TOMBSTONE, stamp, session_key))
            for path, old in relinks.items():
                new_row = next(r for r in rows if r["session_path"] == path)
                connection.exec_driver_sql("UPDATE session_stats SET session_path = ? WHERE id = ?",
                                           (to_db(path), old.session_key))
                connection.exec_driver_sql("UPDATE session_metadata SET session_id = ?, session_path = ? "
                                           "WHERE session_key = ?", (to_db(new_row["session_id"]), to_db(path),
                                                                            old.session_key))
            if rows:
                rows = _upsert_rows(connection, rows)
                self._index_search(connection, rows)
                self._adopt_pending(connection, [row["session_id"] for row in rows], stamp)
        return unavailable

    def mark_unavailable(self, session_paths: Sequence[str]) -> int:
        """Mark sessions whose folder is gone; their stats and metadata stay."""
        if not session_paths:
            return 0
        with self._write() as connection:
            return self._mark_unavailable(connection, session_paths)

    @staticmethod
    def _mark_unavailable(connection: Connection, session_paths: Sequence[str]) -> int:
        stamp = _now()
        changed = 0
        for start in range(0, len(session_paths), PAGE_SIZE):
            page = [to_db(path) for path in session_paths[start:start + PAGE_SIZE]]
            result = connection.exec_driver_sql(
                f"UPDATE session_stats SET is_unavailable = 1, unavailable_since = ? "
                f"WHERE session_path IN {_in(page)} AND is_unavailable IS 0", (stamp, *page))
            changed += result.rowcount
        return changed

    @staticmethod
    def _index_search(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Rewrite the full-text documents of these stats rows (dicts with the text columns).

        Built from the rows in hand; only the session keys and any user tags and notes are read.  Their
        names may be as stored or as ``os`` gives them; the document holds them as shown.
        """
        by_path = {to_db(from_db(row["session_path"])): row for row in rows}
        if not by_path:
            return
        session_keys: dict[str | bytes, int] = {}
        metadata: dict[int, tuple[str | None, str | None]] = {}
        paths = list(by_path)
        for start in range(0, len(paths), PAGE_SIZE):
            page_paths = tuple(paths[start:start + PAGE_SIZE])
            page_keys: dict[str | bytes, int] = dict(connection.exec_driver_sql(
                f"SELECT session_path, id FROM session_stats WHERE session_path IN {_in(page_paths)}",
                page_paths).all())
            session_keys.update(page_keys)
            keys = tuple(page_keys.values())
            metadata.update((session_key, (tags, note)) for session_key, tags, note in connection.exec_driver_sql(
                f"SELECT session_key, tags, user_note FROM session_metadata WHERE session_key IN {_in(keys)}", keys))
        documents = []
        for path, row in by_path.items():
            tags, note = metadata.get(session_keys[path], (None, None))
            parts = (_text(from_db(row["session_id"])), row["display_name"], row["resolved_prompt"],
                     row["negative_prompt"], _placeholder_text(row["placeholders"]),
                     " ".join(orjson.loads(tags or "[]")), note)
            documents.append((session_keys[path], "\n".join(part for part in parts if part)))
        old: dict[int, str] = {}
        for start in range(0, len(documents), PAGE_SIZE):
            page = tuple(session_key for session_key, _ in documents[start:start + PAGE_SIZE])
            old.update(connection.exec_driver_sql(f"SELECT id, doc FROM search_docs WHERE id IN {_in(page)}",
                                                  page).all())
        # a re-read rarely changes text:
        changed = [(session_key, doc) for session_key, doc in documents if old.get(session_key) != doc]
        if not changed:
            return
        stale = [(session_key, old[session_key]) for session_key, _ in changed if session_key in old]
        if stale:  # the index forgets a document by its old text
            connection.exec_driver_sql(
                "INSERT INTO session_search (session_search, rowid, doc) VALUES ('delete', ?, ?)", stale)
        connection.exec_driver_sql("INSERT INTO search_docs (id, doc) VALUES (?, ?) "
                                   "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc", changed)
        connection.exec_driver_sql("INSERT INTO session_search (rowid, doc) VALUES (?, ?)", changed)

    # --- queries ------------------------------------------------------------------------------

    def list_ids(self, session_filter: SessionFilter | None = None, sort: SessionSort | None = None, *,
                 limit: int | None = None) -> list[int]:
        """Ids of the sessions matching the filter, in sort order (the list's whole view state).

        ``limit``: only the first ones.  The sort's index yields them without reading the rest
        (0.1-13 ms at 100 000 sessions, against 20-60 ms for the whole list): the app shows them
        while the whole list is fetched.
        """
        sort = sort or SessionSort()
        where = filter_where(session_filter or SessionFilter())
        with self._read() as connection:
            driver = _small_driver(connection, where)
            if driver is None:
                query = f"SELECT s.id AS id FROM {source(sort)} WHERE {where.sql} ORDER BY {order_by(sort)}"
                params = where.params
            else:
                query, params = driven_query(where, driver, sort)
            if limit is not None:
                return [session_key for (session_key,) in connection.execute(f"{query} LIMIT ?", [*params, limit])]
            # 100 000 ids as Python rows cost more than the query itself; SQLite hands
            # them over as one JSON array instead, in the sub-query's order.
            return cast("list[int]", orjson.loads(connection.execute(f"SELECT json_group_array(id) FROM ({query})",
                                                                     params).fetchone()[0]))

    def matches(self, session_key: int, session_filter: SessionFilter) -> bool:
        """Whether this session (stats id) passes the filter: one row checked, not the list built."""
        where = filter_where(session_filter, one_row=True)
        sql = f"SELECT EXISTS(SELECT 1 FROM {source(SessionSort())} WHERE {where.sql} AND s.id = ?)"
        with self._read() as connection:
            return bool(connection.execute(sql, [*where.params, session_key]).fetchone()[0])

    def fetch_rows(self, session_keys: Sequence[int]) -> dict[int, SessionRow]:
        """The list rows of these sessions (one page), by session key."""
        rows: dict[int, SessionRow] = {}
        with self._read() as connection:
            for start in range(0, len(session_keys), PAGE_SIZE):
                page = list(session_keys[start:start + PAGE_SIZE])
                cursor = connection.execute(f"SELECT {_ROW_COLUMNS}, {_JOINED_METADATA} FROM {_METADATA_JOIN} "
                                            f"WHERE s.id IN {_in(page)}", page)
                for row in _mappings(cursor):
                    row["session_id"], row["session_path"] = from_db(row["session_id"]), from_db(row["session_path"])
                    values = [row[name] for name in _ROW_FIELDS]
                    metadata = _metadata_from(row, row["session_key"], row["session_id"], "m_")
                    rows[row["session_key"]] = SessionRow(*values, metadata=metadata)  # type: ignore[misc]  # values: the rest
        return rows

    def get_session(self, session_key: int) -> tuple[SessionStats, SessionMetadata] | None:
        """One session's full stats and its metadata, by stats id."""
        with self._read() as connection:
            row = next(_mappings(connection.execute("SELECT * FROM session_stats WHERE id = ?", (session_key,))),
                       None)
            if row is None:
                return None
            meta = connection.execute("SELECT * FROM session_metadata WHERE session_key = ?", (session_key,))
            meta_row = next(_mappings(meta), None)
        stats = row_to_stats(row)
        return stats, _metadata_from(meta_row, session_key, stats.session_id)

    def get_metadata(self, session_key: int) -> SessionMetadata:
        """One session's metadata (defaults, version 0, while the user set nothing); :class:`UnknownSession`
        if no session has this key."""
        with self._read() as connection:
            return _metadata_of(_metadata_row(connection, session_key), session_key)

    def recompute(self, session_key: int) -> SessionStats | None:
        """Re-read one session from disk now and store it (the seed's refresh endpoint).

        Should its folder hold another session now (:func:`.refresh.fingerprint_changed`),
        the folder is stored as the watcher would (``watch.apply_changes``): the session
        that moved there takes the path, and this one becomes a tombstone (whose stored
        stats are returned)."""
        with self._read() as connection:
            row = connection.execute("SELECT session_path, root, is_unavailable FROM session_stats WHERE id = ?",
                                     (session_key,)).fetchone()
        if row is None:
            return None
        session_path, root = from_db(row[0]), from_db(row[1])
        if row[2] == TOMBSTONE or not os.path.isdir(session_path):  # a tombstone's path is no folder's
            self.mark_unavailable([session_path])
            return self._stored_stats(session_key)
        from .refresh import fingerprint_changed  # the readers stay out of the app's launch
        from .stats import read_session, vanished_mid_read

        stats = read_session(session_path)
        if vanished_mid_read(stats.stats_error, session_path):  # renamed meanwhile: its row must keep
            self.mark_unavailable([session_path])                # its fingerprint, for the relink
            return self._stored_stats(session_key)
        row = stats_to_row(stats, root)
        known = self.known_paths([session_path]).get(session_path)
        if known is not None and fingerprint_changed(known, row):
            from .watch import apply_changes

            apply_changes(self, [root], {session_path})
            return self._stored_stats(session_key)
        self.upsert_stats([row])
        return stats

    def _stored_stats(self, session_key: int) -> SessionStats | None:
        """The session's stats as stored (after :meth:`recompute` marked or moved it: rows stay)."""
        found = self.get_session(session_key)
        return found[0] if found is not None else None

    def update_metadata(self, session_key: int, changes: dict[str, Any], *,
                        expected_version: int | None = None) -> SessionMetadata:
        """Change only the given fields of one session (``None`` clears a rating or note); returns
        the new metadata.

        With ``expected_version``, the write is refused with :class:`MetadataConflict`
        when someone else changed the row since it was read.
        """
        unknown = set(changes) - _METADATA_FIELDS
        if unknown:
            raise ValueError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        values = _stored_values(changes)
        with self._write() as connection:
            current = _metadata_mapping(connection, session_key)
            if expected_version is not None and (current["version"] or 0) != expected_version:
                raise MetadataConflict(_metadata_of(current, session_key))
            return self._write_metadata(connection, session_key, values, current, _now())

    def _write_metadata(self, connection: Connection, session_key: int, values: dict[str, Any],
                        current: dict[str, Any], stamp: str) -> SessionMetadata:
        """Write ``values`` (stored forms) over ``current`` (:func:`_metadata_row`), bumping the version."""
        _write_row(connection, "session_metadata", "session_key", session_key, values, current["version"], stamp,
                   session_id=current["folder"], session_path=current["folder_path"])
        if "tags" in values:
            connection.exec_driver_sql("DELETE FROM session_tags WHERE session_key = ?", (session_key,))
            tag_rows = [(session_key, tag.casefold()) for tag in orjson.loads(values["tags"])]
            if tag_rows:
                connection.exec_driver_sql("INSERT INTO session_tags (session_key, tag) VALUES (?, ?)", tag_rows)
        if "tags" in values or "user_note" in values:
            texts = connection.exec_driver_sql(
                "SELECT session_path, session_id, display_name, resolved_prompt, negative_prompt, placeholders "
                "FROM session_stats WHERE id = ?", (session_key,)).mappings().all()
            self._index_search(connection, [dict(text) for text in texts])
        return _metadata_of(_metadata_mapping(connection, session_key), session_key)

    def apply_edits(self, edits: Sequence[Edit], *, busy_timeout: float | None = None) -> SaveResult:
        """Save a burst of edits in one short transaction, each touching only its changed fields.

        An edit made against an older version still lands when the fields it
        changes were left alone since (another instance changed others); a field
        changed on both sides is not written but returned as a :class:`Conflict`.
        ``busy_timeout``: seconds to wait for another program's lock (default: the usual 10 s).
        """
        result = SaveResult()
        stamp = _now()
        with self._write(busy_timeout) as connection:
            for edit in edits:
                current = _metadata_mapping(connection, edit.session_key)
                stored = _metadata_of(current, edit.session_key)
                changes = dict(edit.changes)
                if stored.version != edit.base_version:
                    clashing = {name for name in changes if getattr(stored, name) != edit.base.get(name)
                                and getattr(stored, name) != changes[name]}
                    if clashing:
                        result.conflicts.append(Conflict(
                            edit.session_key, stored.session_id, {name: changes.pop(name) for name in sorted(clashing)},
                            {name: getattr(stored, name) for name in sorted(clashing)}, stored.version))
                if changes:
                    stored = self._write_metadata(connection, edit.session_key, _stored_values(changes), current,
                                                  stamp)
                result.saved[edit.session_key] = stored
        return result

    def set_metadata_many(self, session_keys: Sequence[int], changes: dict[str, Any], *,
                          previous: dict[int, dict[str, Any]] | None = None) -> int:
        """Set flags or the rating of many sessions (by stats id) at once: "apply to all filtered".

        Two statements over a JSON list of ids, in one transaction: rows are
        created where missing, then only the given fields change.  Returns how many sessions.
        ``previous``, when given, receives each session's values of these fields just before
        (read in the same transaction: what an undo puts back).
        """
        if not changes or set(changes) - {*FLAGS, "user_rating"}:
            raise ValueError(f"only flags and the rating can be set in bulk, not {sorted(changes)}")
        values = _stored_values(changes)
        keys_json = orjson.dumps(list(session_keys)).decode()
        stamp = _now()
        with self._write() as connection:
            if previous is not None:
                rows = connection.exec_driver_sql(
                    f"SELECT s.id, {', '.join(f'm.{name}' for name in changes)} FROM session_stats AS s "
                    f"LEFT JOIN session_metadata AS m ON m.session_key = s.id "
                    f"WHERE s.id IN (SELECT value FROM json_each(?))", (keys_json,))
                for session_key, *stored in rows:  # (no row yet: the defaults, flags off and no rating)
                    previous[session_key] = {name: bool(value) if name in FLAGS else value
                                     for name, value in zip(changes, stored, strict=True)}
            connection.exec_driver_sql(
                "INSERT INTO session_metadata (session_key, session_id, session_path, is_test, is_complete, "
                "is_favorite, tags, created_at, updated_at, version) SELECT id, session_id, session_path, 0, 0, 0, "
                "'[]', ?, ?, 0 FROM session_stats WHERE id IN (SELECT value FROM json_each(?)) "
                "ON CONFLICT(session_key) DO NOTHING", (stamp, stamp, keys_json))
            result = connection.exec_driver_sql(
                f"UPDATE session_metadata SET {', '.join(f'{name} = ?' for name in values)}, updated_at = ?, "
                f"version = version + 1 WHERE session_key IN (SELECT value FROM json_each(?))",
                (*values.values(), stamp, keys_json))
            return result.rowcount

    def merge_by_name(self, session_id: str, theirs: SessionMetadata) -> list[NameMerge]:
        """Merge metadata known by folder name only (a web UI row) with :func:`.metadata_merge.merge_changes`.

        It applies to every session of that name (tombstones aside), each merged on its own (a backup copy and
        its original both get it); when none is stored yet, to the metadata waiting for
        that name in ``pending_metadata``, which the first session stored under the name
        takes (:meth:`upsert_stats`).  One transaction: a refresh storing the folder
        meanwhile is seen (the check and the write hold the write lock together).
        """
        stamp = _now()
        merges: list[NameMerge] = []
        with self._write() as connection:
            sessions = connection.exec_driver_sql(_OF_NAME + " ORDER BY session_path", (to_db(session_id),)).all()
            for session_key, path in sessions:
                path = from_db(path)
                current = _metadata_mapping(connection, session_key)
                changes, conflicts = merge_changes(_metadata_from(current, session_key, session_id), theirs)
                if changes:
                    self._write_metadata(connection, session_key, _stored_values(changes), current, stamp)
                merges.append(NameMerge(path, bool(changes), conflicts))
            if not sessions:
                merges.append(self._merge_pending(connection, session_id, theirs, stamp))
        return merges

    @staticmethod
    def _merge_pending(connection: Connection, session_id: str, theirs: SessionMetadata, stamp: str) -> NameMerge:
        current = next(_mappings(sqlite_of(connection).execute(
            "SELECT * FROM pending_metadata WHERE session_id = ?", (to_db(session_id),))), None)
        changes, conflicts = merge_changes(_metadata_from(current, 0, session_id), theirs)
        if changes:
            _write_row(connection, "pending_metadata", "session_id", to_db(session_id), _stored_values(changes),
                       None if current is None else current["version"], stamp, session_path="")
        return NameMerge(None, bool(changes), conflicts)

    def _adopt_pending(self, connection: Connection, names: Sequence[str], stamp: str) -> None:
        """Sessions stored under a name that has metadata waiting take it (merged), and it stops waiting."""
        if connection.exec_driver_sql("SELECT 1 FROM pending_metadata LIMIT 1").first() is None:
            return  # the usual case: one cheap look per batch
        raw = sqlite_of(connection)
        unique = sorted({to_db(name) for name in names}, key=repr)
        for start in range(0, len(unique), PAGE_SIZE):
            page = unique[start:start + PAGE_SIZE]
            waiting = list(_mappings(raw.execute(
                f"SELECT * FROM pending_metadata WHERE session_id IN {_in(page)}", page)))
            for pending in waiting:
                name = pending["session_id"]
                theirs = _metadata_from(pending, 0, name)
                for session_key, _path in connection.exec_driver_sql(_OF_NAME, (name,)).all():
                    current = _metadata_mapping(connection, session_key)
                    changes, _conflicts = merge_changes(_metadata_from(current, session_key, name), theirs)
                    if changes:  # a conflict keeps the session's own value, as the import does
                        self._write_metadata(connection, session_key, _stored_values(changes), current, stamp)
                connection.exec_driver_sql("DELETE FROM pending_metadata WHERE session_id = ?", (name,))

    def pending_metadata(self) -> list[SessionMetadata]:
        """Metadata waiting for a session of its folder name (``session_key`` 0), by name."""
        with self._read() as connection:
            cursor = connection.execute("SELECT * FROM pending_metadata ORDER BY session_id")
            return [_metadata_from(row, 0, row["session_id"]) for row in _mappings(cursor)]

    def recently_liked(self, limit: int = 20) -> list[int]:
        """Session keys of liked sessions, most recently changed first."""
        with self._read() as connection:
            return [session_key for (session_key,) in connection.execute(
                "SELECT s.id FROM session_stats AS s JOIN session_metadata AS m ON m.session_key = s.id "
                "WHERE m.is_favorite IS 1 AND s.is_unavailable IS 0 ORDER BY m.updated_at DESC, s.id DESC LIMIT ?",
                (limit,))]

    def distinct_values(self, kind: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Values with their session counts, most common first: ``model``, ``sampler`` or ``tag``.

        Tags match case-insensitively; each is given in its most used spelling (what the
        tag editor offers for completion).
        """
        if kind == "tag":
            return self._distinct_tags(limit)
        sources = {"model": ("sd_model", "session_stats"), "sampler": ("sampler_name", "session_stats")}
        if kind not in sources:
            raise ValueError(f"no distinct values for {kind!r}: use model, sampler or tag")
        column, table = sources[kind]
        sql = (f"SELECT {column}, count(*) AS n FROM {table} WHERE {column} IS NOT NULL "
               f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT ?")
        with self._read() as connection:
            return [(value, number) for value, number in connection.execute(sql, (limit or -1,))]

    def _distinct_tags(self, limit: int | None) -> list[tuple[str, int]]:
        sql = ("SELECT tag.value, count(*) FROM session_metadata AS m, json_each(m.tags) AS tag "
               "WHERE m.tags != '[]' AND json_valid(m.tags) AND tag.type = 'text' GROUP BY tag.value")
        merged: dict[str, list[Any]] = {}  # casefolded → [spelling, sessions, sessions with that spelling]
        with self._read() as connection:
            for spelling, number in connection.execute(sql):
                entry = merged.setdefault(spelling.casefold(), [spelling, 0, 0])
                entry[1] += number
                if number > entry[2]:
                    entry[0], entry[2] = spelling, number
        tags = sorted(((spelling, total) for spelling, total, _most in merged.values()),
                      key=lambda item: (-item[1], item[0].casefold()))
        return tags[:limit] if limit else tags

    def known_roots(self) -> list[str]:
        """The roots sessions were found under (remembered between runs)."""
        # One index seek per root (a loose index scan): DISTINCT would read every session's entry
        # (8-14 ms at 100 000 sessions, on the launch path).
        sql = ("WITH RECURSIVE roots(root) AS (SELECT min(root) FROM session_stats UNION ALL "
               "SELECT (SELECT min(root) FROM session_stats WHERE root > roots.root) FROM roots "
               "WHERE roots.root IS NOT NULL) SELECT root FROM roots WHERE root IS NOT NULL")
        with self._read() as connection:
            return [from_db(root) for (root,) in connection.execute(sql)]

    def export_rows(self, session_keys: Sequence[int]) -> Iterator[dict[str, Any]]:
        """Every stats and metadata column of these sessions (raw stored values), in the order given."""
        metadata = ", ".join(f"m.{name}" for name in METADATA_VALUE_COLUMNS)
        with self._read() as connection:
            for start in range(0, len(session_keys), PAGE_SIZE):
                page = list(session_keys[start:start + PAGE_SIZE])
                cursor = connection.execute(f"SELECT s.*, {metadata} FROM {_METADATA_JOIN} WHERE s.id IN {_in(page)}",
                                            page)
                rows = {row["id"]: row for row in _mappings(cursor)}
                for row in rows.values():
                    row.update((name, from_db(row[name])) for name in NAME_COLUMNS if row[name] is not None)
                yield from (rows[session_key] for session_key in page)

    def stats_columns(self) -> list[str]:
        """The ``session_stats`` column names, in table order."""
        with self._read() as connection:
            return [row[1] for row in connection.execute("PRAGMA table_info(session_stats)")]


def _upsert_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upsert stats rows with one executemany (the bulk path of a 10 000-session refresh); the rows
    as written.

    Should a row still be refused for its data (``stats_to_row`` makes every value storable, so
    this is a last resort), the rows are written one by one: the upsert is idempotent, so those
    executemany wrote already are rewritten, and each refused row is replaced by a row that says
    why, so the other sessions of the batch are kept.
    """
    try:
        connection.exec_driver_sql(_UPSERT_SQL, [_bindable(values) for values in map(_ROW_VALUES, rows)])
        return list(rows)
    except Exception as error:
        if not _refused_data(error):
            raise
    written = []
    for row in rows:
        try:
            connection.exec_driver_sql(_UPSERT_SQL, _bindable(_ROW_VALUES(row)))
        except Exception as error:
            if not _refused_data(error):
                raise
            error = getattr(error, "orig", None) or error  # the database's own words, not the statement
            log.warning("stats of %s could not be stored: %s", row["session_path"], error)
            row = _unstorable_row(row, error)
            try:
                connection.exec_driver_sql(_UPSERT_SQL, _bindable(_ROW_VALUES(row)))
            except Exception as again:  # not even the names: the session is left out of this batch
                if not _refused_data(again):
                    raise
                log.warning("session %s left out: %s", row["session_path"], getattr(again, "orig", None) or again)
                continue
        written.append(row)
    return written


def _refused_data(error: BaseException) -> bool:
    """Whether the database refused a row for its values (not for being locked, full or gone)."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.ProgrammingError):
        return "binding" in str(cause)
    return isinstance(cause, (OverflowError, sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError))


def _unstorable_row(row: dict[str, Any], error: BaseException) -> dict[str, Any]:
    """The row of a session whose stats the database refused: its folder, and why."""
    stats = SessionStats(session_id=str(row["session_id"]), session_path=str(row["session_path"]),
                         display_name=str(row["display_name"]), name_era=str(row["name_era"]),
                         is_dry_run=bool(row["is_dry_run"]),
                         stats_error=f"stats could not be stored: {type(error).__name__}: {error}"[:300])
    return stats_to_row(stats, str(row["root"]))


def _stored_values(changes: dict[str, Any]) -> dict[str, Any]:
    """Metadata changes as stored: flags as bools, tags and hints as JSON, a blank note as NULL.

    Raises ValueError for a rating other than like, dislike or None.
    """
    if "user_rating" in changes and changes["user_rating"] not in RATINGS:
        raise ValueError(f"rating must be like, dislike or None, not {changes['user_rating']!r}")
    values: dict[str, Any] = {key: bool(value) if key.startswith("is_") else value for key, value in changes.items()}
    if "tags" in values:
        values["tags"] = _json(list(normalize_tags(values["tags"] or ())))
    if "auto_metadata" in values:  # merged hints (metadata_merge), never the user's edits
        values["auto_metadata"] = _json(values["auto_metadata"])
    if values.get("user_note") is not None and not values["user_note"].strip():
        values["user_note"] = None
    return values


def _write_row(connection: Connection, table: str, key_column: str, key: object, values: dict[str, Any],
               version: int | None, stamp: str, **identity: Any) -> None:
    """Write ``values`` into the ``table`` row whose ``key_column`` is ``key``, bumping its ``version``;
    ``version`` None: there is no row yet, so it is created (with ``identity``, nothing else set)."""
    if version is None:
        row = {key_column: key, **identity, "is_test": False, "is_complete": False, "is_favorite": False, "tags": "[]",
               "created_at": stamp, "updated_at": stamp, "version": 1, **values}
        connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(row)}) VALUES {_in(tuple(row))}",
                                   tuple(row.values()))
    else:
        row = {**values, "updated_at": stamp, "version": version + 1}
        connection.exec_driver_sql(
            f"UPDATE {table} SET {', '.join(f'{name} = ?' for name in row)} WHERE {key_column} = ?",
            (*row.values(), key))


#: The sessions of a folder name (not the tombstones: they gave the name up with their path).
_OF_NAME = f"SELECT id, session_path FROM session_stats WHERE session_id = ? AND is_unavailable IS NOT {TOMBSTONE}"
_METADATA_OF = ("SELECT s.session_id AS folder, s.session_path AS folder_path, m.* FROM session_stats AS s "
                "LEFT JOIN session_metadata AS m ON m.session_key = s.id WHERE s.id = ?")


def _metadata_row(connection: sqlite3.Connection, session_key: int) -> dict[str, Any]:
    """A session's folder name and path (``folder``, ``folder_path``) with its metadata columns (None
    while it has none); :class:`UnknownSession` when no session has this key."""
    row = next(_mappings(connection.execute(_METADATA_OF, (session_key,))), None)
    if row is None:
        raise UnknownSession(f"no session has the key {session_key} in this database")
    return row


def _metadata_of(row: dict[str, Any], session_key: int) -> SessionMetadata:
    """The :class:`SessionMetadata` of a :func:`_metadata_row`."""
    return _metadata_from(row, session_key, row["folder"])


def _metadata_mapping(connection: Connection, session_key: int) -> dict[str, Any]:
    """:func:`_metadata_row` inside a write transaction (its sqlite3 connection)."""
    return _metadata_row(sqlite_of(connection), session_key)


def _placeholder_text(placeholders: str | None) -> str:
    data = json_value(placeholders, {})
    return " ".join(f"{name} {' '.join(info.get('values', []))}" for name, info in data.items())
