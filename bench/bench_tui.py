"""Benchmark: the TUI on a database of 100 000 sessions.

Targets (issue text): process launch → first frame with rows ≤ 0.5 s, and ≤ 1.5× a bare Textual
app's launch → first frame measured in the same run; filter keystroke → table updated ≤ 50 ms
(judged from the moment the 150 ms debounce fires); cursor move = one frame (16.7 ms at 60 fps);
highlight → details panel ≤ 30 ms and thumbnail ≤ 100 ms from the cache (both judged after the
app's debounces); RSS ≤ 150 MB.

Launch, key → frame and memory: the real ``sdsessions`` CLI in a 160×50 pseudo-terminal (``--db``
the 100k database, ``--images none``, no ROOT), 5 runs interleaved with a bare Textual app.  The
rest runs in-process under ``App.run_test(size=(160, 50))``, timed to the end of the next
compositor frame (keys go straight to the driver: ``Pilot.press`` waits for CPU idle in 20 ms
steps, which would swamp the figures).  The database is bench_queries.py's (``--keep FILE``).
Run with ``.venv/bin/python bench/bench_tui.py [--db /tmp/sdbench/q100k.db]``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
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

from sdsessions_tui.core.query import parse_query
from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import DETAILS_DEBOUNCE, FILTER_DEBOUNCE, THUMBNAIL_DELAY, SessionsApp
from sdsessions_tui.tui.details import DetailsPanel, Thumbnail, configure_images
from sdsessions_tui.tui.session_table import format_date

COLS, ROWS, FRAME_MS = 160, 50, 1000 / 60
QUERIES = ["model:pony", "status:aborted", "smile", "is:liked", "steps:20-30"]
BARE = "from textual.app import App\nfrom textual.widgets import Static\nclass Bare(App):\n" \
       "    BINDINGS = [('q', 'quit', 'Quit')]\n    def compose(self):\n        yield Static('BARE-FIRST-FRAME')\n" \
       "Bare().run()\n"
Figures = dict[str, list[float]]


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

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> float:
        """Seconds (perf_counter) when ``marker`` shows up after the previous match."""
        deadline = time.perf_counter() + timeout
        while (found := self.buf.find(marker, self.pos)) < 0:
            if not self.read(deadline - time.perf_counter()) and time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} never shown; output ends {bytes(self.buf[-300:])!r}")
        self.pos = found + len(marker)
        return self.last

    def wait_any(self, timeout: float = 5.0) -> float:
        while len(self.buf) == self.pos:
            if not self.read(timeout):
                raise TimeoutError("no output")
        self.pos = len(self.buf)
        return self.last

    def drain(self, quiet: float) -> float:
        """Read until ``quiet`` seconds pass without output; the time of the last output."""
        while self.read(quiet):
            pass
        self.pos = len(self.buf)
        return self.last


def spawn(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: size its terminal, then become the program
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


def memory(pid: int, out: Figures, when: str) -> None:
    """VmRSS (= RssAnon + RssFile), VmHWM, in MB (10⁶ bytes), from /proc."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {k: int(v.split()[0]) * 1024 / 1e6 for k, _, v in (line.partition(":") for line in lines) if "kB" in v}
    for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
        out.setdefault(f"{key} {when}", []).append(fields[key])


def launch(argv: list[str], env: dict[str, str], marker: bytes, out: Figures,
           probes: tuple[bytes, bytes, bytes] | None = None) -> None:
    """Launch → first frame; with ``probes`` (last row, filter keys, count text) the app's key timings too."""
    started = time.perf_counter()
    pid, fd = spawn(argv, env)
    term = Term(fd)
    try:
        out.setdefault("first", []).append(term.wait_for(marker) - started)
        if probes:
            term.drain(0.3)
            memory(pid, out, "after first frame")
            for _ in range(5):
                sent = time.perf_counter()
                os.write(fd, b"j")
                out.setdefault("pty_move", []).append(1000 * (term.wait_any() - sent))  # the table's frame
                out.setdefault("pty_details", []).append(1000 * (term.drain(0.25) - sent))  # then the details
            sent = time.perf_counter()
            os.write(fd, b"G")
            out.setdefault("pty_end", []).append(1000 * (term.wait_for(probes[0]) - sent))
            term.drain(0.3)
            memory(pid, out, "after End")
            os.write(fd, b"/" + probes[1][:-1])
            term.drain(0.03)  # well inside the 150 ms debounce
            sent = time.perf_counter()
            os.write(fd, probes[1][-1:])
            out.setdefault("pty_filter", []).append(1000 * (term.wait_for(probes[2]) - sent))
            os.write(fd, b"\x1b")
            term.drain(0.2)
        os.write(fd, b"q")
        try:
            term.drain(10)
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
    """``-X importtime`` of the app's modules: the top 8 cumulative imports and self time by package."""
    code = "import sdsessions_tui.cli, sdsessions_tui.tui.app"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True).stderr
    rows = [line[12:].split("|") for line in err.splitlines() if line.startswith("import time:") and "[us]" not in line]
    entries = sorted(((int(cum), int(own), name.rstrip()) for own, cum, name in rows), reverse=True)
    lines = [f"    {cum / 1000:7.1f} ms cumulative  {name[1:]}" for cum, _own, name in entries[:8]]
    packages: dict[str, int] = {}
    for _cum, own, name in entries:
        packages[name.split(".")[0].strip()] = packages.get(name.split(".")[0].strip(), 0) + own
    top = sorted(packages.items(), key=lambda item: -item[1])[:7]
    return lines + [f"    self time by package: {', '.join(f'{name} {us / 1000:.0f} ms' for name, us in top)} "
                    f"(all: {sum(packages.values()) / 1000:.0f} ms; -X importtime inflates)"]


async def until(condition: Callable[[], object], timeout: float = 10.0) -> float:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition never became true")
        await asyncio.sleep(0.0002)
    return time.perf_counter()


def stamp(obj: object, name: str, log: list[float], *, end: bool = False) -> None:
    """Log perf_counter() at each call (or return) of ``obj.name``: an instance attribute wraps the method."""
    original = getattr(obj, name)

    def wrapper(*args: object) -> object:
        log.append(time.perf_counter())
        result = original(*args)
        if end:
            log[-1] = time.perf_counter()
        return result

    setattr(obj, name, wrapper)


def press(app: SessionsApp, key: str) -> float:
    """Send one key the way the terminal driver does, without Pilot's idle waits; the time sent."""
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))  # type: ignore[union-attr]
    return time.perf_counter()


async def big_db(db: Path, cache: Path, out: Figures) -> None:
    """Filter, cursor and details timings on the 100k database."""
    store = Store(db)
    total = len(store.list_ids())
    app = SessionsApp(store, [], thumbnail_cache=cache, refresh_on_start=False)
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        table, panel = app.table, app.query_one("#details", DetailsPanel)
        frames: list[float] = []
        stamp(app.screen, "_compositor_refresh", frames, end=True)
        fired: list[float] = []
        await until(lambda: table.row_count == total, 30)
        stamp(app, "run_query", fired)
        for query in QUERIES:
            expected = len(store.list_ids(parse_query(query).filter))
            app.action_focus_filter()
            await pilot.press(*query[:-1])
            before, sent = table.ids, press(app, query[-1])
            done = await until(lambda: fired and fired[-1] > sent and table.ids is not before  # noqa: B023
                               and table.row_count == expected)  # noqa: B023
            painted = await until(lambda: frames[-1] > done)  # noqa: B023
            out.setdefault("filter_total", []).append(1000 * (painted - sent))
            out.setdefault("filter_after", []).append(1000 * (painted - fired[-1]))
            app.filter_bar.query_input.value = ""
            await until(lambda: table.row_count == total and fired[-1] > done)  # noqa: B023
        app.action_focus_table()
        await pilot.press("home")
        await pilot.pause(0.1)
        for _ in range(100):  # holding ↓: the details debounce never fires
            row, sent = table.cursor_row, press(app, "down")
            out.setdefault("move", []).append(1000 * (await until(lambda: table.cursor_row != row  # noqa: B023
                                                                   and frames[-1] > sent) - sent))  # noqa: B023
        for cold in [True, False] * 20:
            if cold:
                table._strips.clear()  # the per-row strip cache (the rows stay cached)
            started = time.perf_counter()
            for y in range(table.size.height):
                table.render_line(y)
            out["lines"] = [table.size.height]
            out.setdefault("render_cold" if cold else "render_warm", []).append(1000 * (time.perf_counter() - started))
        fires: list[float] = []
        stamp(app, "_show_details", fires)
        for _ in range(10):
            await pilot.pause(0.1)
            sent = press(app, "down")
            await until(lambda: fires and fires[-1] > sent)  # noqa: B023
            painted = await until(lambda: frames[-1] > fires[-1])
            out.setdefault("details_total", []).append(1000 * (painted - sent))
            out.setdefault("details_after", []).append(1000 * (painted - fires[-1]))
            assert panel.stats is not None and panel.stats.session_id == table.row_at(table.cursor_row or 0).session_id  # type: ignore[union-attr]
        for index in range(10):
            found = store.get_session(table.ids[index % 2])
            assert found is not None
            await pilot.pause(0.05)
            started = time.perf_counter()
            panel.show(*found)
            shown = time.perf_counter()
            painted = await until(lambda: frames[-1] > shown)  # noqa: B023
            out.setdefault("show", []).append(1000 * (shown - started))
            out.setdefault("show_frame", []).append(1000 * (painted - started))
    store.close()


async def thumbnails(tmp: Path, out: Figures) -> None:
    """Highlight → thumbnail shown and painted, from a warm cache: 6 sessions of one 832×1216 PNG."""
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
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        table, thumb = app.table, app.query_one("#details", DetailsPanel).thumbnail
        frames: list[float] = []
        stamp(app.screen, "_compositor_refresh", frames, end=True)
        timer: list[float] = []
        stamp(thumb, "_start", timer)
        await until(lambda: table.row_count == 6)
        for lap in range(3):  # lap 0 makes the cached thumbnails
            for key in ("home", "down", "down", "down", "down", "down"):
                await pilot.pause(0.05)
                sent = press(app, key)
                shown = await until(lambda: table.cursor_key is not None and thumb.state == "shown" and timer[-1] > sent  # noqa: B023
                            and thumb.source is not None and thumb.source.parent.name == table.row_at(
                                table.cursor_row or 0).session_id)  # type: ignore[union-attr]
                painted = await until(lambda: frames[-1] > shown)  # noqa: B023
                if lap:
                    out.setdefault("thumb_total", []).append(1000 * (painted - sent))
                    out.setdefault("thumb_after", []).append(1000 * (painted - timer[-1]))
                    started = time.perf_counter()
                    Thumbnail._load(0, thumb.source, thumb.cache_dir, thumb.thumbnail_size)  # type: ignore[arg-type]
                    out.setdefault("thumb_load", []).append(1000 * (time.perf_counter() - started))
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
    first, last = (f"{format_date(rows[key].session_created_at)} {rows[key].session_id[:12]}".encode()
                   for key in (ids[0], ids[-1]))
    figures: Figures = {}
    bare: Figures = {}
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as scratch:
        tmp = Path(scratch)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("TEXTUAL", "SDSESSIONS"))}
        env |= {"TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS), "XDG_CACHE_HOME": scratch,
                "XDG_DATA_HOME": scratch, "SDSESSIONS_CONFIG": str(tmp / "none.toml")}
        (tmp / "bare.py").write_text(BARE)
        cli = [str(Path(sys.executable).with_name("sdsessions")), "--db", str(args.db), "--images", "none"]
        bare_app = [sys.executable, str(tmp / "bare.py")]
        launch(cli, env, first, {})  # warm-up: page cache, .pyc files
        for run in range(args.runs):  # interleaved: both see the same machine load
            launch(bare_app, env, b"BARE-FIRST-FRAME", bare)
            query = QUERIES[run % len(QUERIES)]
            launch(cli, env, first, figures, (last, query.encode(), counts[run % len(QUERIES)].encode()))
        imports = import_breakdown()
        configure_images("halfcell")
        asyncio.run(big_db(args.db, tmp / "cache", figures))
        asyncio.run(thumbnails(tmp, figures))
    m = {key: median(values) for key, values in figures.items()}
    app_s, bare_s = m["first"], median(bare["first"])
    runs = lambda values: ", ".join(f"{v:.2f}" for v in values)  # noqa: E731
    print(f"  launch → first frame with rows: app {app_s:.3f} s ({runs(figures['first'])}); "
          f"bare Textual {bare_s:.3f} s ({runs(bare['first'])})")
    print("  imports of sdsessions_tui.cli + sdsessions_tui.tui.app (python -X importtime):", *imports, sep="\n")
    print(f"  filter, last keystroke → table painted ({', '.join(QUERIES)}): in-process {m['filter_total']:.1f} ms, "
          f"{m['filter_after']:.1f} ms after the {FILTER_DEBOUNCE * 1000:.0f} ms debounce fired ({runs(figures['filter_after'])});"
          f" pty {m['pty_filter']:.1f} ms, minus the debounce {m['pty_filter'] - 1000 * FILTER_DEBOUNCE:.1f} ms")
    print(f"  cursor ↓ → frame: pty {m['pty_move']:.1f} ms (max {max(figures['pty_move']):.1f}); in-process "
          f"{m['move']:.1f} ms (max {max(figures['move']):.1f}, 100 moves); table.render_line × {m['lines']:.0f}"
          f" lines: {m['render_cold']:.2f} ms cold strips, {m['render_warm']:.2f} ms warm; End → last row (pty)"
          f" {m['pty_end']:.1f} ms")
    print(f"  highlight → details painted: pty {m['pty_details']:.1f} ms, in-process {m['details_total']:.1f} ms incl."
          f" the {DETAILS_DEBOUNCE * 1000:.0f} ms debounce, {m['details_after']:.1f} ms after it fired; "
          f"panel.show() {m['show']:.2f} ms, show() → frame painted {m['show_frame']:.1f} ms")
    print(f"  thumbnail (cache warm): highlight → painted {m['thumb_total']:.1f} ms incl. "
          f"{(DETAILS_DEBOUNCE + THUMBNAIL_DELAY) * 1000:.0f} ms of debounces; {m['thumb_after']:.1f} ms from the "
          f"thumbnail timer; Thumbnail._load (cache hit + decode) {m['thumb_load']:.2f} ms")
    for when in ("after first frame", "after End"):
        print(f"  memory {when} (pty): VmRSS {m['VmRSS ' + when]:.0f} MB = RssAnon {m['RssAnon ' + when]:.0f} + "
              f"RssFile {m['RssFile ' + when]:.0f} (the mmap'd DB, libraries); VmHWM {m['VmHWM ' + when]:.0f} MB")
    summary = [("launch → first frame with rows (s)", app_s, 0.5), ("  ratio to a bare Textual app (×)", app_s / bare_s, 1.5),
               ("filter keystroke → table, after debounce (ms)", m["filter_after"], 50.0),
               ("cursor move → frame, pty (ms)", m["pty_move"], FRAME_MS),
               ("cursor move → frame, in-process (ms)", m["move"], FRAME_MS),
               ("highlight → details, after debounce (ms)", m["details_after"], 30.0),
               ("highlight → thumbnail, after debounces (ms)", m["thumb_after"], 100.0),
               ("VmRSS after End (MB)", m["VmRSS after End"], 150.0),
               ("  of which anonymous (MB)", m["RssAnon after End"], 150.0)]
    print(f"\n  {'summary (medians)':<46} {'value':>8}")
    for label, value, target in summary:
        print(f"  {label:<46} {value:8.3f}  {verdict(value, target)}")
    print(f"  (load average after: {load()})")


if __name__ == "__main__":
    main()
