"""Benchmark: ``--refresh-all`` over a tree of 10 000 V2 sessions × 20 images.

Targets (issue text): the full run ≤ 20 s, and ≤ 2× a bare scan+parse of the
same tree (``os.scandir`` of every session folder + ``orjson.loads`` of its
manifest.json, no DB); an unchanged re-run ≤ 1.5 s.  Also runs the headless
CLI end to end once (interpreter start-up and imports included), and an
unchanged re-run of a small tree holding 30 manifests that stay broken (torn,
empty, garbage; written an hour ago): broken files must not cost a pause each
at every refresh.

The page cache cannot be dropped without root, so every figure is warm-cache:
the bare scan runs once untimed before it is timed, and again before each
refresh.  Run with ``.venv/bin/python bench/bench_refresh.py``; ``--keep DIR``
keeps the generated tree in DIR and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson
from _trees import median, verdict, write_tree

from sdsessions_tui.core.discovery import discover
from sdsessions_tui.core.refresh import RefreshSummary, refresh
from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import Store

FULL_TARGET_S, RATIO_TARGET, UNCHANGED_TARGET_S = 20.0, 2.0, 1.5
#: The broken-manifest case: this many good sessions and this many broken ones.
BROKEN_TREE = (1_000, 30)
_BROKEN_CONTENT = (b'{"snapshot": {"version": "2.0", "timesta', b"", b"\x00\xffPK garbage")


def prepare_tree(base: Path, sessions: int, images: int) -> Path:
    """The tree of ``sessions`` × ``images`` under ``base``, written (on 2 processes) unless already complete."""
    root = base / f"tree-{sessions}x{images}"
    done = base / f"tree-{sessions}x{images}.complete"
    if done.exists():
        print(f"  reusing the tree {root}")
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    workers = max(1, min(4, os.cpu_count() or 1))
    chunks = [range(start, sessions, workers) for start in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write_tree, [root] * workers, chunks, [images] * workers))
    done.touch()
    print(f"  setup: wrote {sessions:,} sessions × {images} images ({sessions * (images + 1):,} files) "
          f"in {time.perf_counter() - started:.1f} s on {workers} processes (not measured)")
    return root


def bare_scan(root: Path, stat_files: bool = False) -> int:
    """The floor: list every session folder and parse its manifest; nothing else.

    ``stat_files`` adds one ``stat`` per file (for comparison only).
    """
    parsed = 0
    with os.scandir(root) as sessions:
        for session in sessions:
            if not session.is_dir():
                continue
            with os.scandir(session.path) as entries:
                names = {entry.name: entry.stat() if stat_files else None for entry in entries}
            if "manifest.json" in names:
                with open(os.path.join(session.path, "manifest.json"), "rb") as handle:
                    try:
                        orjson.loads(handle.read())
                    except orjson.JSONDecodeError:  # the broken-manifest tree
                        continue
                parsed += 1
    return parsed


def read_only(root: Path) -> float:
    """Wall seconds to compute every session's stats on one process, with no DB: the part of a
    refresh that a bare scan leaves out, and the floor that explains the full/bare ratio."""
    folders = discover([str(root)]).sessions
    started = time.perf_counter()
    for folder in folders:
        read_session(folder)
    return time.perf_counter() - started


def timed_refresh(store: Store, root: Path, profile: bool = False) -> tuple[float, RefreshSummary]:
    """Wall seconds of one ``refresh()`` (after an untimed bare scan to warm the cache)."""
    bare_scan(root)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    summary = refresh(store, [root])
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        print("  cProfile of the full refresh (top 25 by cumulative time):")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return seconds, summary


def broken_tree(base: Path, good: int, broken: int, images: int) -> Path:
    """``good`` finished sessions, then ``broken`` whose manifest is torn, empty or garbage, all
    written an hour ago (a broken manifest that old is not being written: it stays broken)."""
    root = base / f"tree-broken-{good}+{broken}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    write_tree(root, range(good + broken), images)
    old = time.time() - 3600
    for index, folder in enumerate(sorted(root.iterdir())[:broken]):
        manifest = folder / "manifest.json"
        manifest.write_bytes(_BROKEN_CONTENT[index % len(_BROKEN_CONTENT)])
    for folder in root.iterdir():
        for path in (*folder.iterdir(), folder):
            os.utime(path, (old, old))
    return root


def timed_broken(base: Path, scratch: Path, images: int) -> tuple[float, float, RefreshSummary]:
    """First refresh and median unchanged re-run of :func:`broken_tree`, and the last re-run's summary."""
    good, broken = BROKEN_TREE
    root = broken_tree(base, good, broken, images)
    with Store(scratch / "broken.db") as store:
        first, summary = timed_refresh(store, root)
        assert len(summary.unreadable) == broken, summary
        reruns = []
        for _ in range(3):
            seconds, summary = timed_refresh(store, root)
            reruns.append(seconds)
    return first, median(reruns), summary


def timed_cli(root: Path, db: Path) -> tuple[float, dict[str, object]]:
    """Wall seconds of ``sdsessions --refresh-all ROOT --db DB --json`` as a subprocess, and its summary."""
    command = [str(Path(sys.executable).parent / "sdsessions"), "--refresh-all", str(root), "--db", str(db), "--json"]
    bare_scan(root)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the tree here and reuse it next time")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the full refresh")
    parser.add_argument("--broken-only", action="store_true", help="run only the broken-manifest case")
    args = parser.parse_args()
    if args.broken_only:
        with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as tmp:
            good, broken = BROKEN_TREE
            first, rerun, summary = timed_broken(Path(tmp), Path(tmp), args.images)
        print(f"bench_refresh --broken-only: {good:,} sessions + {broken} broken manifests (an hour old): first "
              f"refresh {first:.2f} s, unchanged re-run {rerun:.2f} s (median of 3; last re-run: {summary.updated} "
              f"updated, {summary.unchanged} unchanged, {len(summary.unreadable)} listed unreadable)")
        return
    print(f"bench_refresh: {args.sessions:,} V2 sessions × {args.images} images, warm page cache")
    base = args.keep or Path(tempfile.mkdtemp(prefix="sdsessions-bench-"))
    scratch = Path(tempfile.mkdtemp(prefix="sdsessions-bench-db-"))
    try:
        root = prepare_tree(base, args.sessions, args.images)
        assert bare_scan(root) == args.sessions  # untimed: warms the cache
        bare = median([_seconds(lambda: bare_scan(root)) for _ in range(3)])
        bare_stat = median([_seconds(lambda: bare_scan(root, stat_files=True)) for _ in range(3)])
        print(f"  (1) bare scan+parse (scandir + orjson.loads, no DB): {bare:.2f} s (median of 3); "
              f"with a stat per file: {bare_stat:.2f} s")

        reading = read_only(root)
        print(f"      stats computed for every session, 1 process, no DB: {reading:.2f} s "
              f"= {reading / bare:.1f}× the bare scan (the floor on 2 cores is half of that ratio, before any write)")

        store = Store(scratch / "bench.db")
        full, summary = timed_refresh(store, root, args.profile)
        assert summary.new == args.sessions and not summary.unreadable, summary
        print(f"  (2) full refresh() into a fresh DB: {full:.2f} s ({args.sessions / full:,.0f} sessions/s); "
              f"{verdict(full, FULL_TARGET_S)}")
        ratio = full / bare
        print(f"      ratio full / bare scan+parse: {ratio:.2f}; {verdict(ratio, RATIO_TARGET)}")

        reruns = []
        for _ in range(3):
            seconds, summary = timed_refresh(store, root)
            assert summary.unchanged == args.sessions, summary
            reruns.append(seconds)
        store.close()
        unchanged = median(reruns)
        print(f"  (3) unchanged re-run: {unchanged:.2f} s (median of 3: "
              f"{', '.join(f'{s:.2f}' for s in reruns)}); {verdict(unchanged, UNCHANGED_TARGET_S)}")

        cli, report = timed_cli(root, scratch / "cli.db")
        assert report["new"] == args.sessions, report
        print(f"  (4) CLI end to end (sdsessions --refresh-all --json, fresh DB, subprocess): {cli:.2f} s "
              f"(refresh itself reported {report['seconds']} s); {verdict(cli, FULL_TARGET_S)}")
        db_mb = (scratch / "bench.db").stat().st_size / 2**20

        good, broken = BROKEN_TREE
        broken_first, broken_rerun, broken_summary = timed_broken(base, scratch, args.images)
        print(f"  (5) {good:,} sessions + {broken} broken manifests (an hour old): first refresh {broken_first:.2f} s, "
              f"unchanged re-run {broken_rerun:.2f} s (median of 3; last re-run: {broken_summary.updated} updated, "
              f"{broken_summary.unchanged} unchanged, {len(broken_summary.unreadable)} listed unreadable)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print("\nsummary (warm page cache, 2-core machine)")
    print(f"  bare scan+parse      {bare:7.2f} s   (with stat per file {bare_stat:.2f} s)")
    print(f"  full refresh()       {full:7.2f} s   {verdict(full, FULL_TARGET_S)}")
    print(f"  full / bare          {ratio:7.2f}     {verdict(ratio, RATIO_TARGET)}")
    print(f"  stats alone / bare   {reading / bare:7.2f}     (1 process, no DB; ÷ {os.cpu_count()} cores = "
          f"{reading / bare / (os.cpu_count() or 1):.2f})")
    print(f"  unchanged re-run     {unchanged:7.2f} s   {verdict(unchanged, UNCHANGED_TARGET_S)}")
    print(f"  CLI end to end       {cli:7.2f} s   {verdict(cli, FULL_TARGET_S)}")
    print(f"  database size        {db_mb:7.1f} MiB")
    print(f"  {broken} broken, re-run    {broken_rerun:7.2f} s   ({broken_summary.updated} re-read, "
          f"{broken_summary.unchanged} unchanged of {good + broken:,})")


def _seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
