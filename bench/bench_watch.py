"""Benchmark: live updates (the watcher) in the TUI and idle.

Targets (issue text): manifest write → row updated on screen ≤ 1 s; a burst of 1 000 manifests
rewritten at once absorbed in at most a few batches while a key press still gets a response
≤ 100 ms; quit with the watcher running well under a second; idle CPU of the watcher with 10 000
session folders (inotify and polling) — printed.

The TUI parts run in-process under ``App.run_test(size=(160, 50))`` on a fresh tree of 1 000
sessions × 4 images, timed to the end of the compositor frame that shows the change; keys go
straight to the driver.  Idle CPU: ``core.watch.watch`` on a thread over bench_refresh.py's tree of
10 000 × 20 (``--tree DIR``, written if missing), process CPU time over 10 s after the watches are
set up.  Run: ``.venv/bin/python bench/bench_watch.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from _trees import TINY_PNG, median, verdict, write_tree
from bench_refresh import prepare_tree
from bench_tui import COLS, ROWS, after, press, stamp, until

from sdsessions_tui.cli import tune_gc_after_start_up
from sdsessions_tui.core import watch as watch_module
from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import SessionsApp

LIVE_SESSIONS, BURST = 1000, 1000
ROW_TARGET_S, KEY_TARGET_MS, IDLE_SECONDS, EXIT_TARGET_S = 1.0, 100.0, 10.0, 1.0
Figures = dict[str, list[float]]


def put(out: Figures, key: str, value: float) -> None:
    out.setdefault(key, []).append(value)


def toggle_image(folder: Path) -> None:
    """Add a fifth image (PNG first, then the manifest rewritten in place, as the generator does), or drop it."""
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    images = manifest["images"]
    if len(images) == 4:
        extra = dict(images[-1], filename=images[-1]["filename"].replace("_0003_", "_0004_"))
        (folder / extra["filename"]).write_bytes(TINY_PNG)
        images.append(extra)
    else:
        (folder / images.pop()["filename"]).unlink()
    manifest["snapshot"]["generation_params"]["num_images"] = len(images)
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def touch_manifests(folders: list[Path]) -> None:
    """Rewrite every manifest in place (one more space: a new size and mtime, same stats)."""
    for folder in folders:
        path = folder / "manifest.json"
        path.write_bytes(path.read_bytes() + b" ")


async def live(tmp: Path, out: Figures) -> dict[str, Any]:
    root = tmp / "live"
    root.mkdir()
    write_tree(root, range(LIVE_SESSIONS), 4, seed=11)
    store = Store(tmp / "live.db")
    refresh(store, [root])
    app = SessionsApp(store, [root], thumbnail_cache=tmp / "cache", refresh_on_start=False,
                      on_started=tune_gc_after_start_up)  # the garbage collector tuned as the CLI does
    gc.freeze()  # as the CLI does before App.run: start-up objects stay out of every collection
    counts: dict[str, Any] = {"batches": 0, "rows": 0}
    async with app.run_test(size=(COLS, ROWS)):
        table = app.table
        await until(lambda: table.row_count == LIVE_SESSIONS, 30)
        await until(lambda: any(w.group == "watch" and w.is_running for w in app.workers))
        await asyncio.sleep(2.0)  # the watches are set up
        frames = stamp(app.screen, "_compositor_refresh", end=True)
        # one manifest rewritten → its row on screen, 10 times (rows on screen, top to bottom)
        for lap in range(10):
            row = table.row_at(lap % 20)
            assert row is not None
            line = lap % 20 + 1  # under the header; the cursor stays on row 0
            before = table.render_line(line).text
            written = time.perf_counter()
            toggle_image(Path(row.session_path))
            await until(lambda: table.render_line(line).text != before and frames and frames[-1] > written,  # noqa: B023
                        10)
            put(out, "row", after(frames, written) - written)
            await asyncio.sleep(0.5)
        # a burst of 1 000 rewrites, keys pressed every 50 ms meanwhile
        applied: list[tuple[float, int]] = []
        original = watch_module.apply_changes

        def counted(*args: object) -> watch_module.WatchBatch:
            batch = original(*args)  # type: ignore[arg-type]
            applied.append((time.perf_counter(), batch.updated))
            counts["rows"] += batch.updated
            return batch

        watch_module.apply_changes = counted  # type: ignore[assignment]
        folders = [Path(store.get_session(key)[0].session_path) for key in table.ids[:BURST]]  # type: ignore[index]
        writer = threading.Thread(target=touch_manifests, args=(folders,))
        started = time.perf_counter()
        writer.start()
        for step in range(200):
            if counts["rows"] >= BURST:
                break
            cursor = table.cursor_row
            sent = press(app, "down" if step % 2 == 0 else "up")
            await until(lambda: table.cursor_row != cursor and frames[-1] > sent, 10)  # noqa: B023
            put(out, "key", 1000 * (after(frames, sent) - sent))
            await asyncio.sleep(0.05)
        await until(lambda: counts["rows"] >= BURST, 30)
        writer.join()
        put(out, "burst", time.perf_counter() - started)
        watch_module.apply_changes = original  # type: ignore[assignment]
        counts["batches"] = len([moment for moment, updated in applied if updated])
        counts["sizes"] = ", ".join(f"{updated} at {moment - started:.2f} s" for moment, updated in applied if updated)
        quitting = time.perf_counter()
        await app.action_quit()
    put(out, "exit", time.perf_counter() - quitting)  # quit → the app and its watcher thread are gone
    store.close()
    return counts


def idle_cpu(tree: Path, tmp: Path, poll: bool) -> tuple[float, float]:
    """(seconds until the watches are set up, CPU % of one core while idle).

    Set up = the watch loop's first empty batch (yielded once the watches are set up, or the
    polling fallback's first snapshot taken).
    """
    store = Store(tmp / f"idle-{poll}.db")
    stop, first = threading.Event(), threading.Event()
    original = watch_module.change_batches
    started = time.perf_counter()
    setup: list[float] = []

    def recorded(*args: object, **kwargs: object) -> Iterator[set[str]]:
        for batch in original(*args, **kwargs):  # type: ignore[arg-type]
            if not setup:
                setup.append(time.perf_counter() - started)
                first.set()
            yield batch

    watch_module.change_batches = recorded  # type: ignore[assignment]
    try:
        thread = threading.Thread(target=watch_module.watch, args=(store, [tree], stop), kwargs={"poll": poll},
                                  daemon=True)
        thread.start()
        first.wait(300)
        before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        time.sleep(IDLE_SECONDS)
        now, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
        stop.set()
        thread.join(5)
    finally:
        watch_module.change_batches = original  # type: ignore[assignment]
        store.close()
    cpu = (now.ru_utime - before.ru_utime) + (now.ru_stime - before.ru_stime)
    return setup[0], 100 * cpu / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path("/tmp/sdbench"), metavar="DIR",
                        help="where bench_refresh.py's 10 000 × 20 tree is (written if missing)")
    args = parser.parse_args()
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    print(f"bench_watch: live updates; load average {load()} on {os.cpu_count()} cores")
    out: Figures = {}
    tree = prepare_tree(args.tree, 10_000, 20)
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as scratch:
        counts = asyncio.run(live(Path(scratch), out))
        idle = {poll: idle_cpu(tree, Path(scratch), poll) for poll in (False, True)}
    row = [1000 * value for value in out["row"]]
    print(f"  manifest write → row updated on screen ({LIVE_SESSIONS} sessions, 160×50), 10 writes:")
    print(f"    median {median(row):.0f} ms, worst {max(row):.0f} ms  {verdict(max(row) / 1000, ROW_TARGET_S)}")
    print(f"  burst: {BURST} manifests rewritten at once → absorbed in {counts['batches']} batches, "
          f"{out['burst'][0]:.2f} s (sessions re-read per batch, done at: {counts['sizes']})")
    keys = out["key"]
    print(f"    key → frame meanwhile ({len(keys)} presses): median {median(keys):.0f} ms, worst {max(keys):.0f} ms  "
          f"{verdict(max(keys), KEY_TARGET_MS)}")
    print(f"  quit with the watcher running → app gone: {1000 * out['exit'][0]:.0f} ms  "
          f"{verdict(out['exit'][0], EXIT_TARGET_S)}")
    print(f"  idle watcher on {tree} (10 000 session folders, {IDLE_SECONDS:g} s):")
    for poll, (setup, cpu) in idle.items():
        label = f"polling ({watch_module.POLL_INTERVAL:g} s)" if poll else "inotify"
        print(f"    {label:14s} set up in {setup:.1f} s, idle CPU {cpu:.2f} % of one core")
    print(f"  (load average after: {load()})")


if __name__ == "__main__":
    main()
