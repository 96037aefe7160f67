"""A session's state and completion, from the manifest status and the counts (spec §11).

The upstream web UI got these wrong (spec §14): it treated a ratio as a
percentage, never clamped it, counted every file, and ignored ``status``.
"""

from __future__ import annotations

from typing import Final

RUNNING: Final = "running"
COMPLETED: Final = "completed"
COMPLETED_WITH_FAILURES: Final = "completed_with_failures"
ABORTED: Final = "aborted"
STALE: Final = "stale"
INCOMPLETE: Final = "incomplete"
UNKNOWN: Final = "unknown"

STATUSES: Final = (RUNNING, COMPLETED, COMPLETED_WITH_FAILURES, ABORTED, STALE, INCOMPLETE, UNKNOWN)

#: A run whose newest file is older than this is not running any more.  It is
#: above the generator's 300 s request timeout, so one slow image does not
#: make a live run look dead.
RECENT_SECONDS: Final = 600.0


def decide_status(
    manifest_status: str | None,
    *,
    readable: bool,
    done: int,
    expected: int | None,
    is_dry_run: bool,
    newest_mtime: float | None,
    now: float,
    recent_seconds: float = RECENT_SECONDS,
) -> str:
    """The app status of a session, following the spec's status table row by row."""
    if not readable:
        return UNKNOWN
    recent = newest_mtime is not None and now - newest_mtime <= recent_seconds
    raw = (manifest_status or "").strip().lower()
    if raw in ("ongoing", "in_progress"):
        return RUNNING if recent else STALE
    if raw == "aborted":
        return ABORTED
    if raw == "completed":
        if is_dry_run or expected is None or done >= expected:
            return COMPLETED
        return COMPLETED_WITH_FAILURES
    # No status (every era before 2025-11-11), or one the spec does not know.
    if expected is None:
        return UNKNOWN
    if done >= expected:
        return COMPLETED
    return RUNNING if recent else INCOMPLETE


def completion_percentage(done: int, expected: int | None) -> float | None:
    """``100 × min(done, expected) / expected``, in 0–100; None when expected is unknown or 0."""
    if not expected or expected < 0:
        return None
    percentage = round(100.0 * min(done, expected) / expected, 2)
    return min(percentage, 99.99) if done < expected else percentage  # never 100 for an unfinished run


def completion_label(percentage: float | None) -> str:
    """The one way a completion is written everywhere (list, details, ``sdsessions list``):
    whole percents, rounded down, so a run one image short never reads "100%"; "—" when unknown."""
    return "—" if percentage is None else f"{int(percentage)}%"


def completion_style(percentage: float | None) -> str:
    """The Rich style of a completion: green from 95 %, yellow from 70 %, red below; dim when unknown."""
    if percentage is None:
        return "dim"
    return "green" if percentage >= 95 else "yellow" if percentage >= 70 else "red"


def combinations_never_generated(mode: str | None, has_placeholders: bool, total_combinations: int | None,
                                 seeds: int, planned: int | None) -> int | None:
    """How many combinations (× seeds in a sweep) a combinatorial run never planned, or None.

    ``planned`` is the manifest's count after every cap (``num_images``: ``max_images``,
    ``--count``, the new orchestrator's 100), ``total_combinations`` the product of the full
    pools (spec §7, §11).  Only a combinatorial run means to make them all: random mode samples
    by design, and a run without placeholders is one prompt whatever its seed list.  Mirrored in
    SQL by ``sql_filters.TRUNCATED_SQL`` (``is:truncated``).
    """
    if (mode or "").lower() != "combinatorial" or not has_placeholders or total_combinations is None:
        return None
    if planned is None:
        return None
    possible = total_combinations * max(seeds, 1)
    return possible - planned if possible > planned else None
