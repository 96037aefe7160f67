"""The ``sdsessions`` command line.

Sub-commands (``demo``, ``export``, ``import-webui-db``) are dispatched by
hand because the default command takes free positional roots, which argparse
sub-parsers cannot mix with.  This module imports core only: the headless
commands must never load Textual.

Exit codes: 0 success (even when some sessions were unreadable: they are
reported), 1 the database cannot be opened or written, 2 usage errors or a
missing root, 141 (as SIGPIPE) when the reader of the output went away.  The app
also exits 1 after an unexpected error or when an edit had to be kept in the
recovery file, and 129 (as SIGHUP) when its terminal went away.  Errors are one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:  # (the commands import these lazily: `demo` and `--help` need none)
    from .core.config import Config
    from .core.filters import ParsedQuery
    from .core.store import Store

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: What a shell reports for a program ended by SIGPIPE (128 + 13), as C tools are.
EXIT_BROKEN_PIPE = 141
IMAGE_PROTOCOLS = ("auto", "halfcell", "unicode", "sixel", "tgp", "none")


class UsageError(Exception):
    """A bad command line or a missing input: exit code 2."""


def _db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="the database file (default: $SDSESSIONS_DB, else the user data folder)")


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdsessions",
        description="Browse Stable Diffusion generation sessions (local-sd-generator output folders).",
        epilog="Other commands: 'sdsessions demo DIR', 'sdsessions list ROOT...', 'sdsessions export', "
               "'sdsessions import-webui-db PATH', 'sdsessions locate config|db|cache' (each with --help).",
    )
    parser.add_argument("roots", nargs="*", metavar="ROOT",
                        help="folders that hold session folders (default: the remembered ones)")
    _db_argument(parser)
    parser.add_argument("--images", choices=IMAGE_PROTOCOLS, metavar="MODE",
                        help="thumbnails: auto, halfcell (default, works over any SSH link), unicode, sixel, tgp, none")
    parser.add_argument("--refresh-all", action="store_true",
                        help="headless: bring the database up to date with ROOTs and exit")
    parser.add_argument("--watch", action="store_true",
                        help="headless: refresh ROOTs, then keep the database current as sessions are written "
                             "(until Ctrl+C or SIGTERM); for a systemd unit or a tmux pane")
    parser.add_argument("--poll", action="store_true",
                        help="watch by polling instead of file notifications (network drives, WSL /mnt)")
    parser.add_argument("--force", action="store_true", help="with --refresh-all: re-read every session")
    parser.add_argument("--json", action="store_true", help="with --refresh-all: print the summary as JSON")
    parser.add_argument("--version", action="version", version=f"sdsessions {__version__}")
    return parser


def _demo_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdsessions demo", description="Write a realistic demo sessions tree.")
    parser.add_argument("directory", type=Path, metavar="DIR", help="where to write it (new or empty folder)")
    parser.add_argument("--sessions", type=int, default=80, metavar="N", help="how many sessions (default 80)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    return parser


def _list_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdsessions list",
                                     description="Read the sessions under ROOTs now (no database needed) and print "
                                                 "them newest first: a table on a terminal, tab-separated rows "
                                                 "when piped.")
    parser.add_argument("roots", nargs="+", metavar="ROOT", help="folders that hold session folders")
    parser.add_argument("--query", metavar="Q", help="only sessions matching this filter query (not tags, flags, "
                                                     "ratings: those are in the database, see export)")
    parser.add_argument("--json", action="store_true", help="print the sessions' stats as a JSON array")
    return parser


def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdsessions export",
                                     description="Write sessions with their stats and metadata as JSON or CSV.")
    _db_argument(parser)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument("--query", metavar="Q", help="only sessions matching this filter query")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")
    return parser


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdsessions import-webui-db",
                                     description="Copy tags, flags, ratings and notes from the generator "
                                                 "web UI's sessions.db (opened read-only).")
    parser.add_argument("webui_db", type=Path, metavar="PATH", help="the web UI's metadata/sessions.db")
    _db_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _locate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdsessions locate",
                                     description="Print where sdsessions keeps its config file, database or cache.")
    parser.add_argument("what", choices=("config", "db", "cache"),
                        help="config: the config file (may not exist yet); db: the database in use "
                             "(--db > $SDSESSIONS_DB > db in the config file > default); cache: the cache folder")
    _db_argument(parser)
    return parser


def _run_locate(args: argparse.Namespace) -> int:
    from .core.config import cache_dir, config_path, locations

    if args.what == "config":
        print(config_path())  # never parses the file: a broken config must still be findable
    elif args.what == "cache":
        print(cache_dir())
    else:
        print(locations(_settings(args))["db"])
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Config:
    """The config file with this command line's flags over it (flag > file > default)."""
    from .core.config import load_config, merge

    return merge(load_config(), roots=getattr(args, "roots", None), db=getattr(args, "db", None),
                 images=getattr(args, "images", None))


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()  # what --refresh-all reports: the whole command, imports and DB opening included
    args = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, tuple[Callable[[], argparse.ArgumentParser], Callable[[argparse.Namespace], int]]] = {
        "demo": (_demo_parser, _run_demo),
        "list": (_list_parser, _run_list),
        "export": (_export_parser, _run_export),
        "import-webui-db": (_import_parser, _run_import),
        "locate": (_locate_parser, _run_locate),
    }
    from .core.config import ConfigError
    from .core.db import StoreError
    from .core.text import clean_text

    try:
        if args[:1] and args[0] in commands:
            make_parser, run = commands[args[0]]
            code = run(make_parser().parse_args(args[1:]))
        else:
            code = _run_main(_main_parser().parse_args(args, namespace=argparse.Namespace(started=started)))
        sys.stdout.flush()  # a reader gone meanwhile shows here, not as an error at the interpreter's exit
        return code
    except (UsageError, ConfigError) as error:
        print(clean_text(f"sdsessions: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        print(clean_text(f"sdsessions: {error}"), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("sdsessions: interrupted; what was written so far is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sdsessions list ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return EXIT_BROKEN_PIPE


def _open_store(path: Path | None, *, create: bool = True, writes: bool = False) -> Store:
    """The store at ``path``; the backup and upgrade of an older database show their progress.

    ``create=False`` for the read-only commands: a missing database is an error, never made.
    ``writes`` for the commands that must write: a read-only database fails now, not after the work.
    """
    from .core import db
    from .core.store import Store
    from .core.text import clean_text

    resolved = path.expanduser() if path is not None else db.default_db_path()
    version = db.check_database(resolved, create=create)
    if writes:
        db.check_writable(resolved)
    if 0 < version < db.SCHEMA_VERSION:
        from .progress import progress_reporter

        with progress_reporter("Upgrading the database") as report:
            store = Store(resolved, progress=report)
        print(clean_text(f"sdsessions: upgraded {resolved} to schema {db.SCHEMA_VERSION}; the old file is kept "
                         f"as {store.backup}"), file=sys.stderr)
        return store
    return Store(resolved)


def _check_roots(roots: Sequence[str]) -> None:
    if not roots:
        raise UsageError("give at least one sessions folder (ROOT)")
    for root in roots:
        if not Path(root).expanduser().is_dir():
            raise UsageError(f"{root}: no such folder")


def _run_main(args: argparse.Namespace) -> int:
    if args.refresh_all and args.watch:
        raise UsageError("--refresh-all and --watch do not go together (--watch refreshes first)")
    if args.refresh_all:
        return _run_refresh(args)
    if args.force or args.json:
        raise UsageError("--force and --json go with --refresh-all")
    if args.watch:
        return _run_watch(args)
    for root in args.roots:
        if not Path(root).expanduser().is_dir():
            raise UsageError(f"{root}: no such folder")
    return _run_app(args)


def _parse_query(text: str | None) -> ParsedQuery | None:
    """``--query`` parsed, or None without one; a bad query is a usage error."""
    if text is None:
        return None
    from .core.query import QueryError, parse_query

    try:
        return parse_query(text)
    except QueryError as error:
        raise UsageError(f"--query: {error}") from None


def _run_list(args: argparse.Namespace) -> int:
    from .report import ListQueryError, check_query, print_sessions

    _check_roots(args.roots)
    query = _parse_query(args.query)
    if query is not None:
        try:
            check_query(query)
        except ListQueryError as error:
            raise UsageError(f"list --query: {error}") from None
    return print_sessions(args.roots, query, as_json=args.json)


def _run_app(args: argparse.Namespace) -> int:
    """Open the TUI on ROOTs (or the remembered roots); the DB shows first, the refresh follows."""
    # Start-up allocates for good (Textual's classes, stylesheets, the widgets): collecting
    # meanwhile only re-scans a growing heap (~30 ms of the launch).  Frozen once the app has
    # started, so later passes scan only what the session allocates (a full pass over the
    # start-up objects took 41 ms: a dropped frame whenever it ran).
    gc.disable()
    try:
        return _open_app(args)
    finally:
        gc.enable()


#: Young-generation threshold and middle-generation count after start-up (Python's: 700, 10).
#: Browsing churns through Textual's strips (seven small caches each): with the defaults, 300
#: key presses cost 1.1 s of collections, 18 of them full passes of up to 34 ms (a dropped frame
#: each); with these, 0.5 s and no full pass (bench: see README).
GC_THRESHOLDS = (5000, 20, 10)


def tune_gc_after_start_up() -> None:
    """Freeze the start-up objects out of every collection, then collect less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()


def _open_app(args: argparse.Namespace) -> int:
    from .core.config import validate_keymap
    from .tui.commands import COMMANDS

    config = _settings(args)
    validate_keymap(config, [command.id for command in COMMANDS])
    if config.theme is not None:
        from textual.theme import BUILTIN_THEMES

        if config.theme not in BUILTIN_THEMES:
            raise UsageError(f'{config.source}: theme "{config.theme}" is not a Textual theme '
                             f"(known: {', '.join(sorted(BUILTIN_THEMES))})")
    store = _open_store(config.db)
    try:
        roots = [root.resolve() for root in config.roots]  # flag ROOTs, else the config file's
        if not roots:
            roots = [Path(root) for root in store.known_roots()]
        # The first screen's query runs (sqlite3 releases the GIL) while Textual is imported.
        with ThreadPoolExecutor(1, thread_name_prefix="first-query") as pool:
            first_ids = pool.submit(store.list_ids)
            from .tui.images import configure_images

            configure_images(config.images)  # before App.run: an `auto` probe must not race the app
            from .tui.app import SessionsApp

            app = SessionsApp(store, roots, keymap=config.keymap, theme=config.theme, first_ids=first_ids,
                              advance_after_rating=config.advance_after_rating, poll=args.poll,
                              on_started=tune_gc_after_start_up)
            app.run()
    finally:
        store.close()
    app.lifeline.say_note()  # where edits that could not be saved went, if any
    if app.crash_line is not None:
        print(app.crash_line, file=sys.stderr)
    return app.return_code or EXIT_OK


def _run_refresh(args: argparse.Namespace) -> int:
    from .core.refresh import refresh
    from .progress import progress_reporter

    _check_roots(args.roots)
    store = _open_store(_settings(args).db, writes=True)
    try:
        with progress_reporter("Refreshing sessions") as report:
            summary = refresh(store, args.roots, force=args.force, progress=report)
    finally:
        store.close()
    summary.seconds = time.monotonic() - args.started  # the wall time the user waited, not just the scan
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False))
        return EXIT_OK
    from .core.text import clean_text

    print(f"{summary.found} sessions found: {summary.new} new, {summary.updated} updated "
          f"({summary.relinked} relinked after a rename), {summary.unchanged} unchanged, "
          f"{summary.unavailable} now unavailable, {len(summary.unreadable)} unreadable "
          f"({summary.seconds:.1f} s)")
    for path, reason in summary.unreadable:
        print(clean_text(f"  unreadable: {path}: {reason}"))
    for path, reason in summary.problems:
        print(clean_text(f"  skipped: {path}: {reason}"))
    return EXIT_OK


def _run_watch(args: argparse.Namespace) -> int:
    """Refresh ROOTs, then apply every change as it happens until Ctrl+C, SIGTERM or SIGHUP."""
    import signal
    import threading

    from .core.refresh import refresh
    from .core.text import clean_text
    from .core.watch import WatchBatch, watch
    from .progress import progress_reporter

    _check_roots(args.roots)
    store = _open_store(_settings(args).db, writes=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())

    def say(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {clean_text(text)}", flush=True)

    def report(batch: WatchBatch) -> None:
        say(f"{batch.new} new, {batch.updated} updated, {batch.relinked} relinked, "
            f"{batch.unavailable} now unavailable ({batch.seconds * 1000:.0f} ms)")

    try:
        with progress_reporter("Refreshing sessions") as progress:
            summary = refresh(store, args.roots, progress=progress)
        say(f"{summary.found} sessions ({summary.new} new, {summary.updated} updated)")
        watch(store, args.roots, stop, poll=args.poll, on_batch=report, notice=say,
              on_ready=lambda: say(f"watching {', '.join(args.roots)} — Ctrl+C stops"))
    finally:
        store.close()
    say("stopped")
    return EXIT_OK


def _run_export(args: argparse.Namespace) -> int:
    from .core.export import columns, iter_records, write_csv, write_json

    parsed = _parse_query(args.query)
    session_filter, sort = (parsed.filter, parsed.sort) if parsed is not None else (None, None)
    store = _open_store(_settings(args).db, create=False)
    try:
        writer = partial(write_csv, fieldnames=columns(store)) if args.format == "csv" else write_json
        records = iter_records(store, session_filter, sort)
        if args.output is None:
            count = writer(records, sys.stdout)
            sys.stdout.flush()  # all of it delivered before "exported N" is said
        else:
            try:
                with open(args.output, "w", encoding="utf-8", newline="") as out:
                    count = writer(records, out)
            except OSError as error:
                raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    finally:
        store.close()
    print(f"exported {count} sessions", file=sys.stderr)
    return EXIT_OK


def _run_import(args: argparse.Namespace) -> int:
    from .core.text import clean_text
    from .core.webui_import import WebUIImportError, import_webui_db

    store = _open_store(_settings(args).db, writes=True)
    try:
        report = import_webui_db(store, args.webui_db)
    except WebUIImportError as error:
        raise UsageError(str(error)) from None
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return EXIT_OK
    print(f"{report.rows} web UI rows: {report.changed} merged, {report.unchanged} already up to date, "
          f"{len(report.conflicts)} conflicts (ours kept)")
    for conflict in report.conflicts:
        print(clean_text(f"  conflict: {conflict}"))
    for shared in report.shared:
        print(clean_text(f"  same folder name: {shared}"))
    if report.pending:
        print(f"  {report.pending} rows wait for folders not seen yet (merged when a refresh finds them)")
    return EXIT_OK


def _run_demo(args: argparse.Namespace) -> int:
    from .core.demo import write_demo_tree
    from .core.text import clean_text
    from .progress import progress_reporter

    if args.sessions < 1:
        raise UsageError("demo: --sessions must be at least 1")
    with progress_reporter("Writing demo sessions") as report:
        try:
            summary = write_demo_tree(args.directory, args.sessions, args.seed, progress=report)
        except (FileExistsError, NotADirectoryError, PermissionError) as error:
            raise UsageError(f"demo: {error}") from None
        except OSError as error:
            print(clean_text(f"sdsessions demo: cannot write {args.directory}: {error.strerror or error}"),
                  file=sys.stderr)
            return EXIT_FAILURE
    print(clean_text(f"Wrote {summary.sessions} sessions ({summary.images} images) to {summary.root}"))
    return EXIT_OK
