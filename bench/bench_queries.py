"""Benchmark: list queries on a database of 100 000 sessions.

Targets (issue text): a filtered id list (``Store.list_ids``) ≤ 50 ms, for
field filters and for free-text search; one page of 100 rows
(``Store.fetch_rows``) ≤ 5 ms.  Prints the median of 15 runs after 2 warm-ups.

The database is built from in-memory :class:`SessionStats` (no folders):
models, samplers, sizes, statuses, dates over two years, ~5 % seed sweeps,
prompts from a ~300-word vocabulary (``_trees.py``); ~10 % of the sessions get
user metadata through ``Store.update_metadata``.  Run with
``.venv/bin/python bench/bench_queries.py``; ``--keep FILE`` keeps the database
and reuses it next time.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from _trees import MODELS, NEGATIVES, SAMPLERS, SIZES, STATUSES, median, random_prompt, session_name, time_runs, verdict

from sdsessions_tui.core.filters import Range, SessionFilter, SessionSort
from sdsessions_tui.core.session_stats import SessionStats
from sdsessions_tui.core.store import Store, stats_to_row

IDS_TARGET_MS, PAGE_TARGET_MS, RUNS = 50.0, 5.0, 15
BATCH = 5000
ROOT = "/bench/sessions"
TAGS = ["keeper", "wip", "portrait", "landscape", "nsfw", "lora-test", "style-test", "hires", "compare",
        "favorite-pose", "to-upscale", "archive", "client", "reference", "bad-hands", "cyberpunk",
        "fantasy", "anime", "photo", "experiment"]


def make_stats(index: int, rng: random.Random, start: datetime) -> SessionStats:
    """One plausible finished (or not) V2 session, without touching the disk."""
    when = start + timedelta(minutes=index * 10.5 + rng.randrange(8))
    name = session_name(index, when, rng)
    prompt, values = random_prompt(rng)
    width, height = rng.choice(SIZES)
    expected = rng.choice((12, 20, 20, 24, 50, 100))
    status = rng.choice(STATUSES)
    actual = expected if status == "completed" else rng.randrange(expected)
    seed = rng.randrange(2**32)
    sweep = rng.random() < 0.05
    prefix = name.split("-", 1)[1]
    return SessionStats(
        session_id=name, session_path=f"{ROOT}/{name}", display_name=prefix.replace("-", " "), name_era="new",
        manifest_format="v2", manifest_file="manifest.json", manifest_mtime=when.timestamp() + 600,
        manifest_size=400 * actual + 2000, folder_mtime=when.timestamp() + 600,
        sd_model=rng.choice(MODELS), template_version="2.0", generation_mode="combinatorial",
        seed_mode="progressive", seed_base=seed, resolved_prompt=prompt, negative_prompt=rng.choice(NEGATIVES),
        width=width, height=height, steps=rng.randint(15, 40), cfg_scale=rng.randint(6, 18) / 2,
        sampler_name=rng.choice(SAMPLERS), api_params={"width": width, "height": height},
        images_expected=expected, images_actual=actual, image_files_raw=actual,
        completion_percentage=round(100 * actual / expected, 1), status=status,
        manifest_status="completed" if status == "completed" else "ongoing", is_seed_sweep=sweep,
        seed_list=[seed, seed + 1, seed + 2] if sweep else [], seed_min=seed, seed_max=seed + actual,
        placeholders={p: {"values": v, "used": v, "count": len(v)} for p, v in values.items()},
        variations_summary=", ".join(f"{p} ({len(v)})" for p, v in values.items()),
        image_files=[f"{prefix}_{i:04d}_seed-{seed + i}.png" for i in range(actual)],
        session_created_at=when, manifest_generated_at=when, duration_seconds=round(actual * 6.5, 1),
        fingerprint=hashlib.sha1(name.encode()).hexdigest())


def build(path: Path, sessions: int) -> Store:
    """Fill a new database; prints the setup times."""
    rng = random.Random(7)
    start = datetime(2024, 1, 1, 8, 0)
    store = Store(path)
    made = upserting = 0.0
    for first in range(0, sessions, BATCH):
        started = time.perf_counter()
        rows = [stats_to_row(make_stats(i, rng, start), ROOT) for i in range(first, min(sessions, first + BATCH))]
        made += time.perf_counter() - started
        started = time.perf_counter()
        store.upsert_stats(rows)
        upserting += time.perf_counter() - started
    print(f"  setup: {sessions:,} stats rows built in {made:.1f} s; upsert_stats ({BATCH}/call): "
          f"{upserting:.1f} s = {sessions / upserting:,.0f} rows/s")
    with store.engine.connect() as connection:
        keys = list(connection.exec_driver_sql("SELECT id FROM session_stats ORDER BY id").scalars())
    chosen = rng.sample(keys, len(keys) // 10)
    started = time.perf_counter()
    for session_key in chosen:
        changes: dict[str, object] = {"is_favorite": rng.random() < 0.4,
                                      "user_rating": rng.choice(("like", "like", "dislike", None))}
        if rng.random() < 0.6:
            changes["tags"] = rng.sample(TAGS, rng.randint(1, 3))
        if rng.random() < 0.2:
            changes["user_note"] = f"note: {rng.choice(TAGS)} looks good, redo with more steps"
        store.update_metadata(session_key, changes)
    seconds = time.perf_counter() - started
    print(f"  setup: update_metadata × {len(chosen):,} in {seconds:.1f} s = "
          f"{1000 * seconds / len(chosen):.2f} ms per call")
    return store


CASES: list[tuple[str, SessionFilter, SessionSort]] = [
    ("no filter (date desc)", SessionFilter(), SessionSort()),
    ("model substring 'pony'", SessionFilter(models=("pony",)), SessionSort()),
    ("sampler 'karras' (with the scheduler)", SessionFilter(samplers=("karras",)), SessionSort()),
    ("scheduler 'karras'", SessionFilter(schedulers=("karras",)), SessionSort()),
    ("status in {aborted}", SessionFilter(statuses=frozenset({"aborted"})), SessionSort()),
    ("steps 20-30 + cfg 5-7", SessionFilter(steps=Range(20, 30), cfg=Range(5, 7)), SessionSort()),
    ("date range one month", SessionFilter(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)), SessionSort()),
    ("liked", SessionFilter(liked=True), SessionSort()),
    ("tag 'keeper'", SessionFilter(tags_all=("keeper",)), SessionSort()),
    ("rating like", SessionFilter(ratings=frozenset({"like"})), SessionSort()),
    ("text common 'smile'", SessionFilter(text=("smile",)), SessionSort()),
    ("text two words 'smile outdoors'", SessionFilter(text=("smile", "outdoors")), SessionSort()),
    ("text rare 'axolotl'", SessionFilter(text=("axolotl",)), SessionSort()),
    ("text short '3d' (LIKE scan)", SessionFilter(text=("3d",)), SessionSort()),
    ("model+steps+text combined", SessionFilter(models=("pony",), steps=Range(20, 30), text=("smile",)), SessionSort()),
    ("no filter, sort by rating", SessionFilter(), SessionSort("rating", True)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, metavar="FILE", help="keep the database here and reuse it next time")
    args = parser.parse_args()
    print(f"bench_queries: list queries on {args.sessions:,} sessions (median of {RUNS} runs after 2 warm-ups)")
    scratch = Path(tempfile.mkdtemp(prefix="sdsessions-bench-"))
    path = args.keep or scratch / "bench.db"
    try:
        started = time.perf_counter()
        store = Store(path) if path.exists() else build(path, args.sessions)
        print(f"  setup total {time.perf_counter() - started:.1f} s; "
              f"{len(store.list_ids(SessionFilter(unavailable=None))):,} sessions; "
              f"database {path.stat().st_size / 2**20:.0f} MiB")
        results: list[tuple[str, int, float, float]] = []
        everything: list[int] = []
        for label, session_filter, sort in CASES:
            ids = store.list_ids(session_filter, sort)
            everything = everything or ids
            timings = time_runs(lambda: store.list_ids(session_filter, sort), RUNS)  # noqa: B023
            results.append((label, len(ids), median(timings), IDS_TARGET_MS))
        middle = len(everything) // 2
        page = everything[middle:middle + 100]
        assert len(store.fetch_rows(page)) == len(page)
        timings = time_runs(lambda: store.fetch_rows(page), RUNS)
        results.append(("fetch_rows: page of 100 (middle)", len(page), median(timings), PAGE_TARGET_MS))
        store.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n  {'query':<36} {'ids':>7} {'median':>10}")
    for label, count, value, target in results:
        print(f"  {label:<36} {count:>7,} {value:7.2f} ms  {verdict(value, target)}")


if __name__ == "__main__":
    main()
