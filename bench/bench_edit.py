"""Benchmark: editing metadata in the TUI on a database of 100 000 sessions.

Targets (issue text): key press → visible change within one frame (16.7 ms at 60 fps); edit →
committed within the debounce + 100 ms (flags and rating 500 ms, tags and notes 1 s); a batch flag
over 10 000 filtered sessions ≤ 1 s.

Runs in-process under ``App.run_test(size=(160, 50))`` on a copy of bench_queries.py's database
(``--keep FILE``), timed to the end of the next compositor frame; keys go straight to the driver
(``Pilot.press`` waits for CPU idle).  "Committed" is the end of ``Store.apply_edits`` (its
transaction is over).  The batch is "apply to all filtered" → "Mark liked" on the smallest filter
(a steps range or a model) of at least 10 000 sessions, timed from Enter in the menu to the table
repainted, and ``Store.set_metadata_many`` alone.  Run: ``.venv/bin/python bench/bench_edit.py [--db FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _trees import median, verdict
from bench_tui import COLS, FRAME_MS, ROWS, after, stamp, until
from textual import events

from sdsessions_tui.cli import tune_gc_after_start_up
from sdsessions_tui.core.query import parse_query
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.edit_screens import ApplyMenu
from sdsessions_tui.tui.metadata_editor import MetadataEditor

FLAG_KEYS = ("f", "t", "c", "plus", "minus", "0")
BATCH_TARGET_MS = 1000.0
COMMIT_MARGIN_MS = 100.0
Figures = dict[str, list[float]]


def put(out: Figures, key: str, value: float) -> None:
    out.setdefault(key, []).append(value)


def press(app: SessionsApp, key: str) -> float:
    """Send one key as the terminal driver does (a space is ``space`` with its character)."""
    character = " " if key == " " else key if len(key) == 1 else None
    app._driver.send_message(events.Key("space" if key == " " else key, character))  # type: ignore[union-attr]
    return time.perf_counter()


def batch_query(store: Store) -> tuple[str, int]:
    """A filter of at least 10 000 sessions, as few more as possible (steps ranges, models), and its size."""
    candidates = [f"steps:{low}-{low + span}" for low in range(15, 40) for span in (1, 2, 3)]
    candidates += [f'model:"{model}"' for model, _count in store.distinct_values("model")]
    sizes = {query: len(store.list_ids(parse_query(query).filter)) for query in candidates}
    return min(((query, size) for query, size in sizes.items() if size >= 10_000), key=lambda item: item[1])


async def run(db: Path, cache: Path, out: Figures) -> tuple[str, int]:
    store = Store(db)
    total = len(store.list_ids())
    query, batch_size = batch_query(store)
    # on_started: the garbage collector tuned as the CLI does
    app = SessionsApp(store, [], thumbnail_cache=cache, refresh_on_start=False, on_started=tune_gc_after_start_up)
    async with app.run_test(size=(COLS, ROWS)):
        table = app.table
        await until(lambda: table.row_count == total, 30)
        frames = stamp(app.screen, "_compositor_refresh", end=True)
        commits = stamp(store, "apply_edits", end=True)
        await asyncio.sleep(0.3)
        # flag and rating keys: one frame each; the burst committed after the 500 ms debounce
        for _burst in range(5):
            line = (table.cursor_row or 0) - int(table.scroll_y) + 1  # under the header
            for key in FLAG_KEYS:
                before = table.render_line(line).text
                sent = press(app, key)
                await until(lambda: frames[-1] > sent and table.render_line(line).text != before)  # noqa: B023
                put(out, "flag_frame", 1000 * (after(frames, sent) - sent))
                await asyncio.sleep(0.03)
            last = sent
            await until(lambda: commits and commits[-1] > last, 5)  # noqa: B023
            put(out, "flag_commit", 1000 * (commits[-1] - last))
            await asyncio.sleep(0.2)
            press(app, "down")
            await asyncio.sleep(0.2)
        # the tag input and the note: keystroke → frame; the last keystroke → committed after 1 s
        for part, opener, text in (("tag", "e", "keeper"), ("note", "n", "hands ok")):
            press(app, opener)
            await until(lambda: app.focused is not None and app.focused.id in ("tag-input", "note-input"))
            assert app.query_one(MetadataEditor).is_open  # mounted at the first e
            await asyncio.sleep(0.2)
            for char in text:
                sent = press(app, char)
                await until(lambda: frames[-1] > sent)  # noqa: B023
                put(out, f"{part}_frame", 1000 * (after(frames, sent) - sent))
                await asyncio.sleep(0.05)
            if part == "tag":
                sent = press(app, "enter")
                await until(lambda: frames[-1] > sent)  # noqa: B023
                put(out, "tag_frame", 1000 * (after(frames, sent) - sent))
            last = sent
            await until(lambda: commits and commits[-1] > last, 5)  # noqa: B023
            put(out, f"{part}_commit", 1000 * (commits[-1] - last))
            press(app, "escape")
            await asyncio.sleep(0.2)
        # apply to all filtered: "Mark liked" over ~10 000 sessions
        bulk_calls, bulk_done = stamp(store, "set_metadata_many"), stamp(store, "set_metadata_many", end=True)
        applied = stamp(app.editing, "bulk_applied", end=True)
        app.filter_bar.query_input.value = query
        await until(lambda: table.row_count == batch_size, 10)
        for lap in range(3):
            press(app, "A")
            await until(lambda: isinstance(app.screen, ApplyMenu))
            await asyncio.sleep(0.1)
            if lap % 2:
                press(app, "down")  # "Unmark liked": every lap changes every row
                await asyncio.sleep(0.1)
            sent = press(app, "enter")
            await until(lambda: applied and applied[-1] > sent and frames[-1] > applied[-1], 10)  # noqa: B023
            put(out, "batch_total", 1000 * (after(frames, applied[-1]) - sent))
            put(out, "batch_sql", 1000 * (bulk_done[-1] - bulk_calls[-1]))
            await asyncio.sleep(0.3)
    store.close()
    return query, batch_size


def report(out: Figures, query: str, batch_size: int) -> None:
    m = {key: median(values) for key, values in out.items()}
    worst = {key: max(values) for key, values in out.items()}
    flag_delay, text_delay = save_queue.FLAG_SAVE_DELAY * 1000, save_queue.TEXT_SAVE_DELAY * 1000
    print(f"  key → visible (one frame = {FRAME_MS:.1f} ms), median / worst:")
    for key, label in (("flag_frame", "flag / rating key → row redrawn"), ("tag_frame", "tag input keystroke"),
                       ("note_frame", "note keystroke")):
        print(f"    {label:34s} {m[key]:6.1f} / {worst[key]:6.1f} ms  {verdict(m[key], FRAME_MS)}")
    print("  last keystroke → committed (debounce + ≤ 100 ms):")
    for key, delay, label in (("flag_commit", flag_delay, "flags / rating burst"), ("tag_commit", text_delay, "tag"),
                              ("note_commit", text_delay, "note")):
        print(f"    {label:34s} {m[key]:6.0f} ms = {delay:.0f} + {m[key] - delay:5.1f}  "
              f"{verdict(m[key], delay + COMMIT_MARGIN_MS)}")
    print(f"  batch \"Mark liked\" over {batch_size:,} filtered sessions ({query}):".replace(",", " "))
    print(f"    Enter → table repainted            {m['batch_total']:6.0f} ms  "
          f"{verdict(m['batch_total'], BATCH_TARGET_MS)}"
          f"  (runs: {', '.join(f'{v:.0f}' for v in out['batch_total'])})")
    print(f"    Store.set_metadata_many alone      {m['batch_sql']:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/sdbench/q100k.db"))
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db}: missing; build it with .venv/bin/python bench/bench_queries.py --keep {args.db}")
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    print(f"bench_edit: editing on a copy of {args.db} ({COLS}×{ROWS}); load average {load()} "
          f"on {os.cpu_count()} cores")
    out: Figures = {}
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as scratch:
        db = Path(scratch) / "edit.db"
        shutil.copyfile(args.db, db)  # the edits must not change the shared benchmark database
        query, batch_size = asyncio.run(run(db, Path(scratch) / "cache", out))
    report(out, query, batch_size)
    print(f"  (load average after: {load()})")


if __name__ == "__main__":
    main()
