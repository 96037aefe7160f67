"""Benchmark: how long the app lives after losing its terminal (target: it ends within 1 s).

The real ``sdsessions`` CLI in a 160×50 pseudo-terminal on the tests' small tree, its master side
closed (an SSH connection dropping) in each phase: running; with an edit pending (``f``, its save
still 60 s away: the exit path saves it); right after ``q`` (0, 50 and 300 ms later); and
during the save on the way out, with another program holding the database's lock (the edit goes
to the recovery file).  Each with the terminal as the app's controlling one (SIGHUP comes, reads
are at end-of-file) and without (no SIGHUP: only the terminal failing).  Prints the median and
the worst latency from the hang-up to the exit, and the exit codes seen.
Run: ``.venv/bin/python bench/bench_hangup.py [--tries N]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _trees import median, verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' tree and terminal helpers

from sdsessions_tui.core.recovery import read_edits, recovery_path  # noqa: E402
from sdsessions_tui.core.refresh import refresh  # noqa: E402
from sdsessions_tui.core.store import Store  # noqa: E402
from tests.tui.terminal import Terminal  # noqa: E402
from tests.tui.tree import build_tree  # noqa: E402

TARGET_S = 1.0
#: Longest wait for an exit; a process still alive then is counted as this and killed.
GIVE_UP_S = 10.0


def running(term: Terminal, _db: Path) -> None:
    pass


def pending_edit(term: Terminal, _db: Path) -> None:
    term.write(b"f")
    term.wait_for(b"unsaved")


def quitting(pause: float) -> Callable[[Terminal, Path], None]:
    def act(term: Terminal, db: Path) -> None:
        pending_edit(term, db)
        term.write(b"q")
        time.sleep(pause)
    return act


PHASES: dict[str, Callable[[Terminal, Path], None]] = {
    "running": running, "edit pending": pending_edit, "q, at once": quitting(0.0), "q, 50 ms": quitting(0.05),
    "q, 300 ms": quitting(0.3), "saving, DB locked": pending_edit}


def edit_kept(store: Store, key: int) -> bool:
    """The ``f`` edit is in the database or in the recovery file (the next start saves it)."""
    return store.get_metadata(key).is_favorite or any(
        edit.session_key == key and edit.changes == {"is_favorite": True}
        for edit in read_edits(recovery_path(store.path)))


def one(store: Store, phase: str, controlling: bool, workdir: Path) -> tuple[float, int | None, bool]:
    """(latency, exit code, the edit was kept) of one hang-up."""
    db = store.path
    key = store.list_ids()[0]  # the row under the cursor
    store.update_metadata(key, {"is_favorite": False})
    recovery_path(db).unlink(missing_ok=True)
    term = Terminal(db, controlling=controlling, cwd=workdir)
    locker = None
    try:
        term.wait_for(b"hair_test")
        time.sleep(1.0)  # past the start-up's background work (as a user would be)
        PHASES[phase](term, db)
        if phase.startswith("saving"):
            locker = sqlite3.connect(db, isolation_level=None, timeout=0.1)
            locker.execute("BEGIN EXCLUSIVE")
        start = term.hang_up()
        code = term.wait_exit(GIVE_UP_S)
        latency = min(time.monotonic() - start, GIVE_UP_S)
        return latency, code, phase == "running" or edit_kept(store, key)
    finally:
        if locker is not None:
            locker.close()
        term.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build_tree(work / "sessions")
        store = Store(work / "bench.db")
        refresh(store, [work / "sessions"], retry_delays=(), workers=1)
        print(f"exit latency after the terminal is lost, {args.tries} tries each ({TARGET_S:g} s target; "
              "exit code -1: ended by SIGHUP's default action, once the app's loop had closed)")
        worst_all, lost = 0.0, 0
        for controlling in (True, False):
            for phase in PHASES:
                runs = [one(store, phase, controlling, work) for _ in range(args.tries)]
                latencies = [latency for latency, _code, _kept in runs]
                worst_all = max(worst_all, *latencies)
                lost += sum(not kept for _latency, _code, kept in runs)
                codes = sorted({str(code) for _latency, code, _kept in runs})
                mode = "SIGHUP" if controlling else "no SIGHUP"
                print(f"  {mode:9}  {phase:18} median {median(latencies) * 1000:6.0f} ms  "
                      f"max {max(latencies) * 1000:6.0f} ms  exit codes {','.join(codes)}")
        store.close()
        print(f"worst: {worst_all * 1000:.0f} ms, {verdict(worst_all, TARGET_S)}; edits lost: {lost}")


if __name__ == "__main__":
    main()
