"""Benchmark: the TUI on a database of 100 000 sessions.

Targets (issue text): process launch → first frame with rows ≤ 0.5 s, and ≤ 1.5× a bare Textual
app's launch → first frame in the same run; filter keystroke → table updated ≤ 50 ms (judged from
the moment the 150 ms debounce fires, to the frame with the result's first rows; the frame with
the whole result, its count and scrollbar, is printed too); cursor move = one frame (16.7 ms at
60 fps); highlight → details panel ≤ 30 ms, thumbnail ≤ 100 ms from the cache (both judged after
the app's debounces); RSS ≤ 150 MB.

Launch, key → output and memory: the real ``sdsessions`` CLI in a 160×50 pseudo-terminal (the 100k
``--db``, default settings: half-cell thumbnails; no ROOT), 5 runs interleaved with a bare Textual
app.  The rest runs in-process under ``App.run_test(size=(160, 50))``, timed to the end of the next
compositor frame; keys go straight to the driver (``Pilot.press`` waits for CPU idle in 20 ms
steps).  The database
is bench_queries.py's (``--keep FILE``).  Run: ``.venv/bin/python bench/bench_tui.py [--db FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import fcntl
import gc
import os
import pty
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import orjson
from _trees import build_manifest, median, session_name, verdict
from PIL import Image
from textual import events

import sdsessions_tui
from sdsessions_tui.cli import tune_gc_after_start_up
from sdsessions_tui.core.query import parse_query
from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import DETAILS_DEBOUNCE, FILTER_DEBOUNCE, THUMBNAIL_DELAY, SessionsApp
from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.images import configure_images
from sdsessions_tui.tui.query_runner import RESULT_HEAD
from sdsessions_tui.tui.session_table import format_date, name_cell

COLS, ROWS, FRAME_MS = 160, 50, 1000 / 60
QUERIES = ["model:pony", "status:aborted", "smile", "is:liked", "steps:20-30"]
BARE = ("from textual.app import App\nfrom textual.widgets import Static\nclass Bare(App):\n"
        "    BINDINGS = [('q', 'quit', 'Quit')]\n    def compose(self):\n        yield Static('BARE-FIRST-FRAME')\n"
        "Bare().run()\n")
Figures = dict[str, list[float]]


def put(out: Figures, key: str, value: float) -> None:
    out.setdefault(key, []).append(value)


class Term:
    """The parent side of a pseudo-terminal: what the child wrote, read as it comes."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buf, self.pos, self.last = fd, bytearray(), 0, 0.0

    def read(self, timeout: float) -> bool:
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:  # EIO: the child is gone
            data = b""
        if not data:
            raise EOFError
        self.buf += data
        self.last = time.perf_counter()
        return True

    def wait_for(self, marker: bytes = b"", timeout: float = 30.0) -> float:
        """When ``marker`` (empty: any output) showed up after the previous match; then skips past it."""
        deadline = time.perf_counter() + timeout
        while (found := self.buf.find(marker, self.pos) if marker else len(self.buf) - 1 - self.pos) < 0:
            if not self.read(deadline - time.perf_counter()) and time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} never shown; output ends {bytes(self.buf[-300:])!r}")
        self.pos = found + len(marker) if marker else len(self.buf)
        return self.last

    def drain(self, quiet: float, limit: float = 5.0) -> float:
        """Read until ``quiet`` s pass without output (at most ``limit`` s); when the last output came."""
        deadline = time.perf_counter() + limit
        while self.read(quiet) and time.perf_counter() < deadline:
            pass
        self.pos = len(self.buf)
        return self.last


def launch(argv: list[str], env: dict[str, str], marker: bytes, out: Figures,
           probes: tuple[bytes, bytes, bytes] | None = None) -> None:
    """Launch → ``marker`` shown; with ``probes`` (last row, a query, its count text) key timings and memory."""
    def send(keys: bytes) -> float:
        started = time.perf_counter()
        os.write(fd, keys)
        return started

    def memory(when: str) -> None:  # VmRSS = RssAnon + RssFile (+ RssShmem), in MB (10⁶ bytes)
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = {k: int(v.split()[0]) * 1024 / 1e6 for k, _, v in (line.partition(":") for line in lines) if "kB" in v}
        for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            put(out, f"{key} {when}", fields[key])

    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: size its terminal, then become the program
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    term = Term(fd)
    try:
        put(out, "first", term.wait_for(marker) - started)
        if probes:
            term.drain(0.3)
            memory("after first frame")
            for _ in range(5):
                sent = send(b"j")
                put(out, "pty_move", 1000 * (term.wait_for() - sent))  # the table's frame…
                put(out, "pty_settled", 1000 * (term.drain(0.25) - sent))  # …the details panel's, and any after
            sent = send(b"G")
            put(out, "pty_end", 1000 * (term.wait_for(probes[0]) - sent))
            term.drain(0.3)
            memory("after End")
            for keys in (b"/", probes[1][:-1]):  # the filter takes the focus, then the keys
                send(keys)
                term.drain(0.03)  # well inside the 150 ms debounce
            sent = send(probes[1][-1:])
            put(out, "pty_filter", 1000 * (term.wait_for(probes[2]) - sent))
            send(b"\x1b")
            term.drain(0.2)
        send(b"q")
        try:
            term.drain(10, limit=10)
        except EOFError:
            pass
    finally:
        deadline = time.perf_counter() + 5
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.perf_counter() > deadline:
                os.kill(pid, signal.SIGKILL)  # our own child, by its pid
            time.sleep(0.01)
        os.close(fd)


def import_breakdown() -> list[str]:
    """``-X importtime``: the top 8 cumulative imports of the app's modules and the self time by package."""
    code = "import sdsessions_tui.cli, sdsessions_tui.tui.app"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True).stderr
    rows = [line[12:].split("|") for line in err.splitlines() if line.startswith("import time:") and "[us]" not in line]
    entries = sorted(((int(cum), int(own), name.rstrip()) for own, cum, name in rows), reverse=True)
    packages: dict[str, int] = {}
    for _cum, own, name in entries:
        packages[name.split(".")[0].strip()] = packages.get(name.split(".")[0].strip(), 0) + own
    top = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in sorted(packages.items(), key=lambda i: -i[1])[:7])
    return [f"    {cum / 1000:7.1f} ms cumulative  {name[1:]}" for cum, _own, name in entries[:8]] + [
        f"    self time by package: {top} (all: {sum(packages.values()) / 1000:.0f} ms; -X importtime inflates)"]


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition never became true")
        await asyncio.sleep(0.001)


def stamp(obj: object, name: str, *, end: bool = False) -> list[float]:
    """Times of each call (``end``: return) of ``obj.name``, logged by an instance attribute wrapping it."""
    log: list[float] = []
    original = getattr(obj, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        log.append(time.perf_counter())
        result = original(*args, **kwargs)
        log[-1] = time.perf_counter() if end else log[-1]
        return result

    setattr(obj, name, wrapper)
    return log


def after(times: list[float], moment: float) -> float:
    return next(t for t in times if t > moment)


def press(app: SessionsApp, key: str) -> float:
    """Send one key as the terminal driver does, without Pilot's idle waits; the time it was sent."""
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))  # type: ignore[union-attr]
    return time.perf_counter()


async def big_db(db: Path, cache: Path, out: Figures) -> None:
    """Filter, cursor and details timings on the 100k database."""
    store = Store(db)
    total = len(store.list_ids())
    # on_started: as the CLI does, start-up objects leave the garbage collector's passes
    app = SessionsApp(store, [], thumbnail_cache=cache, refresh_on_start=False, on_started=tune_gc_after_start_up)
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        table = app.table
        await until(lambda: table.row_count == total and app.details_panel is not None, 30)
        panel = app.query_one("#details", DetailsPanel)
        frames, fired, results = (stamp(app.screen, "_compositor_refresh", end=True), stamp(app, "run_query"),
                                  stamp(app, "_show_result", end=True))
        rows_set = stamp(table, "set_ids", end=True)  # the result's head, or the whole result
        sql_start, sql_end = stamp(store, "list_ids"), stamp(store, "list_ids", end=True)
        for query in QUERIES:
            expected = len(store.list_ids(parse_query(query).filter))
            app.action_focus_filter()
            await pilot.press(*query[:-1])
            sent = press(app, query[-1])
            await until(lambda: results and results[-1] > sent and table.row_count == expected  # noqa: B023
                        and frames[-1] > results[-1])
            painted = after(frames, results[-1])
            rows_painted = after(frames, after(rows_set, sent))
            put(out, "filter_total", 1000 * (rows_painted - sent))
            put(out, "filter_after", 1000 * (rows_painted - fired[-1]))
            put(out, "filter_whole", 1000 * (painted - fired[-1]))
            put(out, "filter_head", 1000 * (rows_painted < painted))
            put(out, "filter_sql", 1000 * (sql_end[-1] - sql_start[-1]))
            put(out, "filter_paint", 1000 * (painted - results[-1]))
            app.filter_bar.query_input.value = ""
            await until(lambda: table.row_count == total and results[-1] > painted)  # noqa: B023
        app.action_focus_table()
        shown, pauses = stamp(app, "show_details"), list[float]()
        gc.callbacks.append(lambda phase, info: pauses.append(time.perf_counter() * (1 if phase == "stop" else -1))
                            if info["generation"] == 2 else None)
        for held in [False] * 30 + [True] * 100:  # single presses (the details settle in between), then ↓ held
            await asyncio.sleep(0 if held else 0.12)  # (Pilot.pause would force a frame)
            row, sent = table.cursor_row, press(app, "down")
            await until(lambda: table.cursor_row != row and frames[-1] > sent)  # noqa: B023
            put(out, "held" if held else "move", 1000 * (after(frames, sent) - sent))
        gc.callbacks.pop()
        out["gc2"] = [1000 * (b + a) for a, b in zip(pauses[::2], pauses[1::2], strict=False)]
        out["lines"] = [table.size.height]
        for cold in [True, False] * 20:
            if cold:
                table._strips.clear()  # the per-row strip cache (the rows stay cached)
            started = time.perf_counter()
            for y in range(table.size.height):
                table.render_line(y)
            put(out, "render_cold" if cold else "render_warm", 1000 * (time.perf_counter() - started))
        for _ in range(10):
            await asyncio.sleep(0.15)
            sent = press(app, "down")
            await until(lambda: shown and shown[-1] > sent and frames[-1] > shown[-1])  # noqa: B023
            put(out, "details_total", 1000 * (after(frames, shown[-1]) - sent))
            put(out, "details_after", 1000 * (after(frames, shown[-1]) - shown[-1]))
            row = table.row_at(table.cursor_row or 0)
            assert panel.stats and row and panel.stats.session_id == row.session_id
        for index in range(10):
            found = store.get_session(table.ids[index % 2])
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            panel.show(*found)  # type: ignore[misc]
            put(out, "show", 1000 * (time.perf_counter() - started))
            await until(lambda: frames[-1] > started)  # noqa: B023
            put(out, "show_frame", 1000 * (after(frames, started) - started))
    store.close()


async def thumbnails(tmp: Path, out: Figures) -> None:
    """Highlight → thumbnail shown and painted, from a warm cache: 6 sessions of one 832×1216 PNG each."""
    gradient = Image.linear_gradient("L").resize((832, 1216))
    for index in range(6):
        rng, when = random.Random(index), datetime(2025, 1, 1, 8, index)
        name = session_name(index, when, rng)
        manifest, files = build_manifest(name, when, 1, rng)
        (tmp / "sessions" / name).mkdir(parents=True)
        (tmp / "sessions" / name / "manifest.json").write_bytes(orjson.dumps(manifest))
        noise = Image.effect_noise((832, 1216), 30 + index)  # gradient + noise: a realistic PNG to decode
        Image.merge("RGB", (gradient, noise, gradient.rotate(180))).save(tmp / "sessions" / name / files[0])
    store = Store(tmp / "thumbs.db")
    refresh(store, [tmp / "sessions"])
    app = SessionsApp(store, [tmp / "sessions"], thumbnail_cache=tmp / "cache", refresh_on_start=False)
    async with app.run_test(size=(COLS, ROWS)):
        table = app.table
        await until(lambda: table.row_count == 6 and app.details_panel is not None)
        thumb = app.query_one("#details", DetailsPanel).thumbnail
        frames, timer, done = stamp(app.screen, "_compositor_refresh", end=True), stamp(thumb, "_start"), \
            stamp(thumb, "_show", end=True)
        for lap in range(3):  # lap 0 makes the cached thumbnails
            for key in ("home", "down", "down", "down", "down", "down"):
                await asyncio.sleep(0.05)
                sent = press(app, key)
                session = lambda: getattr(table.row_at(table.cursor_row or 0), "session_id", None)  # noqa: E731
                await until(lambda: thumb.state == "shown" and timer[-1] > sent and thumb.source  # noqa: B023
                            and thumb.source.parent.name == session() and frames[-1] > done[-1])  # noqa: B023
                if lap:
                    put(out, "thumb_total", 1000 * (after(frames, done[-1]) - sent))
                    put(out, "thumb_after", 1000 * (after(frames, done[-1]) - timer[-1]))
                    started = time.perf_counter()
                    # (token -1: no request of its own, its post is dropped)
                    thumb._load(-1, thumb.source, thumb.cache_dir, thumb.thumbnail_size)
                    put(out, "thumb_load", 1000 * (time.perf_counter() - started))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/sdbench/q100k.db"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db}: missing; build it with .venv/bin/python bench/bench_queries.py --keep {args.db}")
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    print(f"bench_tui: the TUI on {args.db} ({COLS}×{ROWS}); load average {load()} on {os.cpu_count()} cores")
    with Store(args.db) as store:
        ids = store.list_ids()
        rows = store.fetch_rows([ids[0], ids[-1]])
        counts = [f"{len(store.list_ids(parse_query(q).filter)):,} of {len(ids):,}".replace(",", " ") for q in QUERIES]
    # The date cell, a space and the name's start: one contiguous run, of one table line only.
    first, last = (f"{format_date(rows[key].session_created_at)} {''.join(t for t, _ in name_cell(rows[key]))[:12]}"
                   .encode() for key in (ids[0], ids[-1]))
    # pip compiles an installed package's bytecode; an editable install under PYTHONDONTWRITEBYTECODE
    # (set on this machine) would recompile every module at every launch (+90 ms), so compile it here.
    compileall.compile_dir(Path(sdsessions_tui.__file__).parent, quiet=1)
    figures: Figures = {}
    bare: Figures = {}
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as scratch:
        tmp = Path(scratch)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("TEXTUAL", "SDSESSIONS"))}
        env |= {"TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS), "XDG_CACHE_HOME": scratch,
                "XDG_DATA_HOME": scratch, "SDSESSIONS_CONFIG": str(tmp / "none.toml")}
        (tmp / "bare.py").write_text(BARE)
        cli = [str(Path(sys.executable).with_name("sdsessions")), "--db", str(args.db)]  # images: the default
        launch(cli, env, first, {})  # warm-up: page cache, .pyc files
        for run in range(args.runs):  # interleaved: both see the same machine load
            launch([sys.executable, str(tmp / "bare.py")], env, b"BARE-FIRST-FRAME", bare)
            query = QUERIES[run % len(QUERIES)]
            launch(cli, env, first, figures, (last, query.encode(), counts[run % len(QUERIES)].encode()))
        imports = import_breakdown()
        configure_images("halfcell")
        asyncio.run(big_db(args.db, tmp / "cache", figures))
        asyncio.run(thumbnails(tmp, figures))
    report(figures, bare, imports)
    print(f"  (load average after: {load()})")


def report(figures: Figures, bare: Figures, imports: list[str]) -> None:
    m = {key: median(values) for key, values in figures.items() if values}  # (no GC pause: none)
    app_s, bare_s, debounce = m["first"], median(bare["first"]), FILTER_DEBOUNCE * 1000
    runs = lambda key, f=figures, d=1: ", ".join(f"{v:.{d}f}" for v in f[key])  # noqa: E731
    p90 = lambda key: sorted(figures[key])[len(figures[key]) * 9 // 10]  # noqa: E731
    lines = [
        f"launch → first frame with rows: app {app_s:.3f} s ({runs('first', d=2)}); bare Textual {bare_s:.3f} s "
        f"({runs('first', bare, 2)})", "imports (python -X importtime):", *(line[2:] for line in imports),
        f"filter, last key → new rows painted ({', '.join(QUERIES)}): in-process {m['filter_total']:.0f} ms, "
        f"{m['filter_after']:.0f} ms after the debounce fired ({runs('filter_after')});",
        f"  the first {RESULT_HEAD} ids shown first in {sum(figures['filter_head']) / 1000:.0f} of "
        f"{len(figures['filter_head'])} queries; the whole result (count, scrollbar) {m['filter_whole']:.0f} ms after "
        f"the debounce ({runs('filter_whole')}) = its list_ids {m['filter_sql']:.0f} ms ({runs('filter_sql')}) + … + "
        f"result → painted {m['filter_paint']:.0f} ms; pty, last key → count shown {m['pty_filter']:.0f} ms "
        f"({debounce:.0f} ms debounce + {m['pty_filter'] - debounce:.0f})",
        f"cursor ↓ → frame: pty {m['pty_move']:.1f} ms (max {max(figures['pty_move']):.1f}); in-process "
        f"{m['move']:.1f} ms (p90 {p90('move'):.1f}); ↓ held {m['held']:.1f} ms (p90 {p90('held'):.1f}, "
        f"max {max(figures['held']):.0f})",
        f"  {len(figures['gc2'])} gen-2 GC pauses meanwhile (median {median(figures['gc2'] or [0]):.0f} ms); "
        f"render_line × {m['lines']:.0f} lines {m['render_cold']:.1f} ms (cold strips), {m['render_warm']:.1f} ms "
        f"(warm); End → last row drawn (pty) {m['pty_end']:.0f} ms",
        f"highlight → details painted: in-process {m['details_total']:.0f} ms incl. the "
        f"{DETAILS_DEBOUNCE * 1000:.0f} ms debounce, {m['details_after']:.1f} ms after it fired "
        f"({runs('details_after')});", f"  panel.show() {m['show']:.1f} ms, show() → frame painted "
        f"{m['show_frame']:.1f} ms; pty key → last output {m['pty_settled']:.0f} ms",
        f"thumbnail (warm cache): highlight → painted {m['thumb_total']:.0f} ms incl. "
        f"{(DETAILS_DEBOUNCE + THUMBNAIL_DELAY) * 1000:.0f} ms of debounces, {m['thumb_after']:.1f} ms after the "
        f"thumbnail timer; Thumbnail._load (cache hit + decode) {m['thumb_load']:.1f} ms",
        *(f"memory {when} (pty): VmRSS {m['VmRSS ' + when]:.0f} MB = RssAnon {m['RssAnon ' + when]:.0f} + "
          f"RssFile {m['RssFile ' + when]:.0f} (the mmap'd DB, libraries); VmHWM {m['VmHWM ' + when]:.0f} MB"
          for when in ("after first frame", "after End"))]
    print(*(f"  {line}" for line in lines), sep="\n")
    print(f"\n  {'summary (medians)':<44} {'value':>8}")
    for label, value, target in [
            ("launch → first frame with rows (s)", app_s, 0.5),
            ("  ratio to a bare Textual app", app_s / bare_s, 1.5),
            ("filter key → new rows, after debounce (ms)", m["filter_after"], 50.0),
            ("cursor move → frame, pty (ms)", m["pty_move"], FRAME_MS),
            ("cursor move → frame, in-process (ms)", m["move"], FRAME_MS),
            ("highlight → details, after debounce (ms)", m["details_after"], 30.0),
            ("highlight → thumbnail, after debounces (ms)", m["thumb_after"], 100.0),
            ("VmRSS after End (MB)", m["VmRSS after End"], 150.0),
            ("  of which anonymous (MB)", m["RssAnon after End"], 150.0)]:
        print(f"  {label:<44} {value:8.3f}  {verdict(value, target)}")


if __name__ == "__main__":
    main()
