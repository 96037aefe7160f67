"""The session store: the small API the TUI and the headless commands use.

Reads are plain SQL on a small pool of standard-library sqlite3 connections
(read-only), so opening the app never imports SQLAlchemy; writes go through
the SQLAlchemy engine of :mod:`.engine`, created on the first write, as short
``BEGIN IMMEDIATE`` transactions.  Bulk stats writes are ``executemany``
upserts (the ORM's ``add_all`` was 60× slower).  User metadata is only written
by :meth:`Store.update_metadata` (and the web UI import through it).
"""

from __future__ import annotations

import json
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
from typing import TYPE_CHECKING, Any

import orjson

from . import db
from .columns import BOOLEAN_COLUMNS, JSON_STATS_COLUMNS, METADATA_COLUMNS
from .db import StoreError, check_database, connect_reader, default_db_path, describe
from .edits import FLAGS, Conflict, Edit, SaveResult
from .filters import SessionFilter, SessionSort
from .fsnames import NAME_COLUMNS, from_db, to_db
from .sql_filters import LIKE_SAMPLE, Driver, Where, driven_query, filter_where, order_by, source
from .session_stats import SessionStats
from .text import escape_undecodable

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

#: Rows per ``WHERE id IN (…)`` page fetch; well under SQLite's variable limit.
PAGE_SIZE = 500
#: A filter's look-up drives the list query when it keeps under 1/DRIVE_SHARE of the sessions:
#: a row look-up per match (~2 µs) then beats walking the list index (~0.25 µs per session).
DRIVE_SHARE = 8
#: ``session_stats`` columns but ``id``: every stats field, then what the store adds.
_STATS_COLUMNS = [*SessionStats.__dataclass_fields__, "root", "is_unavailable", "unavailable_since"]
_ROW_VALUES = operator.itemgetter(*_STATS_COLUMNS)
_UPSERT_SQL = (
    f"INSERT INTO session_stats ({', '.join(_STATS_COLUMNS)}) VALUES ({', '.join('?' * len(_STATS_COLUMNS))}) "
    "ON CONFLICT(session_path) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _STATS_COLUMNS if name != "session_path")
)
_METADATA_FIELDS = frozenset({"is_test", "is_complete", "is_favorite", "user_rating", "user_note", "tags"})
RATINGS = (None, "like", "dislike")


class MetadataConflict(StoreError):
    """The metadata changed since it was read (another window or process); nothing was written."""

    def __init__(self, current: SessionMetadata) -> None:
        super().__init__(f"the metadata of {current.session_id} was changed elsewhere (now version "
                         f"{current.version}); reload and try again")
        self.current = current


@dataclass(frozen=True, slots=True)
class SessionMetadata:
    """The user's data about one session (web UI column names; ``is_favorite`` is shown as "liked")."""

    session_id: str
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
class SessionRow:
    """What a list row shows: a session's main stats and its user metadata."""

    id: int
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

    id: int
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


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # surrogate-escaped file names: the stdlib escapes them as \\udcXX
        return json.dumps(value, default=str)


def load_json(value: str) -> Any:
    """A stored JSON value; file names that are not UTF-8 come back as ``os`` gives them.

    :func:`_json` writes those with the standard library, as ``\\udcff`` escapes, which
    orjson refuses to read.
    """
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def _text(value: str | None) -> str | None:
    """Text SQLite can store: bytes that were not UTF-8 (surrogate escapes) written ``\\xNN``.

    For shown text only (names, prompts, messages); file names are stored exactly (:mod:`.fsnames`).
    """
    return None if value is None else escape_undecodable(value)


def stats_to_row(stats: SessionStats, root: str) -> dict[str, Any]:
    """A ``session_stats`` row (column → value) for ``stats`` found under ``root``."""
    row: dict[str, Any] = {}
    for name in _STATS_COLUMNS:
        if name in ("root", "is_unavailable", "unavailable_since"):
            continue
        value = getattr(stats, name)
        if name in JSON_STATS_COLUMNS:
            value = _json(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, str) and name not in NAME_COLUMNS:  # names as os gave them: stored exactly
            value = _text(value)
        row[name] = value
    row.update(root=root, is_unavailable=False, unavailable_since=None)
    return row


_NAME_INDEXES = [_STATS_COLUMNS.index(name) for name in NAME_COLUMNS]


def _bindable(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values (:data:`_STATS_COLUMNS` order) with its names as SQLite holds them."""
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
        if name in JSON_STATS_COLUMNS:
            value = load_json(value) if value else ([] if name != "placeholders" else {})
        elif name in NAME_COLUMNS and value is not None:
            value = from_db(value)
        elif name.endswith("_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[name] = value
    return SessionStats(**values)


def _known_session(row: Sequence[Any]) -> KnownSession:
    """A :class:`KnownSession` from its columns (:data:`_KNOWN_COLUMNS`), names as ``os`` gives them."""
    key, session_id, session_path, manifest_file, *rest = row
    return KnownSession(key, from_db(session_id), from_db(session_path),
                        None if manifest_file is None else from_db(manifest_file), *rest)


def _metadata_from(values: Any, session_id: str, prefix: str = "") -> SessionMetadata:
    """Metadata from a row mapping (``prefix`` for joined, labelled columns); defaults when absent."""
    if values is None or values.get(f"{prefix}version") is None:
        return SessionMetadata(session_id)
    get = lambda name: values[f"{prefix}{name}"]  # noqa: E731
    return SessionMetadata(
        session_id=session_id, is_test=bool(get("is_test")), is_complete=bool(get("is_complete")),
        is_favorite=bool(get("is_favorite")), user_rating=get("user_rating"), user_note=get("user_note"),
        tags=tuple(orjson.loads(get("tags") or "[]")), auto_metadata=orjson.loads(get("auto_metadata") or "{}"),
        created_at=get("created_at"), updated_at=get("updated_at"), version=get("version"))


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags stripped, without empties, deduplicated case-insensitively (first spelling kept)."""
    seen: dict[str, str] = {}
    for tag in tags:
        clean = " ".join(str(tag).split())
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return tuple(seen.values())


_KNOWN_COLUMNS = ", ".join(KnownSession.__dataclass_fields__)
_ROW_FIELDS = [name for name in SessionRow.__dataclass_fields__ if name != "metadata"]
_ROW_COLUMNS = ", ".join(f"s.{name}" for name in _ROW_FIELDS)
_JOINED_METADATA = ", ".join(f"m.{name} AS m_{name}" for name in METADATA_COLUMNS)
_METADATA_JOIN = "session_stats AS s LEFT JOIN session_metadata AS m ON m.session_id = s.session_id"


def _mappings(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    """Rows as dicts by column name (joined metadata as ``m_…``), flags as ``bool``."""
    names = [description[0] for description in cursor.description]
    flags = [name for name in names if name.removeprefix("m_") in BOOLEAN_COLUMNS]
    for values in cursor:
        row = dict(zip(names, values))
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
            try:
                if self._watcher is None:
                    self._watcher = self._open_reader()
                return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as error:
                raise StoreError(describe(error, self.path)) from None

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

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of the pool, for one thread at a time; SQLite errors become StoreError."""
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._open_reader()
        try:
            yield connection
        except sqlite3.Error as error:
            raise StoreError(describe(error, self.path)) from None
        finally:
            self._release(connection)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A short ``BEGIN IMMEDIATE`` transaction; SQLite errors become StoreError."""
        from sqlalchemy.exc import DBAPIError

        from .engine import write_transaction

        try:
            with write_transaction(self.engine) as connection:
                yield connection
        except DBAPIError as error:
            raise StoreError(describe(error, self.path)) from None

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
                               available_too: bool = False) -> dict[str, KnownSession]:
        """Unavailable sessions with these fingerprints: a renamed or moved folder is one of them.

        ``available_too``: also sessions not marked unavailable yet (the watcher may see a
        rename's new folder before the old one's removal).
        """
        wanted = list(set(fingerprints))
        found: dict[str, KnownSession] = {}
        availability = "" if available_too else " AND is_unavailable IS 1"
        with self._read() as connection:
            for start in range(0, len(wanted), PAGE_SIZE):
                page = wanted[start:start + PAGE_SIZE]
                for row in connection.execute(f"SELECT {_KNOWN_COLUMNS} FROM session_stats WHERE fingerprint IN "
                                              f"{_in(page)}{availability}", page):
                    known = _known_session(row)
                    found.setdefault(known.fingerprint or "", known)
        return found

    def upsert_stats(self, rows: Sequence[dict[str, Any]], relinks: dict[str, KnownSession] | None = None,
                     gone: Sequence[str] = ()) -> int:
        """Write stats rows (``stats_to_row``) in one short transaction; metadata is untouched.

        ``relinks`` maps a new session path to the unavailable row it replaces
        (same fingerprint): that row takes the new path, keeping its id, and the
        user's metadata row is re-keyed to the new folder name.  ``gone``: session
        paths whose folder vanished, marked unavailable first in the same
        transaction (a rename in the same batch then relinks one of them).
        Returns how many sessions became unavailable.
        """
        if not rows and not gone:
            return 0
        relinks = relinks or {}
        with self._write() as connection:
            unavailable = self._mark_unavailable(connection, gone)
            for path, old in relinks.items():
                new_row = next(r for r in rows if r["session_path"] == path)
                connection.exec_driver_sql("UPDATE session_stats SET session_path = ? WHERE id = ?",
                                           (to_db(path), old.id))
                self._rekey_metadata(connection, to_db(old.session_id), to_db(new_row["session_id"]), to_db(path))
            if rows:  # executemany on plain tuples: the bulk path of a 10 000-session refresh
                connection.exec_driver_sql(_UPSERT_SQL, [_bindable(values) for values in map(_ROW_VALUES, rows)])
                self._index_search(connection, rows)
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
    def _rekey_metadata(connection: Connection, old_id: str | bytes, new_id: str | bytes, path: str | bytes) -> None:
        if old_id == new_id:
            return
        taken = connection.exec_driver_sql("SELECT 1 FROM session_metadata WHERE session_id = ?", (new_id,)).first()
        if taken is None:  # tags follow through ON UPDATE CASCADE
            connection.exec_driver_sql("UPDATE session_metadata SET session_id = ?, session_path = ? "
                                       "WHERE session_id = ?", (new_id, path, old_id))

    @staticmethod
    def _index_search(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Rewrite the full-text documents of these stats rows (dicts with the text columns).

        Built from the rows in hand; only the ids and any user tags and notes are read.  Their
        names may be as stored or as ``os`` gives them; the document holds them as shown.
        """
        by_path = {to_db(from_db(row["session_path"])): row for row in rows}
        if not by_path:
            return
        ids: dict[str | bytes, int] = {}
        metadata: dict[str | bytes, tuple[str | None, str | None]] = {}
        paths, names = list(by_path), list({to_db(from_db(row["session_id"])) for row in rows})
        for start in range(0, max(len(paths), len(names)), PAGE_SIZE):
            page_paths, page_names = paths[start:start + PAGE_SIZE], names[start:start + PAGE_SIZE]
            if page_paths:
                ids.update(connection.exec_driver_sql(
                    f"SELECT session_path, id FROM session_stats WHERE session_path IN {_in(page_paths)}",
                    tuple(page_paths)).all())
            if page_names:
                metadata.update((sid, (tags, note)) for sid, tags, note in connection.exec_driver_sql(
                    f"SELECT session_id, tags, user_note FROM session_metadata WHERE session_id IN {_in(page_names)}",
                    tuple(page_names)))
        documents = []
        for path, row in by_path.items():
            session_id = from_db(row["session_id"])
            tags, note = metadata.get(to_db(session_id), (None, None))
            parts = (_text(session_id), row["display_name"], row["resolved_prompt"], row["negative_prompt"],
                     _placeholder_text(row["placeholders"]), " ".join(orjson.loads(tags or "[]")), note)
            documents.append((ids[path], "\n".join(part for part in parts if part)))
        old: dict[int, str] = {}
        for start in range(0, len(documents), PAGE_SIZE):
            page = tuple(key for key, _ in documents[start:start + PAGE_SIZE])
            old.update(connection.exec_driver_sql(f"SELECT id, doc FROM search_docs WHERE id IN {_in(page)}",
                                                  page).all())
        changed = [(key, doc) for key, doc in documents if old.get(key) != doc]  # a re-read rarely changes text
        if not changed:
            return
        stale = [(key, old[key]) for key, _ in changed if key in old]
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
                return [key for (key,) in connection.execute(f"{query} LIMIT ?", [*params, limit])]
            # 100 000 ids as Python rows cost more than the query itself; SQLite hands
            # them over as one JSON array instead, in the sub-query's order.
            return orjson.loads(connection.execute(f"SELECT json_group_array(id) FROM ({query})",
                                                   params).fetchone()[0])

    def matches(self, session_key: int, session_filter: SessionFilter) -> bool:
        """Whether this session (stats id) passes the filter: one row checked, not the list built."""
        where = filter_where(session_filter, one_row=True)
        sql = f"SELECT EXISTS(SELECT 1 FROM {source(SessionSort())} WHERE {where.sql} AND s.id = ?)"
        with self._read() as connection:
            return bool(connection.execute(sql, [*where.params, session_key]).fetchone()[0])

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, SessionRow]:
        """The list rows for these ids (one page), by id."""
        rows: dict[int, SessionRow] = {}
        with self._read() as connection:
            for start in range(0, len(ids), PAGE_SIZE):
                page = list(ids[start:start + PAGE_SIZE])
                cursor = connection.execute(f"SELECT {_ROW_COLUMNS}, {_JOINED_METADATA} FROM {_METADATA_JOIN} "
                                            f"WHERE s.id IN {_in(page)}", page)
                for row in _mappings(cursor):
                    row["session_id"], row["session_path"] = from_db(row["session_id"]), from_db(row["session_path"])
                    values = [row[name] for name in _ROW_FIELDS]
                    rows[row["id"]] = SessionRow(*values, metadata=_metadata_from(row, row["session_id"], "m_"))
        return rows

    def get_session(self, session_key: int) -> tuple[SessionStats, SessionMetadata] | None:
        """One session's full stats and its metadata, by stats id."""
        with self._read() as connection:
            row = next(_mappings(connection.execute("SELECT * FROM session_stats WHERE id = ?", (session_key,))),
                       None)
            if row is None:
                return None
            stats = row_to_stats(row)
            meta = _metadata_row(connection, stats.session_id)
        return stats, _metadata_from(meta, stats.session_id)

    def get_metadata(self, session_id: str) -> SessionMetadata:
        with self._read() as connection:
            return _metadata_from(_metadata_row(connection, session_id), session_id)

    def recompute(self, session_key: int) -> SessionStats | None:
        """Re-read one session from disk now and store it (the seed's refresh endpoint)."""
        with self._read() as connection:
            row = connection.execute("SELECT session_path, root FROM session_stats WHERE id = ?",
                                     (session_key,)).fetchone()
        if row is None:
            return None
        session_path, root = from_db(row[0]), from_db(row[1])
        if not os.path.isdir(session_path):
            self.mark_unavailable([session_path])
            return self.get_session(session_key)[0]  # type: ignore[index]
        from .stats import read_session, vanished_mid_read  # the readers stay out of the app's launch

        stats = read_session(session_path)
        if vanished_mid_read(stats.stats_error, session_path):  # renamed meanwhile: its row must keep
            self.mark_unavailable([session_path])                # its fingerprint, for the relink
            return self.get_session(session_key)[0]  # type: ignore[index]
        self.upsert_stats([stats_to_row(stats, root)])
        return stats

    def update_metadata(self, session_id: str, changes: dict[str, Any], *,
                        expected_version: int | None = None) -> SessionMetadata:
        """Change only the given fields (``None`` clears a rating or note); returns the new metadata.

        With ``expected_version``, the write is refused with :class:`MetadataConflict`
        when someone else changed the row since it was read.
        """
        unknown = set(changes) - _METADATA_FIELDS
        if unknown:
            raise ValueError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        values = _stored_values(changes)
        with self._write() as connection:
            current = _metadata_mapping(connection, session_id)
            if expected_version is not None and (current["version"] if current else 0) != expected_version:
                raise MetadataConflict(_metadata_from(current, session_id))
            return self._write_metadata(connection, session_id, values, current, _now())

    def _write_metadata(self, connection: Connection, session_id: str, values: dict[str, Any],
                        current: dict[str, Any] | None, stamp: str) -> SessionMetadata:
        """Write ``values`` (stored forms) over ``current`` (the row, or None), bumping the version."""
        key = to_db(session_id)
        if current is None:
            path = connection.exec_driver_sql("SELECT session_path FROM session_stats WHERE session_id = ? "
                                              "LIMIT 1", (key,)).scalar()
            row = {"session_id": session_id, "session_path": path or "", "is_test": False,
                   "is_complete": False, "is_favorite": False, "tags": "[]", "created_at": stamp,
                   "updated_at": stamp, "version": 1, **values}
            row["session_id"] = key
            connection.exec_driver_sql(f"INSERT INTO session_metadata ({', '.join(row)}) VALUES {_in(row)}",
                                       tuple(row.values()))
        else:
            row = {**values, "updated_at": stamp, "version": current["version"] + 1}
            connection.exec_driver_sql(
                f"UPDATE session_metadata SET {', '.join(f'{name} = ?' for name in row)} WHERE session_id = ?",
                (*row.values(), key))
        if "tags" in values:
            connection.exec_driver_sql("DELETE FROM session_tags WHERE session_id = ?", (key,))
            tag_rows = [(key, tag.casefold()) for tag in orjson.loads(values["tags"])]
            if tag_rows:
                connection.exec_driver_sql("INSERT INTO session_tags (session_id, tag) VALUES (?, ?)", tag_rows)
        if "tags" in values or "user_note" in values:
            texts = connection.exec_driver_sql(
                "SELECT session_path, session_id, display_name, resolved_prompt, negative_prompt, placeholders "
                "FROM session_stats WHERE session_id = ?", (key,)).mappings().all()
            self._index_search(connection, [dict(text) for text in texts])
        return _metadata_from(_metadata_mapping(connection, session_id), session_id)

    def apply_edits(self, edits: Sequence[Edit]) -> SaveResult:
        """Save a burst of edits in one short transaction, each touching only its changed fields.

        An edit made against an older version still lands when the fields it
        changes were left alone since (another instance changed others); a field
        changed on both sides is not written but returned as a :class:`Conflict`.
        """
        result = SaveResult()
        stamp = _now()
        with self._write() as connection:
            for edit in edits:
                current = _metadata_mapping(connection, edit.session_id)
                stored = _metadata_from(current, edit.session_id)
                changes = dict(edit.changes)
                if stored.version != edit.base_version:
                    clashing = {name for name in changes
                                if getattr(stored, name) != edit.base.get(name) and getattr(stored, name) != changes[name]}
                    if clashing:
                        result.conflicts.append(Conflict(
                            edit.session_id, {name: changes.pop(name) for name in sorted(clashing)},
                            {name: getattr(stored, name) for name in sorted(clashing)}, stored.version))
                if changes:
                    stored = self._write_metadata(connection, edit.session_id, _stored_values(changes), current, stamp)
                result.saved[edit.session_id] = stored
        return result

    def set_metadata_many(self, session_keys: Sequence[int], changes: dict[str, Any]) -> int:
        """Set flags or the rating of many sessions (by stats id) at once: "apply to all filtered".

        Two statements over a JSON list of ids, in one transaction: rows are
        created where missing, then only the given fields change.
        """
        if not changes or set(changes) - {*FLAGS, "user_rating"}:
            raise ValueError(f"only flags and the rating can be set in bulk, not {sorted(changes)}")
        values = _stored_values(changes)
        ids = orjson.dumps(list(session_keys)).decode()
        stamp = _now()
        chosen = "SELECT DISTINCT session_id FROM session_stats WHERE id IN (SELECT value FROM json_each(?))"
        with self._write() as connection:
            connection.exec_driver_sql(
                "INSERT INTO session_metadata (session_id, session_path, is_test, is_complete, is_favorite, tags, "
                "created_at, updated_at, version) SELECT session_id, min(session_path), 0, 0, 0, '[]', ?, ?, 0 "
                "FROM session_stats WHERE id IN (SELECT value FROM json_each(?)) GROUP BY session_id "
                "ON CONFLICT(session_id) DO NOTHING", (stamp, stamp, ids))
            result = connection.exec_driver_sql(
                f"UPDATE session_metadata SET {', '.join(f'{name} = ?' for name in values)}, updated_at = ?, "
                f"version = version + 1 WHERE session_id IN ({chosen})", (*values.values(), stamp, ids))
            return result.rowcount

    def set_auto_metadata(self, session_id: str, data: dict[str, Any]) -> None:
        """Merge machine-written hints (e.g. the web UI's weak ``is_complete``) into ``auto_metadata``."""
        with self._write() as connection:
            current = connection.exec_driver_sql("SELECT auto_metadata FROM session_metadata WHERE session_id = ?",
                                                 (to_db(session_id),)).scalar()
            merged = {**orjson.loads(current or "{}"), **data}
            connection.exec_driver_sql("UPDATE session_metadata SET auto_metadata = ? WHERE session_id = ?",
                                       (_json(merged), to_db(session_id)))

    def recently_liked(self, limit: int = 20) -> list[int]:
        """Stats ids of liked sessions, most recently changed first."""
        with self._read() as connection:
            return [key for (key,) in connection.execute(
                "SELECT s.id FROM session_stats AS s JOIN session_metadata AS m ON m.session_id = s.session_id "
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

    def export_rows(self, ids: Sequence[int]) -> Iterator[dict[str, Any]]:
        """Every stats and metadata column of these sessions (stored values, names as ``os`` gives them),
        in the order given."""
        metadata = ", ".join(f"m.{name}" for name in METADATA_COLUMNS if name not in ("session_id", "session_path"))
        with self._read() as connection:
            for start in range(0, len(ids), PAGE_SIZE):
                page = list(ids[start:start + PAGE_SIZE])
                cursor = connection.execute(f"SELECT s.*, {metadata} FROM {_METADATA_JOIN} WHERE s.id IN {_in(page)}",
                                            page)
                rows = {row["id"]: row for row in _mappings(cursor)}
                for row in rows.values():
                    row.update((name, from_db(row[name])) for name in NAME_COLUMNS if row[name] is not None)
                yield from (rows[key] for key in page)

    def stats_columns(self) -> list[str]:
        """The ``session_stats`` column names, in table order."""
        with self._read() as connection:
            return [row[1] for row in connection.execute("PRAGMA table_info(session_stats)")]


def _stored_values(changes: dict[str, Any]) -> dict[str, Any]:
    """Metadata changes as stored: flags as bools, tags as a JSON list, a blank note as NULL.

    Raises ValueError for a rating other than like, dislike or None.
    """
    if "user_rating" in changes and changes["user_rating"] not in RATINGS:
        raise ValueError(f"rating must be like, dislike or None, not {changes['user_rating']!r}")
    values = {key: bool(value) if key.startswith("is_") else value for key, value in changes.items()}
    if "tags" in values:
        values["tags"] = _json(list(normalize_tags(values["tags"] or ())))
    if values.get("user_note") is not None and not values["user_note"].strip():
        values["user_note"] = None
    return values


def _metadata_row(connection: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    cursor = connection.execute("SELECT * FROM session_metadata WHERE session_id = ?", (to_db(session_id),))
    return next(_mappings(cursor), None)


def _metadata_mapping(connection: Connection, session_id: str) -> dict[str, Any] | None:
    """:func:`_metadata_row` inside a write transaction (its sqlite3 connection)."""
    return _metadata_row(connection.connection.dbapi_connection, session_id)  # type: ignore[arg-type]


def _placeholder_text(placeholders: str | None) -> str:
    data = orjson.loads(placeholders or "{}")
    return " ".join(f"{name} {' '.join(info.get('values', []))}" for name, info in data.items())
