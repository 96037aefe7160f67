"""``sdsessions list``: the sessions under some folders, read now, as a table, plain rows or JSON.

The folders are read into a throwaway database in a temporary folder, so the
list filters (``--query``) and sorts exactly as the app does, newest first by
default, with the same completion rule; the user's database is neither needed
nor touched, which is also why the query may not use tags, flags, ratings or
notes (they live in that database: ``export`` has them).  On a terminal the
table fits its width; piped, it prints tab-separated rows for scripts.  Every
value from disk goes through ``clean_text`` and into Rich ``Text`` objects, so
markup or control characters in a prompt or folder name are printed literally.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .core.export import iter_records, write_json
from .core.filters import ParsedQuery, SessionFilter, SessionSort
from .core.flags import FLAGS, LIKED
from .core.refresh import refresh
from .core.status import completion_label, completion_style
from .core.store import SessionRow, Store
from .core.text import clean_text, display_model, format_date
from .progress import progress_reporter

STATUS_STYLES = {
    "running": "bold cyan",
    "completed": "green",
    "completed_with_failures": "yellow",
    "aborted": "red",
    "stale": "magenta",
    "incomplete": "yellow",
    "unknown": "dim",
}
#: Filter fields and sort columns that only the user's database knows.
_METADATA_FIELDS = (*(flag.label for flag in FLAGS), "ratings", "exclude_ratings", "tags_all", "tags_any", "tags_none")
_METADATA_SORTS = frozenset({LIKED.label, "rating", "tags", "updated"})
#: Tab-separated columns when piped.
PLAIN_COLUMNS = ("date", "name", "model", "images", "done", "status", "flags", "error", "folder")
#: Cells between columns on a terminal; the narrowest name, model and status shown, and the widths
#: they first grow to, in turn (80 columns give each of them about these).
_GAP, _MIN_NAME, _MIN_MODEL, _MIN_STATUS = 1, 10, 8, 9
_READABLE = {"name": 20, "status": 17, "model": 16}


class ListQueryError(ValueError):
    """A ``--query`` that ``list`` cannot answer (it names the user's metadata)."""


def check_query(parsed: ParsedQuery) -> None:
    """Refuse terms about tags, flags, ratings or notes: ``list`` reads folders, which hold none."""
    default = SessionFilter()
    fields = [name for name in _METADATA_FIELDS if getattr(parsed.filter, name) != getattr(default, name)]
    if fields or (parsed.sort is not None and parsed.sort.column in _METADATA_SORTS):
        raise ListQueryError(f"tags, flags ({', '.join(flag.term for flag in FLAGS)}), ratings and their sorts are "
                             "kept in the database, not in the folders list reads; use 'sdsessions export --query'")


def print_sessions(roots: Sequence[str], query: ParsedQuery | None = None, *, as_json: bool = False,
                   console: Console | None = None) -> int:
    """Read every session under ``roots`` and print those matching ``query`` (see the module docstring)."""
    console = console or Console()
    query = query or ParsedQuery()
    with tempfile.TemporaryDirectory(prefix="sdsessions-list-") as folder, Store(Path(folder) / "list.db") as store:
        with progress_reporter("Reading sessions") as report:
            summary = refresh(store, roots, progress=report)
        for path, reason in summary.problems:
            print(clean_text(f"sdsessions: warning: {path}: {reason}"), file=sys.stderr)
        session_filter, sort = query.filter, query.sort or SessionSort()
        if as_json:
            write_json(_stats_records(store, session_filter, sort), sys.stdout)
            return 0
        ids = store.list_ids(session_filter, sort)
        rows = store.fetch_rows(ids)
        ordered = [rows[key] for key in ids]
    if console.is_terminal:
        console.print(_table(ordered, console.width))
        shown = f"{len(ordered)} of {summary.found}" if query.filter != SessionFilter() else f"{len(ordered)}"
        console.print(Text(f"{shown} session{'' if shown == '1' else 's'}", style="dim"))
    else:
        _print_plain(ordered)
    return 0


def _stats_records(store: Store, session_filter: SessionFilter, sort: SessionSort) -> Iterator[dict[str, Any]]:
    """Export's records without what only the throwaway database has (its ids, empty metadata)."""
    columns = [name for name in store.stats_columns() if name != "id"]
    for record in iter_records(store, session_filter, sort):
        yield {name: record[name] for name in columns}


def _flags(row: SessionRow) -> list[str]:
    return [flag for flag, on in (("sweep", row.is_seed_sweep), ("dry-run", row.is_dry_run)) if on]


def _images(row: SessionRow) -> str:
    return f"{row.images_actual}/{'?' if row.images_expected is None else row.images_expected}"


def _status(row: SessionRow, *, reason: bool = True) -> Text:
    """The status words, the sweep and dry-run flags, and (``reason``) why stats are missing."""
    status = Text(row.status.replace("_", " "), style=STATUS_STYLES.get(row.status, ""))
    for flag in _flags(row):
        status.append(f" · {flag}")
    if reason and row.stats_error:
        status.append(f" ({clean_text(row.stats_error)})", style="dim")
    return status


def _widths(rows: Sequence[SessionRow], width: int) -> dict[str, int]:
    """Column widths that fit ``width``: date, images and done at their size; name, model and status
    grow from their minimum in turns (the name first: it tells sessions apart; an unreadable
    session's reason last), each to a readable width, then to its whole length.  No model column
    when even the minimums do not fit."""
    fixed = {"date": 16, "images": _widest("images", (_images(row) for row in rows)), "done": 4}
    natural = {"name": _widest("name", (row.display_name for row in rows)),
               "model": _widest("model", (display_model(row.sd_model) for row in rows)),
               "status": max([len("status"), *(_status(row).cell_len for row in rows)])}
    words = max([len("status"), *(_status(row, reason=False).cell_len for row in rows)])
    widths = {"name": _MIN_NAME, "model": _MIN_MODEL, "status": _MIN_STATUS}
    space = width - sum(fixed.values()) - _GAP * 5
    if space < sum(widths.values()):
        del widths["model"]
        space += _GAP
    rest = space - sum(widths.values())
    steps = (("name", _READABLE["name"]), ("status", _READABLE["status"]), ("model", _READABLE["model"]),
             ("name", natural["name"]), ("status", words), ("model", natural["model"]), ("status", natural["status"]))
    for column, target in steps:
        if column in widths:
            grown = max(widths[column], min(target, natural[column], widths[column] + max(rest, 0)))
            rest -= grown - widths[column]
            widths[column] = grown
    return {**fixed, **widths}


def _widest(header: str, values: Iterable[str]) -> int:
    return max([len(header), *(cell_len(clean_text(value)) for value in values)])


def _table(rows: Sequence[SessionRow], width: int) -> Table:
    widths = _widths(rows, width)
    table = Table(box=None, padding=(0, _GAP, 0, 0), pad_edge=False, expand=False)
    for header in ("date", "name", "model", "images", "done", "status"):
        if header in widths:
            table.add_column(header, width=widths[header], no_wrap=True, overflow="ellipsis",
                             justify="right" if header in ("images", "done") else "left")
    for row in rows:
        cells = {"date": Text(format_date(row.session_created_at)), "name": Text(clean_text(row.display_name)),
                 "model": Text(clean_text(display_model(row.sd_model))), "images": Text(_images(row)),
                 "done": Text(completion_label(row.completion_percentage),
                              style=completion_style(row.completion_percentage)),
                 "status": _status(row)}
        table.add_row(*(cell for name, cell in cells.items() if name in widths))
    return table


def _print_plain(rows: Sequence[SessionRow]) -> None:
    """One tab-separated line per session under a header line; values cleaned (no tabs, no newlines)."""
    print("\t".join(PLAIN_COLUMNS))
    for row in rows:
        values = (format_date(row.session_created_at), row.display_name, display_model(row.sd_model), _images(row),
                  completion_label(row.completion_percentage), row.status, " ".join(_flags(row)),
                  row.stats_error or "", row.session_path)
        print("\t".join(clean_text(value) for value in values))
