"""Benchmark: what undoing "apply to all filtered" costs, on a database of 100 000 sessions.

An ``A`` over N sessions now also reads each one's previous value (in its own transaction);
its undo reads the N rows (``Store.fetch_rows``, on the UI thread), records N edits
(``PendingEdits``) and saves them in one ``Store.apply_edits`` transaction (a worker thread).
Prints each step's time for 1 000, 10 000 and all sessions; the batch target of an ``A`` is ≤ 1 s
for 10 000 (bench_edit.py).  Run: ``.venv/bin/python bench/bench_undo.py [--keep FILE]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench_queries import build

from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.editing import PendingEdits
from sdsessions_tui.tui.undo import UndoStack


def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, metavar="FILE", help="keep the database here and reuse it next time")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="sdsessions-bench-"))
    try:
        path = args.keep or scratch / "bench.db"
        store = Store(path) if path.exists() else build(path, args.sessions)
        everything = store.list_ids(SessionFilter(unavailable=None))
        print(f"bench_undo: undoing 'apply to all filtered' → Mark liked, {len(everything):,} sessions")
        print(f"  {'sessions':>8}  {'A alone':>9}  {'A + previous':>12}  {'undo: fetch_rows':>16}  "
              f"{'record edits':>12}  {'apply_edits':>11}")
        for count in (1_000, 10_000, len(everything)):
            ids = everything[:count]
            started = time.perf_counter()
            store.set_metadata_many(ids, {"is_favorite": True})
            alone = ms(started)
            store.set_metadata_many(ids, {"is_favorite": False})
            previous: dict[int, dict[str, object]] = {}
            started = time.perf_counter()
            store.set_metadata_many(ids, {"is_favorite": True}, previous=previous)
            with_previous = ms(started)
            undo = UndoStack()
            undo.record("is_favorite", {key: values["is_favorite"] for key, values in previous.items()},
                        dict.fromkeys(previous, True), now=0.0)
            entry = undo.pop()
            assert entry is not None
            started = time.perf_counter()
            rows = store.fetch_rows(list(entry.before))
            fetching = ms(started)
            edits = PendingEdits()
            started = time.perf_counter()
            for row in rows.values():
                if edits.effective(row.metadata).is_favorite != entry.before[row.session_key]:
                    edits.change(row.metadata, "is_favorite", entry.before[row.session_key])
            recording = ms(started)
            started = time.perf_counter()
            result = store.apply_edits(edits.take())
            saving = ms(started)
            assert not result.conflicts
            print(f"  {count:>8,}  {alone:>6.0f} ms  {with_previous:>9.0f} ms  {fetching:>13.0f} ms  "
                  f"{recording:>9.0f} ms  {saving:>8.0f} ms")
        store.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
