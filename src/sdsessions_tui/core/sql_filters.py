"""A :class:`SessionFilter` and :class:`SessionSort` as SQL text over the store's tables.

Plain SQL with ``?`` parameters for the standard library's sqlite3: the list
queries are on the TUI's first-paint path, which must not pay for importing
SQLAlchemy (see the README's architecture notes).  Every condition is written
so SQLite can use an index (equality and ranges on indexed columns, tag
look-ups in ``session_tags``, free text through the FTS5 trigram index), which
keeps a filtered id list of 100 000 sessions fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from .columns import TOMBSTONE
from .filters import Range, SessionFilter, SessionSort
from .flags import FLAGS, LIKED

_SORT_COLUMNS: dict[str, str] = {
    "date": "s.session_created_at",
    "name": "s.session_id",
    "model": "s.sd_model",
    "images": "s.images_actual",
    "expected": "s.images_expected",
    "completion": "s.completion_percentage",
    "status": "s.status",
    "sampler": "s.sampler_name",
    "steps": "s.steps",
    "cfg": "s.cfg_scale",
    "size": "s.width",
    "duration": "s.duration_seconds",
    LIKED.label: f"m.{LIKED.field}",
    "rating": "m.user_rating",
    "tags": "m.tags",
    "updated": "m.updated_at",
}
_METADATA_SORTS = frozenset({LIKED.label, "rating", "tags", "updated"})
#: Schedule types an older sampler name ends with ("DPM++ 2M Karras", "DPM++ 2M SDE Exponential").
NAMED_SCHEDULES = ("Karras", "Exponential")
#: The schedule type: the ``scheduler`` field, else the word an older sampler name ends with;
#: "automatic" leaves the choice to that name too.
SCHEDULER_SQL = ("(CASE WHEN s.scheduler IS NOT NULL AND s.scheduler NOT LIKE 'automatic' THEN s.scheduler "
                 + "".join(f"WHEN s.sampler_name LIKE '% {name}' THEN '{name}' " for name in NAMED_SCHEDULES)
                 + "ELSE s.scheduler END)")
_SHORT_TERM = 3  # the trigram index needs three characters; shorter terms are scanned with LIKE
#: Search documents whose LIKE matches estimate a short term's share of all sessions.
LIKE_SAMPLE = 2_000


@dataclass(slots=True)
class Driver:
    """A condition that can drive a list query: the stats ids it keeps, and how to estimate
    their number before running it (see :func:`driven_query`)."""

    position: int
    """Index of the condition in :attr:`Where.parts` that this replaces when driving."""
    ids_sql: str
    params: tuple[object, ...]
    estimate_sql: str
    """Counts matches with one ``?`` parameter after ``params``: a cap (stop counting there),
    or for a scan, how many documents the sample holds (the count is then of the sample)."""
    sampled: bool = False


@dataclass(slots=True)
class Where:
    """ANDed SQL conditions (``s`` is ``session_stats``) and their parameters, in order."""

    parts: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    """Each condition with its parameters."""
    drivers: list[Driver] = field(default_factory=list)
    """Positive look-ups in the other tables, each able to drive the query (list mode only)."""
    one_row: bool = False
    """For checking one known session: look-ups in the other tables are correlated ``EXISTS``
    (an index seek each) instead of ``IN`` lists, which SQLite builds in full even for one row
    (a common search word: 38 000 ids, 7-19 ms)."""

    def add(self, condition: str, *params: object) -> None:
        self.parts.append((condition, params))

    def member(self, table: str, column: str, condition: str, *params: object, negate: bool = False) -> None:
        """The session (``s.id``) is [not] among ``table.column`` where ``condition`` holds.

        Every look-up table is keyed by the session's id (metadata and tags by ``session_key``,
        the search documents by ``id``), so a match is an integer, usable as the driver's ids as is.
        """
        not_ = "NOT " if negate else ""
        if self.one_row:
            self.add(f"{not_}EXISTS (SELECT 1 FROM {table} WHERE {column} = s.id AND {condition})", *params)
            return
        matching = f"SELECT {column} FROM {table} WHERE {condition}"
        if not negate:
            self.drivers.append(_driver(len(self.parts), table, matching, condition, params))
        self.add(f"s.id {not_}IN ({matching})", *params)

    @property
    def sql(self) -> str:
        return " AND ".join(condition for condition, _ in self.parts) or "1"

    @property
    def params(self) -> list[object]:
        return [param for _, params in self.parts for param in params]

    def without(self, position: int) -> Where:
        """The same conditions but the one at ``position``."""
        return Where(self.parts[:position] + self.parts[position + 1:], one_row=self.one_row)


def _driver(position: int, table: str, matching: str, condition: str, params: tuple[object, ...]) -> Driver:
    """The :class:`Driver` for ``s.id IN (matching)``, ``matching`` selecting from ``table`` where ``condition``."""
    if table == "session_tags":  # a row per tag: a session having two of the tags comes once
        matching = matching.replace("SELECT ", "SELECT DISTINCT ", 1)
    if table == "search_docs":  # a LIKE scan: counting its matches would cost the scan itself
        return Driver(position, matching, params, f"SELECT count(*) FROM (SELECT * FROM {table} LIMIT ?) "
                      f"WHERE {condition}", sampled=True)
    return Driver(position, matching, params,
                  f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {condition} LIMIT ?)")


def driven_query(where: Where, driver: Driver, sort: SessionSort) -> tuple[str, list[object]]:
    """The list query read from the driver's few ids (a row look-up each, then a sort of just
    those) instead of walking the whole list index and testing each session against an ``IN``
    list.  At 100 000 sessions: a tag of 3 600 sessions 44 → 4 ms, a rare word 26 → 4, liked
    (4 000) 57 → 24; a common word (38 000) is slower driven (61 → 89), hence the estimate."""
    rest = where.without(driver.position)
    query = (f"WITH d(id) AS ({driver.ids_sql}) SELECT s.id AS id FROM {source(sort, driven=True)} "
             f"WHERE {rest.sql} ORDER BY {order_by(sort)}")
    return query, [*driver.params, *rest.params]


def source(sort: SessionSort, *, driven: bool = False) -> str:
    """The FROM clause: ``session_stats AS s``, joined to its metadata only to sort by a metadata column.

    Metadata filters are ``s.id IN (…)`` sub-queries on the small metadata
    table, so a filtered list is still answered from the list index alone.
    ``driven``: the sessions come from the ids of ``d`` (see :func:`driven_query`).
    """
    stats = "d CROSS JOIN session_stats AS s ON s.id = d.id" if driven else "session_stats AS s"
    if sort.column in _METADATA_SORTS:
        return f"{stats} LEFT JOIN session_metadata AS m ON m.session_key = s.id"
    return stats


def order_by(sort: SessionSort) -> str:
    """ORDER BY the column, then by id in the same direction (a stable order the index can serve)."""
    direction = "DESC" if sort.descending else "ASC"
    return f"{_SORT_COLUMNS[sort.column]} {direction}, s.id {direction}"


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _flag(where: Where, column: str, wanted: bool | None) -> None:
    if wanted is not None:
        where.add(f"{column} IS 1" if wanted else f"coalesce({column}, 0) IS 0")


def _meta_flag(where: Where, column: str, wanted: bool | None) -> None:
    """A user flag; a session without a metadata row has every flag unset."""
    if wanted is not None:
        where.member("session_metadata", "session_key", f"{column} IS 1", negate=not wanted)


def _range(where: Where, column: str, bounds: Range | None) -> None:
    if bounds is None:
        return
    if bounds.low is not None:
        where.add(f"{column} >= ?", bounds.low)
    if bounds.high is not None:
        where.add(f"{column} <= ?", bounds.high)


def _escape_like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _substrings(where: Where, column: str, terms: tuple[str, ...], *, exclude: bool) -> None:
    if not terms:
        return
    matches = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in terms)
    condition = f"({column} IS NULL OR NOT ({matches}))" if exclude else f"({matches})"
    where.add(condition, *map(_escape_like, terms))


#: A combinatorial run planned fewer images than its combinations (× seeds in a sweep) make: the
#: SQL of ``status.combinations_never_generated`` (a seed list that is not JSON counts as none).
TRUNCATED_SQL = ("(s.generation_mode LIKE 'combinatorial' AND s.placeholders != '{}' AND s.total_combinations * "
                 "max(1, CASE WHEN json_valid(s.seed_list) THEN json_array_length(s.seed_list) ELSE 0 END) "
                 "> s.images_expected)")


def _schedulers(where: Where, terms: tuple[str, ...], *, exclude: bool) -> None:
    """The schedule type holds one of the terms.

    The stored sampler name holds the schedule type too (the stats keep the sampler's full name,
    "DPM++ 2M Karras"), and it is in the list index, so most sessions are decided without reading
    their row: a name without the term cannot match, and a name ending with a schedule type of
    :data:`NAMED_SCHEDULES` has that one (a set ``scheduler`` is what the full name ends with).
    Only the others read ``scheduler`` (a session without a sampler name too).  Written so that
    SQLite short-circuits it (a top-level AND or OR; inside NOT or a function it evaluates both
    sides, reading every row: ``-scheduler:`` took 4× longer).
    """
    if not terms:
        return
    named = " OR ".join(f"(s.sampler_name LIKE '% {name}' AND '{name}' LIKE ? ESCAPE '\\')"
                        for name in NAMED_SCHEDULES)
    has = f"({named} OR {SCHEDULER_SQL} LIKE ? ESCAPE '\\')"
    patterns = [(_escape_like(term),) * (len(NAMED_SCHEDULES) + 2) for term in terms]
    if not exclude:
        where.add("(" + " OR ".join(f"((s.sampler_name LIKE ? ESCAPE '\\' OR s.sampler_name IS NULL) AND {has})"
                                    for _ in terms) + ")", *(pattern for group in patterns for pattern in group))
        return
    named_not = " AND ".join(f"NOT (coalesce(s.sampler_name, '') LIKE '% {name}' AND '{name}' LIKE ? ESCAPE '\\')"
                             for name in NAMED_SCHEDULES)
    for group in patterns:
        where.add(f"((s.sampler_name IS NOT NULL AND s.sampler_name NOT LIKE ? ESCAPE '\\') OR ({named_not} AND "
                  f"({SCHEDULER_SQL} IS NULL OR {SCHEDULER_SQL} NOT LIKE ? ESCAPE '\\')))", *group)


def _ratings(where: Where, values: frozenset[str], *, exclude: bool) -> None:
    """Ratings with "none" for unrated (no metadata row, or a NULL rating)."""
    if not values:
        return
    rated = sorted(value for value in values if value != "none")
    if "none" in values:  # matching = not rated at all, or rated one of `rated` = not rated otherwise
        others = "user_rating IS NOT NULL" + (f" AND user_rating NOT IN ({_placeholders(rated)})" if rated else "")
        where.member("session_metadata", "session_key", others, *rated, negate=not exclude)
    else:
        where.member("session_metadata", "session_key", f"user_rating IN ({_placeholders(rated)})", *rated,
                     negate=exclude)


def _tagged(where: Where, tags: tuple[str, ...], *, negate: bool = False) -> None:
    where.member("session_tags", "session_key", f"tag IN ({_placeholders(tags)})",
                 *(tag.casefold() for tag in tags), negate=negate)


def _tags(where: Where, f: SessionFilter) -> None:
    for tag in f.tags_all:
        _tagged(where, (tag,))
    if f.tags_any:
        _tagged(where, f.tags_any)
    if f.tags_none:
        _tagged(where, f.tags_none, negate=True)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _text_ids(where: Where, terms: tuple[str, ...], *, exclude: bool) -> None:
    """Sessions whose search document holds every term: terms of three characters or more through
    the trigram index, shorter ones by a LIKE scan of the documents (no trigram to look up)."""
    long_terms = [term for term in terms if len(term) >= _SHORT_TERM]
    short_terms = [term for term in terms if len(term) < _SHORT_TERM]
    if long_terms:
        where.member("session_search", "rowid", "session_search MATCH ?",
                     " AND ".join(_fts_phrase(term) for term in long_terms), negate=exclude)
    if short_terms:
        where.member("search_docs", "id", " AND ".join("doc LIKE ? ESCAPE '\\'" for _ in short_terms),
                     *map(_escape_like, short_terms), negate=exclude)


def _text(where: Where, f: SessionFilter) -> None:
    terms = tuple(term for term in f.text if term.strip())
    if terms:
        _text_ids(where, terms, exclude=False)
    for term in f.exclude_text:
        if term.strip():
            _text_ids(where, (term,), exclude=True)


def _dates(where: Where, f: SessionFilter) -> None:
    if f.date_from is not None:
        where.add("s.session_created_at >= ?", f.date_from.isoformat())
    if f.date_to is not None:
        where.add("s.session_created_at < ?", (f.date_to + timedelta(days=1)).isoformat())


def filter_where(f: SessionFilter, *, one_row: bool = False) -> Where:
    """The WHERE conditions (ANDed) for a filter, over ``session_stats AS s`` (see :attr:`Where.one_row`)."""
    where = Where(one_row=one_row)
    if f.unavailable is not None:
        where.add(f"s.is_unavailable IS {int(f.unavailable)}")
    else:  # a tombstone is no session to list (see TOMBSTONE); as a look-up, the sort's covering index still serves
        where.member("session_stats", "id", f"is_unavailable = {TOMBSTONE}", negate=True)
    for flag in FLAGS:
        _meta_flag(where, flag.field, getattr(f, flag.label))
    _flag(where, "s.is_seed_sweep", f.sweep)
    _flag(where, "s.is_dry_run", f.dry_run)
    if f.stats_error is not None:
        where.add("s.stats_error IS NOT NULL" if f.stats_error else "s.stats_error IS NULL")
    if f.truncated is not None:
        where.add(TRUNCATED_SQL if f.truncated else f"NOT coalesce({TRUNCATED_SQL}, 0)")
    _ratings(where, f.ratings, exclude=False)
    _ratings(where, f.exclude_ratings, exclude=True)
    if f.statuses:
        where.add(f"s.status IN ({_placeholders(tuple(f.statuses))})", *sorted(f.statuses))
    if f.exclude_statuses:
        where.add(f"s.status NOT IN ({_placeholders(tuple(f.exclude_statuses))})", *sorted(f.exclude_statuses))
    _substrings(where, "s.sd_model", f.models, exclude=False)
    _substrings(where, "s.sd_model", f.exclude_models, exclude=True)
    _substrings(where, "s.sampler_name", f.samplers, exclude=False)
    _substrings(where, "s.sampler_name", f.exclude_samplers, exclude=True)
    _schedulers(where, f.schedulers, exclude=False)
    _schedulers(where, f.exclude_schedulers, exclude=True)
    _dates(where, f)
    _range(where, "s.completion_percentage", f.completion)
    _range(where, "s.images_actual", f.images)
    _range(where, "s.steps", f.steps)
    _range(where, "s.cfg_scale", f.cfg)
    _range(where, "s.width", f.width)
    _range(where, "s.height", f.height)
    _tags(where, f)
    _text(where, f)
    return where
