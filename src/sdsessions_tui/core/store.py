"""The session store: the small API the TUI and the headless commands use.

Reads and writes go through SQLAlchemy Core on the tables of :mod:`.schema`.
Bulk stats writes are ``executemany`` upserts in short ``BEGIN IMMEDIATE``
transactions (the ORM's ``add_all`` was 60× slower).  User metadata is only
written by :meth:`Store.update_metadata` (and the web UI import through it).
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from .db import StoreError, default_db_path, describe, open_database, write_transaction
from .filters import SessionFilter, SessionSort
from .schema import JSON_STATS_COLUMNS, SessionMetadataRow, SessionStatsRow, SessionTagRow
from .sql_filters import filter_conditions, needs_metadata, sort_order
from .stats import SessionStats, read_session

STATS = SessionStatsRow.__table__
META = SessionMetadataRow.__table__
TAGS = SessionTagRow.__table__

#: Rows per ``WHERE id IN (…)`` page fetch; well under SQLite's variable limit.
PAGE_SIZE = 500
_STATS_COLUMNS = [column.name for column in STATS.columns if column.name != "id"]
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


def _text(value: str | None) -> str | None:
    """Text SQLite can store: undecodable file-name bytes (surrogate escapes) become U+FFFD."""
    if value is None:
        return None
    return value.encode("utf-8", "replace").decode("utf-8") if not value.isascii() else value


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
        elif isinstance(value, str):
            value = _text(value)
        row[name] = value
    row.update(root=_text(root), is_unavailable=False, unavailable_since=None)
    return row


def row_to_stats(row: Any) -> SessionStats:
    """Rebuild a :class:`SessionStats` from a stored row (the details panel shows it)."""
    data = dict(row._mapping)
    values: dict[str, Any] = {}
    for name in SessionStats.__dataclass_fields__:
        if name not in data:
            continue
        value = data[name]
        if name in JSON_STATS_COLUMNS:
            value = orjson.loads(value) if value else ([] if name != "placeholders" else {})
        elif name.endswith("_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[name] = value
    return SessionStats(**values)


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


class Store:
    """One open database.  Cheap to share within a process; safe across processes."""

    def __init__(self, path: Path | str | None = None, *, backup_dir: Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.engine: Engine = open_database(self.path, backup_dir=backup_dir)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> Connection:
        return self.engine.connect()

    # --- refresh side ---------------------------------------------------------------------------

    def known_sessions(self, roots: Sequence[str]) -> dict[str, KnownSession]:
        """Stored sessions under ``roots``, by path."""
        columns = [STATS.c[name] for name in KnownSession.__dataclass_fields__]
        with self._read() as connection:
            rows = connection.execute(select(*columns).where(STATS.c.root.in_(list(roots)))).all()
        return {row.session_path: KnownSession(*row) for row in rows}

    def find_relink_candidates(self, fingerprints: Iterable[str]) -> dict[str, KnownSession]:
        """Unavailable sessions with these fingerprints: a renamed or moved folder is one of them."""
        wanted = list(set(fingerprints))
        columns = [STATS.c[name] for name in KnownSession.__dataclass_fields__]
        found: dict[str, KnownSession] = {}
        with self._read() as connection:
            for start in range(0, len(wanted), PAGE_SIZE):
                rows = connection.execute(select(*columns).where(
                    STATS.c.fingerprint.in_(wanted[start:start + PAGE_SIZE]),
                    STATS.c.is_unavailable.is_(True))).all()
                for row in rows:
                    found.setdefault(row.fingerprint, KnownSession(*row))
        return found

    def upsert_stats(self, rows: Sequence[dict[str, Any]], relinks: dict[str, KnownSession] | None = None) -> None:
        """Write stats rows (``stats_to_row``) in one short transaction; metadata is untouched.

        ``relinks`` maps a new session path to the unavailable row it replaces
        (same fingerprint): that row takes the new path, keeping its id, and the
        user's metadata row is re-keyed to the new folder name.
        """
        if not rows:
            return
        relinks = relinks or {}
        try:
            with write_transaction(self.engine) as connection:
                for path, old in relinks.items():
                    new_row = next(r for r in rows if r["session_path"] == path)
                    connection.execute(update(STATS).where(STATS.c.id == old.id).values(session_path=path))
                    self._rekey_metadata(connection, old.session_id, new_row["session_id"], path)
                # executemany on plain tuples: the bulk path of a 10 000-session refresh
                connection.exec_driver_sql(_UPSERT_SQL, list(map(_ROW_VALUES, rows)))
                self._index_search(connection, rows)
        except DBAPIError as error:
            raise StoreError(describe(error, self.path)) from None

    def mark_unavailable(self, session_paths: Sequence[str]) -> int:
        """Mark sessions whose folder is gone; their stats and metadata stay."""
        if not session_paths:
            return 0
        stamp = _now()
        changed = 0
        with write_transaction(self.engine) as connection:
            for start in range(0, len(session_paths), PAGE_SIZE):
                result = connection.execute(
                    update(STATS).where(STATS.c.session_path.in_(session_paths[start:start + PAGE_SIZE]),
                                        STATS.c.is_unavailable.is_(False))
                    .values(is_unavailable=True, unavailable_since=stamp))
                changed += result.rowcount
        return changed

    def _rekey_metadata(self, connection: Connection, old_id: str, new_id: str, path: str) -> None:
        if old_id == new_id:
            return
        taken = connection.execute(select(META.c.session_id).where(META.c.session_id == new_id)).first()
        if taken is None:  # tags follow through ON UPDATE CASCADE
            connection.execute(update(META).where(META.c.session_id == old_id)
                               .values(session_id=new_id, session_path=path))

    def _index_search(self, connection: Connection, rows: Sequence[Any]) -> None:
        """Rewrite the full-text documents of these stats rows (dicts or rows with the text columns).

        Built from the rows in hand; only the ids and any user tags and notes are read.
        """
        by_path = {row["session_path"]: row for row in rows}
        if not by_path:
            return
        ids: dict[str, int] = {}
        metadata: dict[str, tuple[str | None, str | None]] = {}
        paths, names = list(by_path), list({row["session_id"] for row in rows})
        for start in range(0, max(len(paths), len(names)), PAGE_SIZE):
            ids.update((path, key) for path, key in connection.execute(select(STATS.c.session_path, STATS.c.id)
                                                                       .where(STATS.c.session_path.in_(
                                                                           paths[start:start + PAGE_SIZE]))))
            metadata.update((sid, (tags, note)) for sid, tags, note in connection.execute(
                select(META.c.session_id, META.c.tags, META.c.user_note).where(
                    META.c.session_id.in_(names[start:start + PAGE_SIZE]))))
        documents = []
        for path, row in by_path.items():
            tags, note = metadata.get(row["session_id"], (None, None))
            parts = (row["session_id"], row["display_name"], row["resolved_prompt"], row["negative_prompt"],
                     _placeholder_text(row["placeholders"]), " ".join(orjson.loads(tags or "[]")), note)
            documents.append((ids[path], "\n".join(part for part in parts if part)))
        connection.exec_driver_sql("DELETE FROM session_search WHERE rowid = ?", [(key,) for key, _ in documents])
        connection.exec_driver_sql("INSERT INTO session_search(rowid, doc) VALUES (?, ?)", documents)

    # --- queries ------------------------------------------------------------------------------

    def list_ids(self, session_filter: SessionFilter | None = None, sort: SessionSort | None = None) -> list[int]:
        """Ids of the sessions matching the filter, in sort order (the list's whole view state)."""
        session_filter = session_filter or SessionFilter()
        sort = sort or SessionSort()
        source = STATS.outerjoin(META, META.c.session_id == STATS.c.session_id) if needs_metadata(sort) else STATS
        query = (select(STATS.c.id).select_from(source)
                 .where(*filter_conditions(session_filter)).order_by(*sort_order(sort)))
        # 100 000 ids as Python rows cost more than the query itself; SQLite hands
        # them over as one JSON array instead, in the sub-query's order.
        ordered = query.subquery()
        packed = select(func.json_group_array(ordered.c.id)).select_from(ordered)
        with self._read() as connection:
            return orjson.loads(connection.execute(packed).scalar_one())

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, SessionRow]:
        """The list rows for these ids (one page), by id."""
        if not ids:
            return {}
        columns = [STATS.c[name] for name in SessionRow.__dataclass_fields__ if name != "metadata"]
        query = select(*columns, *(column.label(f"m_{column.name}") for column in META.c)).select_from(
            STATS.outerjoin(META, META.c.session_id == STATS.c.session_id))
        rows: dict[int, SessionRow] = {}
        with self._read() as connection:
            for start in range(0, len(ids), PAGE_SIZE):
                page = query.where(STATS.c.id.in_(list(ids[start:start + PAGE_SIZE])))
                for row in connection.execute(page).mappings():
                    values = [row[column.name] for column in columns]
                    rows[row["id"]] = SessionRow(*values, metadata=_metadata_from(row, row["session_id"], "m_"))
        return rows

    def get_session(self, session_key: int) -> tuple[SessionStats, SessionMetadata] | None:
        """One session's full stats and its metadata, by stats id."""
        with self._read() as connection:
            row = connection.execute(select(STATS).where(STATS.c.id == session_key)).first()
            if row is None:
                return None
            meta = connection.execute(select(META).where(META.c.session_id == row.session_id)).mappings().first()
        return row_to_stats(row), _metadata_from(meta, row.session_id)

    def get_metadata(self, session_id: str) -> SessionMetadata:
        with self._read() as connection:
            meta = connection.execute(select(META).where(META.c.session_id == session_id)).mappings().first()
        return _metadata_from(meta, session_id)

    def recompute(self, session_key: int) -> SessionStats | None:
        """Re-read one session from disk now and store it (the seed's refresh endpoint)."""
        with self._read() as connection:
            row = connection.execute(select(STATS.c.session_path, STATS.c.root).where(
                STATS.c.id == session_key)).first()
        if row is None:
            return None
        if not os.path.isdir(row.session_path):
            self.mark_unavailable([row.session_path])
            return self.get_session(session_key)[0]  # type: ignore[index]
        stats = read_session(row.session_path)
        self.upsert_stats([stats_to_row(stats, row.root)])
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
        if "user_rating" in changes and changes["user_rating"] not in RATINGS:
            raise ValueError(f"rating must be like, dislike or None, not {changes['user_rating']!r}")
        values = {key: bool(value) if key.startswith("is_") else value for key, value in changes.items()}
        if "tags" in values:
            tags = normalize_tags(values["tags"] or ())
            values["tags"] = _json(list(tags))
        if values.get("user_note") is not None and not values["user_note"].strip():
            values["user_note"] = None
        stamp = _now()
        try:
            with write_transaction(self.engine) as connection:
                current = connection.execute(select(META).where(META.c.session_id == session_id)).mappings().first()
                if expected_version is not None and (current["version"] if current else 0) != expected_version:
                    raise MetadataConflict(_metadata_from(current, session_id))
                if current is None:
                    path = connection.execute(select(STATS.c.session_path).where(
                        STATS.c.session_id == session_id).limit(1)).scalar()
                    connection.execute(insert(META).values(
                        session_id=session_id, session_path=path or "", created_at=stamp, updated_at=stamp,
                        version=1, **{**{"is_test": False, "is_complete": False, "is_favorite": False,
                                         "tags": "[]"}, **values}))
                else:
                    connection.execute(update(META).where(META.c.session_id == session_id).values(
                        updated_at=stamp, version=current["version"] + 1, **values))
                if "tags" in values:
                    connection.execute(delete(TAGS).where(TAGS.c.session_id == session_id))
                    tag_rows = [{"session_id": session_id, "tag": tag.casefold()}
                                for tag in orjson.loads(values["tags"])]
                    if tag_rows:
                        connection.execute(insert(TAGS), tag_rows)
                if "tags" in values or "user_note" in values:
                    self._index_search(connection, connection.execute(select(
                        STATS.c.session_path, STATS.c.session_id, STATS.c.display_name, STATS.c.resolved_prompt,
                        STATS.c.negative_prompt, STATS.c.placeholders).where(
                        STATS.c.session_id == session_id)).mappings().all())
                new = connection.execute(select(META).where(META.c.session_id == session_id)).mappings().first()
        except DBAPIError as error:
            raise StoreError(describe(error, self.path)) from None
        return _metadata_from(new, session_id)

    def set_auto_metadata(self, session_id: str, data: dict[str, Any]) -> None:
        """Merge machine-written hints (e.g. the web UI's weak ``is_complete``) into ``auto_metadata``."""
        with write_transaction(self.engine) as connection:
            current = connection.execute(select(META.c.auto_metadata).where(
                META.c.session_id == session_id)).scalar()
            merged = {**orjson.loads(current or "{}"), **data}
            connection.execute(update(META).where(META.c.session_id == session_id).values(
                auto_metadata=_json(merged)))

    def recently_liked(self, limit: int = 20) -> list[int]:
        """Stats ids of liked sessions, most recently changed first."""
        query = (select(STATS.c.id).select_from(STATS.join(META, META.c.session_id == STATS.c.session_id))
                 .where(META.c.is_favorite.is_(True), STATS.c.is_unavailable.is_(False))
                 .order_by(META.c.updated_at.desc(), STATS.c.id.desc()).limit(limit))
        with self._read() as connection:
            return list(connection.execute(query).scalars())

    def distinct_values(self, kind: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Values with their session counts, most common first: ``model``, ``sampler`` or ``tag``."""
        if kind == "tag":
            column, source = TAGS.c.tag, TAGS
        elif kind in ("model", "sampler"):
            column = STATS.c.sd_model if kind == "model" else STATS.c.sampler_name
            source = STATS
        else:
            raise ValueError(f"no distinct values for {kind!r}: use model, sampler or tag")
        count = func.count().label("n")
        query = (select(column, count).select_from(source).where(column.is_not(None))
                 .group_by(column).order_by(count.desc(), column))
        if limit:
            query = query.limit(limit)
        with self._read() as connection:
            return [(value, number) for value, number in connection.execute(query)]

    def known_roots(self) -> list[str]:
        """The roots sessions were found under (remembered between runs)."""
        with self._read() as connection:
            return list(connection.execute(select(STATS.c.root).distinct().order_by(STATS.c.root)).scalars())


def _placeholder_text(placeholders: str | None) -> str:
    data = orjson.loads(placeholders or "{}")
    return " ".join(f"{name} {' '.join(info.get('values', []))}" for name, info in data.items())
