"""Is a session a seed sweep?  (spec §12)

Only ``--seeds`` makes a sweep, and it is recorded only as
``generation_params.seed_list``.  The ``_seed-`` file name suffix, ``seed_mode``
and consecutive seeds say nothing: every fixed or progressive run since
2025-11-06 has them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from .extract import ImageEntry


def is_seed_sweep(seed_list: list[int] | None, entries: list[ImageEntry] | None) -> bool:
    """The reliable rule (a non-empty ``seed_list``), else the structural fallback
    for manifests without one (hand-edited or migrated)."""
    if seed_list is not None:
        return bool(seed_list)
    return _looks_like_sweep(entries) if entries else False


def _looks_like_sweep(entries: list[ImageEntry]) -> bool:
    """Group images by their variation values: a sweep runs the same seeds for each group.

    Sweeps if there are ≥ 2 groups, the complete groups (the largest size) run
    at least two distinct seeds, all in the same order — or as the same
    multiset — and any short group (the last one of a running session) is a
    start of that run.
    """
    seeds = [entry.seed for entry in entries if entry.seed is not None]
    if len(set(seeds)) == len(seeds):
        return False  # a sweep repeats its seeds in every group: no repeat, no sweep
    groups: dict[str, list[int]] = {}
    for entry in entries:
        if entry.seed is not None:
            groups.setdefault(_canonical(entry.applied_variations), []).append(entry.seed)
    if len(groups) < 2:
        return False
    size = max(len(seeds) for seeds in groups.values())
    reference = next(seeds for seeds in groups.values() if len(seeds) == size)
    if len(set(reference)) < 2:
        return False
    same_order = all(seeds == reference[: len(seeds)] for seeds in groups.values())
    pool = Counter(reference)
    same_multiset = all(
        Counter(seeds) == pool if len(seeds) == size else not Counter(seeds) - pool for seeds in groups.values()
    )
    return same_order or same_multiset


def _canonical(applied: Any) -> str:
    """Canonical JSON of ``applied_variations``, so key order does not split a group."""
    try:
        return orjson.dumps(applied, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(applied)
