"""What a session list shows: the filter and the sort, as plain data.

The query language (:mod:`.query`) and the TUI's chips both produce a
:class:`SessionFilter`; the store turns it into SQL.  Keeping it plain data
lets the two input paths never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

Rating = Literal["like", "dislike", "none"]


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive numeric range; either end may be open (None)."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Every condition is optional; all given conditions must hold (AND).

    Flags are tri-state: None = don't care, True = must be set, False = must not be.
    Text matches are case-insensitive substrings.
    """

    liked: bool | None = None
    test: bool | None = None
    complete: bool | None = None
    """The user's "complete" flag (not the generation status)."""
    sweep: bool | None = None
    dry_run: bool | None = None
    unavailable: bool | None = False
    """Sessions whose folder is gone: hidden by default (False), only them (True), or both (None)."""
    stats_error: bool | None = None
    """Sessions whose stats could not be computed (``is:broken``)."""
    truncated: bool | None = None
    """Combinatorial runs whose plan stopped before every combination (``is:truncated``)."""
    ratings: frozenset[Rating] = frozenset()
    """Any of these ratings ("none" = unrated); empty = any rating."""
    exclude_ratings: frozenset[Rating] = frozenset()
    statuses: frozenset[str] = frozenset()
    exclude_statuses: frozenset[str] = frozenset()
    models: tuple[str, ...] = ()
    """Any of these substrings of the model name."""
    exclude_models: tuple[str, ...] = ()
    samplers: tuple[str, ...] = ()
    """Any of these substrings of the sampler's full name: the sampler and its schedule type
    ("DPM++ 2M" with "Karras" reads "DPM++ 2M Karras", the name older eras recorded)."""
    exclude_samplers: tuple[str, ...] = ()
    schedulers: tuple[str, ...] = ()
    """Any of these substrings of the schedule type, or of the one an older sampler name ends with."""
    exclude_schedulers: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    """Creation date range, both ends inclusive."""
    completion: Range | None = None
    images: Range | None = None
    """Done image count."""
    steps: Range | None = None
    cfg: Range | None = None
    width: Range | None = None
    height: Range | None = None
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    """Free-text terms, all required, over name, prompts, placeholders, tags and notes."""
    exclude_text: tuple[str, ...] = ()


SortColumn = Literal[
    "date", "name", "model", "images", "expected", "completion", "status", "sampler", "steps", "cfg",
    "size", "duration", "liked", "rating", "tags", "updated",
]
SORT_COLUMNS: tuple[str, ...] = get_args(SortColumn)


@dataclass(frozen=True, slots=True)
class SessionSort:
    column: SortColumn = "date"
    descending: bool = True


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query string parsed into a filter (and an optional ``sort:`` term)."""

    filter: SessionFilter = field(default_factory=SessionFilter)
    sort: SessionSort | None = None
