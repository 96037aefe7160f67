"""A :class:`SessionFilter` and :class:`SessionSort` as SQL over the store's tables.

Every condition is written so SQLite can use an index (equality and ranges on
indexed columns, tag look-ups in ``session_tags``, free text through the FTS5
trigram index), which keeps a filtered id list of 100 000 sessions fast.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal_column, not_, or_, select, table, true

from .filters import Range, SessionFilter, SessionSort
from .schema import SessionMetadataRow, SessionStatsRow, SessionTagRow

STATS = SessionStatsRow.__table__
META = SessionMetadataRow.__table__
TAGS = SessionTagRow.__table__

_SORT_COLUMNS: dict[str, Any] = {
    "date": STATS.c.session_created_at,
    "name": STATS.c.session_id,
    "model": STATS.c.sd_model,
    "images": STATS.c.images_actual,
    "expected": STATS.c.images_expected,
    "completion": STATS.c.completion_percentage,
    "status": STATS.c.status,
    "sampler": STATS.c.sampler_name,
    "steps": STATS.c.steps,
    "cfg": STATS.c.cfg_scale,
    "size": STATS.c.width,
    "duration": STATS.c.duration_seconds,
    "liked": META.c.is_favorite,
    "rating": META.c.user_rating,
    "tags": META.c.tags,
    "updated": META.c.updated_at,
}
_METADATA_SORTS = frozenset({"liked", "rating", "tags", "updated"})
_SHORT_TERM = 3  # the trigram index needs three characters; shorter terms are scanned with LIKE
SEARCH = table("session_search", column("rowid"), column("doc"))


def needs_metadata(sort: SessionSort) -> bool:
    """Whether the query must join ``session_metadata``: only to sort by one of its columns.

    Metadata filters are ``session_id IN (…)`` sub-queries on the small metadata
    table, so a filtered list is still answered from the list index alone.
    """
    return sort.column in _METADATA_SORTS


def sort_order(sort: SessionSort) -> list[Any]:
    """ORDER BY the column, then by id in the same direction (a stable order the index can serve)."""
    column = _SORT_COLUMNS[sort.column]
    if sort.descending:
        return [column.desc(), STATS.c.id.desc()]
    return [column.asc(), STATS.c.id.asc()]


def _flag(column: Any, wanted: bool | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    return [column.is_(True)] if wanted else [func.coalesce(column, False).is_(False)]


def _meta_ids(condition: ColumnElement[bool]) -> Any:
    return select(META.c.session_id).where(condition)


def _meta_flag(column: Any, wanted: bool | None) -> list[ColumnElement[bool]]:
    """A user flag; a session without a metadata row has every flag unset."""
    if wanted is None:
        return []
    ids = _meta_ids(column.is_(True))
    return [STATS.c.session_id.in_(ids) if wanted else STATS.c.session_id.not_in(ids)]


def _range(column: Any, bounds: Range | None) -> list[ColumnElement[bool]]:
    if bounds is None:
        return []
    conditions = []
    if bounds.low is not None:
        conditions.append(column >= bounds.low)
    if bounds.high is not None:
        conditions.append(column <= bounds.high)
    return conditions


def _substrings(column: Any, terms: tuple[str, ...], *, exclude: bool) -> list[ColumnElement[bool]]:
    if not terms:
        return []
    matches = or_(*(column.ilike(f"%{_escape_like(term)}%", escape="\\") for term in terms))
    return [or_(column.is_(None), not_(matches))] if exclude else [matches]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ratings(values: frozenset[str], *, exclude: bool) -> list[ColumnElement[bool]]:
    """Ratings with "none" for unrated (no metadata row, or a NULL rating)."""
    if not values:
        return []
    rated = sorted(value for value in values if value != "none")
    if "none" in values:  # matching = not rated at all, or rated one of `rated`
        others = _meta_ids(META.c.user_rating.is_not(None) & META.c.user_rating.not_in(rated))
        matching = STATS.c.session_id.not_in(others)
    else:
        matching = STATS.c.session_id.in_(_meta_ids(META.c.user_rating.in_(rated)))
    return [not_(matching)] if exclude else [matching]


def _tag_ids(tags: tuple[str, ...]) -> Any:
    return select(TAGS.c.session_id).where(TAGS.c.tag.in_([tag.casefold() for tag in tags]))


def _tags(f: SessionFilter) -> list[ColumnElement[bool]]:
    conditions = [STATS.c.session_id.in_(_tag_ids((tag,))) for tag in f.tags_all]
    if f.tags_any:
        conditions.append(STATS.c.session_id.in_(_tag_ids(f.tags_any)))
    if f.tags_none:
        conditions.append(STATS.c.session_id.not_in(_tag_ids(f.tags_none)))
    return conditions


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _text_ids(terms: tuple[str, ...]) -> Any:
    """Rowids of the search documents holding every term (ids of ``session_stats``)."""
    long_terms = [term for term in terms if len(term) >= _SHORT_TERM]
    short_terms = [term for term in terms if len(term) < _SHORT_TERM]
    query = select(SEARCH.c.rowid)
    if long_terms:
        query = query.where(literal_column("session_search").op("MATCH")(
            " AND ".join(_fts_phrase(term) for term in long_terms)))
    for term in short_terms:
        query = query.where(SEARCH.c.doc.like(f"%{_escape_like(term)}%", escape="\\"))
    return query


def _text(f: SessionFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    terms = tuple(term for term in f.text if term.strip())
    if terms:
        conditions.append(STATS.c.id.in_(_text_ids(terms)))
    for term in f.exclude_text:
        if term.strip():
            conditions.append(STATS.c.id.not_in(_text_ids((term,))))
    return conditions


def _dates(f: SessionFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if f.date_from is not None:
        conditions.append(STATS.c.session_created_at >= f.date_from.isoformat())
    if f.date_to is not None:
        conditions.append(STATS.c.session_created_at < (f.date_to + timedelta(days=1)).isoformat())
    return conditions


def filter_conditions(f: SessionFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions (ANDed) for a filter."""
    conditions: list[ColumnElement[bool]] = []
    if f.unavailable is not None:
        conditions.append(STATS.c.is_unavailable.is_(f.unavailable))
    conditions += _meta_flag(META.c.is_favorite, f.liked)
    conditions += _meta_flag(META.c.is_test, f.test)
    conditions += _meta_flag(META.c.is_complete, f.complete)
    conditions += _flag(STATS.c.is_seed_sweep, f.sweep)
    conditions += _flag(STATS.c.is_dry_run, f.dry_run)
    if f.stats_error is not None:
        conditions.append(STATS.c.stats_error.is_not(None) if f.stats_error else STATS.c.stats_error.is_(None))
    conditions += _ratings(f.ratings, exclude=False) + _ratings(f.exclude_ratings, exclude=True)
    if f.statuses:
        conditions.append(STATS.c.status.in_(sorted(f.statuses)))
    if f.exclude_statuses:
        conditions.append(STATS.c.status.not_in(sorted(f.exclude_statuses)))
    conditions += _substrings(STATS.c.sd_model, f.models, exclude=False)
    conditions += _substrings(STATS.c.sd_model, f.exclude_models, exclude=True)
    conditions += _substrings(STATS.c.sampler_name, f.samplers, exclude=False)
    conditions += _substrings(STATS.c.sampler_name, f.exclude_samplers, exclude=True)
    conditions += _dates(f)
    conditions += _range(STATS.c.completion_percentage, f.completion)
    conditions += _range(STATS.c.images_actual, f.images)
    conditions += _range(STATS.c.steps, f.steps)
    conditions += _range(STATS.c.cfg_scale, f.cfg)
    conditions += _range(STATS.c.width, f.width)
    conditions += _range(STATS.c.height, f.height)
    conditions += _tags(f) + _text(f)
    return conditions or [true()]

