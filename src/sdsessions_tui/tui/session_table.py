"""The session list: a virtual table on Textual's Line API.

Textual's ``DataTable`` measures every cell when rows are added (22 s for
100 000 sessions).  :class:`SessionTable` holds only a list of stats ids, the
view's whole state, and asks a :class:`RowSource` (the :class:`~..core.store.Store`)
for the rows a visible line needs, one aligned page of ids at a time, into a
small LRU cache.  Only the visible lines are ever formatted, so a cursor move,
a re-sort (:meth:`SessionTable.set_ids`) or a jump to the end costs the same at
ten rows or at a hundred thousand.

Line 0 of the widget is the header and never scrolls; widget line ``y ≥ 1``
shows row ``scroll_y + y - 1``.  The virtual height is ``rows + 1`` so the last
row can scroll into view under the header.

Every string from session data goes through :func:`~..core.text.clean_text`
into a Rich :class:`~rich.text.Text` (never markup), so ``[bold]`` in a folder
name or a tag shows as typed and control characters show escaped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Literal, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..core.filters import SessionSort
from ..core.flags import FLAGS, LIKED
from ..core.names import parse_folder_name
from ..core.status import completion_label, completion_style
from ..core.store import SessionMetadata, SessionRow
from ..core.text import clean_text, display_model, format_date
from .commands import bindings
from .status_styles import STATUS_STYLES

#: Ids per ``fetch_rows`` call; pages are aligned on multiples of this in the id list.
FETCH_PAGE = 128
#: Pages of rows kept (by id, least recently used dropped first).
CACHE_PAGES = 16
#: Formatted lines kept: a few screens.  Each Textual Strip carries seven small caches (and its
#: styled copies theirs), all objects the garbage collector scans, and a cold line costs ~0.2 ms.
STRIP_CACHE = 192


class RowSource(Protocol):
    """Where the table gets its rows (the :class:`~..core.store.Store` is one)."""

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, SessionRow]: ...


@dataclass(frozen=True, slots=True)
class Badge:
    """How a completion badge looks: a glyph (or a word) and its Rich style."""

    mark: str
    style: str
    meaning: str


#: The completion column, in the statuses' colours (:data:`.status_styles.STATUS_STYLES`, the details' too).
#: A session whose status is ``completed`` shows only its percentage, coloured like the report (green ≥ 95 %,
#: yellow ≥ 70 %, red below).  Any other status shows its mark, then the percentage when it is known.
#: ``dry-run`` and ``unavailable`` replace the whole badge (they win over the status,
#: unavailable first).  The marks are one cell wide everywhere: no emoji-capable or
#: East-Asian-ambiguous glyph (``▶``, ``⏸``, ``…``), which some terminals draw two cells wide.
BADGES: dict[str, Badge] = {
    "completed": Badge("", STATUS_STYLES["completed"], "finished; the percentage alone"),
    "running": Badge("►", STATUS_STYLES["running"], "generating right now"),
    "aborted": Badge("✗", STATUS_STYLES["aborted"], "stopped by the user or a crash"),
    "completed_with_failures": Badge("!", STATUS_STYLES["completed_with_failures"],
                                     "finished with fewer images than expected"),
    "stale": Badge("◷", STATUS_STYLES["stale"], "marked running, but nothing written for 10 minutes"),
    "incomplete": Badge("⋯", STATUS_STYLES["incomplete"], "no status, fewer images than expected"),
    "unknown": Badge("?", STATUS_STYLES["unknown"], "unreadable, or nothing to compare against"),
    "dry-run": Badge("dry", "blue", "a dry run: no images expected"),
    "unavailable": Badge("gone", "dim strike", "the folder is no longer on disk"),
}

#: Flags column marks (from the user's metadata: metadata field, mark, style), in display order.
FLAG_MARKS: tuple[tuple[str, str, str], ...] = tuple((flag.field, flag.glyph, flag.style) for flag in FLAGS)
#: Rating column marks.
RATING_MARKS: dict[str, tuple[str, str]] = {"like": ("+", "bold green"), "dislike": ("-", "bold red")}
#: Cells of a completion percentage ("100%"), right-aligned after the status mark's cell and a space.
PERCENT_WIDTH = 4


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    sort: str
    """The core ``SORT_COLUMNS`` name a header click asks for."""
    width: int = 0
    """Fixed width; 0 = shares the remaining width by ``weight``."""
    weight: int = 0
    min_width: int = 0
    justify: Literal["left", "right"] = "left"


#: Every width is fixed or a share of the line's width, never measured from the rows shown, so the
#: columns stay put from one result to the next (and the scrollbar's gutter is always kept).
COLUMNS: tuple[Column, ...] = (
    Column("date", "Date", "date", width=16),
    Column("name", "Name", "name", weight=5, min_width=12),
    Column("model", "Model", "model", weight=3, min_width=8),
    Column("images", "Images", "images", width=9, justify="right"),
    # a space, the status mark, a space, the percentage: the marks line up in one column
    Column("completion", "Done", "completion", width=PERCENT_WIDTH + 3, justify="right"),
    Column("flags", " ".join(mark for _field, mark, _style in FLAG_MARKS), LIKED.label, width=2 * len(FLAG_MARKS) - 1),
    Column("rating", "+/-", "rating", width=3),
    Column("tags", "Tags", "tags", weight=2, min_width=6),
)
#: Dropped in this order when the table is too narrow for every column's minimum.
DROP_ORDER: tuple[str, ...] = ("tags", "model", "rating", "flags", "images", "date")
_NAME_FALLBACK = "name"


@dataclass(frozen=True, slots=True)
class _Placed:
    column: Column
    x: int
    width: int


@dataclass(frozen=True, slots=True)
class _LoadError:
    """A cached stand-in for rows whose fetch failed (retried on :meth:`SessionTable.invalidate`)."""

    message: str


_MISSING = object()
"""A cached stand-in for an id the source no longer knows."""


Piece = tuple[str, str]
"""A run of a cell's text and its Rich style (``""``: none).  A cell is a list of pieces, made
into Segments directly: a Rich ``Text`` per cell cost a screen of cold rows 15 ms."""


def completion_badge(row: SessionRow) -> list[Piece]:
    """The completion cell: see :data:`BADGES`."""
    if row.is_unavailable:
        badge = BADGES["unavailable"]
        return [(badge.mark, badge.style)]
    if row.is_dry_run:
        badge = BADGES["dry-run"]
        return [(badge.mark, badge.style)]
    percentage = row.completion_percentage
    badge = BADGES.get(row.status, BADGES["unknown"])
    # the mark's cell, a space, the percentage right-aligned: marks and percentages each line up
    percent = "" if percentage is None and badge.mark else completion_label(percentage)
    return [(badge.mark or " ", badge.style), (" ", ""),
            (percent.rjust(PERCENT_WIDTH), completion_style(percentage))]


def _flags(row: SessionRow) -> list[Piece]:
    pieces: list[Piece] = []
    for index, (field, mark, style) in enumerate(FLAG_MARKS):
        if index:
            pieces.append((" ", ""))
        pieces.append((mark if getattr(row.metadata, field) else " ", style))
    return pieces


def _rating(row: SessionRow) -> list[Piece]:
    mark = RATING_MARKS.get(row.metadata.user_rating or "")
    return [(" ", ""), mark] if mark else []  # under the "/" of "+/-"


def name_cell(row: SessionRow) -> list[Piece]:
    """The display name (the Date column has the folder's timestamp; the details and the search
    keep the folder name).  A folder named by its timestamp alone shows its time to the second."""
    if row.display_name != row.session_id:
        return [(clean_text(row.display_name), "")]
    folder = parse_folder_name(row.session_id)
    if folder.untitled and folder.created_at is not None:
        return [(f"{folder.created_at:%H:%M:%S}", ""), (" no name", "dim italic")]
    return [(clean_text(row.session_id), "")]  # a folder name of no era: all there is


def row_cells(row: SessionRow) -> dict[str, list[Piece]]:
    """Every column's cell for ``row``; all data text is cleaned and literal."""
    expected = "?" if row.images_expected is None else str(row.images_expected)
    return {
        "date": [(format_date(row.session_created_at), "")],
        "name": name_cell(row),
        "model": [(clean_text(display_model(row.sd_model)), "")],
        "images": [(f"{row.images_actual}/{expected}", "")],
        "completion": completion_badge(row),
        "flags": _flags(row),
        "rating": _rating(row),
        "tags": [(clean_text(", ".join(row.metadata.tags)), "")],
    }


def _style(name: str) -> Style | None:
    return Style.parse(name) if name else None  # Rich caches parsed styles


def fit_segments(pieces: Sequence[Piece], width: int, justify: str = "left") -> list[Segment]:
    """``pieces`` cut to ``width`` cells (ending in ``…``, in the cut piece's style) and padded
    to exactly ``width``."""
    total = sum(cell_len(text) for text, _style_name in pieces)
    if total > width:
        segments: list[Segment] = []
        room = width - 1
        for text, style in pieces:
            size = cell_len(text)
            if size > room:
                if width > 0:  # set_cell_size pads where a wide character would be split
                    cut = set_cell_size(text, max(room, 0))
                    segments += [Segment(cut, _style(style)), Segment("…", _style(style))]
                return segments
            segments.append(Segment(text, _style(style)))
            room -= size
    segments = [Segment(text, _style(style)) for text, style in pieces if text]
    if total < width:
        pad = Segment(" " * (width - total))
        return [pad, *segments] if justify == "right" else [*segments, pad]
    return segments


def _fit(text: Text, width: int, justify: str = "left") -> Text:
    """``text`` cut to ``width`` cells (ending in ``…``) and padded to exactly ``width`` (the header)."""
    text = text.copy()
    text.no_wrap = True
    text.truncate(width, overflow="ellipsis")
    pad = width - text.cell_len
    if pad > 0:
        if justify == "right":
            text = Text(" " * pad) + text
        else:
            text.pad_right(pad)
    return text


def layout_columns(width: int) -> list[_Placed]:
    """Where each shown column sits in a line ``width`` cells wide (one space before each)."""
    shown = list(COLUMNS)
    for drop in (None, *DROP_ORDER):
        if drop is not None:
            shown = [column for column in shown if column.key != drop]
        fixed = sum(column.width + 1 for column in shown if column.width)
        flexible = [column for column in shown if not column.width]
        room = width - fixed - len(flexible)
        if room >= sum(column.min_width for column in flexible):
            break
    total_weight = sum(column.weight for column in flexible) or 1
    room = max(0, room)
    widths = {column.key: room * column.weight // total_weight for column in flexible}
    if flexible:  # the rounding remainder goes to the name
        widths[_NAME_FALLBACK] += room - sum(widths.values())
    placed: list[_Placed] = []
    x = 0
    for column in shown:
        cell = column.width or widths[column.key]
        placed.append(_Placed(column, x + 1, cell))
        x += cell + 1
    return placed


class _TableMessage(Message):
    """A message from a :class:`SessionTable`, which is its ``control``."""

    def __init__(self, table: SessionTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> SessionTable:
        return self.table


class SessionTable(ScrollView, can_focus=True):
    """A keyboard-first, virtual list of sessions: one line per stats id in :meth:`set_ids`."""

    BINDINGS = [*bindings("table"), *bindings("edit")]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-table--header",
        "session-table--cursor",
        "session-table--even-row",
        "session-table--empty",
        "session-table--mark",
    }

    DEFAULT_CSS = """
    SessionTable {
        background: $surface;
        color: $foreground;
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;  /* the columns do not move when a result needs no scrollbar */

        &:focus {
            background-tint: $foreground 5%;
            & > .session-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .session-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .session-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .session-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .session-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .session-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .session-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .session-table--empty {
            color: $text-muted;
            text-style: italic;
        }
        & > .session-table--mark {
            color: $accent;
            text-style: bold;
        }
    }
    """

    class Highlighted(_TableMessage):
        """The cursor moved to another session (``session_key``; None when the list is empty)."""

        def __init__(self, table: SessionTable, session_key: int | None) -> None:
            super().__init__(table)
            self.session_key = session_key

    class Selected(_TableMessage):
        """Enter (or a double click) on a session."""

        def __init__(self, table: SessionTable, session_key: int) -> None:
            super().__init__(table)
            self.session_key = session_key

    class SortRequested(_TableMessage):
        """A header cell was clicked: ``column`` is a core ``SORT_COLUMNS`` name."""

        def __init__(self, table: SessionTable, column: str) -> None:
            super().__init__(table)
            self.column = column

    empty_message: reactive[str] = reactive("No sessions", layout=False)
    """Shown centred, dimmed, when the list is empty."""

    def __init__(self, source: RowSource, ids: Iterable[int] = (), *, sort: SessionSort | None = None,
                 cache_pages: int = CACHE_PAGES, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source = source
        self._ids: list[int] = list(ids)
        self._cursor = 0
        self._sort = sort
        self._row_capacity = max(1, cache_pages) * FETCH_PAGE
        self._rows: OrderedDict[int, object] = OrderedDict()
        """id → SessionRow, ``_MISSING`` or ``_LoadError``; least recently used first."""
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(STRIP_CACHE)
        """(id, layout width, line width) → the row's line before the row style."""
        self._layouts: dict[int, list[_Placed]] = {}
        self.marked: set[int] = set()
        """Ids marked with space: the editing keys act on them instead of the cursor's row."""
        self.metadata_overlay: Callable[[SessionMetadata], SessionMetadata] | None = None
        """Shows metadata edits not saved yet (the app's pending edits) over the fetched rows."""
        self.fetch_count = 0
        """``fetch_rows`` calls so far (tests and benchmarks read it)."""
        self._update_virtual_size()

    # --- public API ------------------------------------------------------------------------------

    @property
    def ids(self) -> Sequence[int]:
        """The stats ids shown, in order (do not mutate; use :meth:`set_ids`)."""
        return self._ids

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def cursor_row(self) -> int | None:
        """The cursor's index in the list; None when the list is empty."""
        return self._cursor if self._ids else None

    @property
    def cursor_session_key(self) -> int | None:
        """The stats id under the cursor; None when the list is empty."""
        return self._ids[self._cursor] if self._ids else None

    @property
    def sort(self) -> SessionSort | None:
        return self._sort

    def set_ids(self, ids: Sequence[int], *, keep_row: bool = True) -> None:
        """Show these ids (a new filter or sort): the cursor stays on its session if still listed.

        Otherwise it keeps its index, clamped (``keep_row``: the same list reloaded), or goes to
        the top (a new filter's result).  When the session stays, it also keeps its line on
        screen where possible.  Cached rows are kept (by id).
        """
        old_key = self.cursor_session_key
        old_screen_line = self._cursor - round(self.scroll_y)
        self._ids = list(ids)
        index = self._index_of(old_key) if old_key is not None else None
        if index is None:
            self._cursor = min(self._cursor, max(0, len(self._ids) - 1)) if keep_row else 0
            if not keep_row:
                self.scroll_to(y=0, animate=False, force=True)
        else:
            self._cursor = index
        self._update_virtual_size()
        if index is not None and self._data_height > 0:
            self.scroll_to(y=self._cursor - old_screen_line, animate=False, force=True)
        self._scroll_cursor_into_view()
        self.refresh()
        if self.cursor_session_key != old_key:
            self.post_message(self.Highlighted(self, self.cursor_session_key))

    def set_sort(self, sort: SessionSort | None) -> None:
        """Show ▲/▼ in the header of the sorted column (the ids are sorted by the caller)."""
        self._sort = sort
        self.refresh_line(round(self.scroll_y))  # the header: widget line 0

    def invalidate(self, ids: Iterable[int] | None = None) -> None:
        """Drop cached rows (all, or these ids) so visible lines are fetched again."""
        if ids is None:
            self._rows.clear()
        else:
            for key in ids:
                self._rows.pop(key, None)
        self._rows = OrderedDict((key, row) for key, row in self._rows.items() if not isinstance(row, _LoadError))
        self._strips.clear()
        self.refresh()

    def redraw(self, ids: Iterable[int]) -> None:
        """Draw these rows again from their cached data (a mark or an unsaved edit changed).

        Only their lines on screen are repainted: an edit key's frame stays one row.
        """
        keys = set(ids)
        for cache_key in [cache_key for cache_key in self._strips.keys() if cache_key[0] in keys]:
            self._strips.discard(cache_key)
        top = round(self.scroll_y)
        for index in range(top, min(len(self._ids), top + self._data_height)):
            if self._ids[index] in keys:
                self.refresh_line(index + 1)  # virtual lines: the header is line 0

    def toggle_mark(self, session_key: int) -> None:
        self.marked.symmetric_difference_update({session_key})
        self.redraw([session_key])

    def clear_marks(self) -> None:
        marked, self.marked = self.marked, set()
        self.redraw(marked)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on this index (clamped) and scroll it into view."""
        if not self._ids:
            return
        row = max(0, min(row, len(self._ids) - 1))
        if row == self._cursor:
            self._scroll_cursor_into_view()
            return
        old = self._cursor
        self._cursor = row
        self.refresh_line(old + 1)
        self.refresh_line(row + 1)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self, self.cursor_session_key))

    def move_cursor_to_key(self, session_key: int) -> bool:
        """Put the cursor on this session; False if it is not listed."""
        index = self._index_of(session_key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def row_at(self, index: int) -> SessionRow | None:
        """The row at this list index, fetching its page if needed (None if unknown)."""
        row = self._row(index)
        return row if isinstance(row, SessionRow) else None

    # --- actions (bound through the command registry) ----------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - max(1, self._data_height))

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + max(1, self._data_height))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._ids) - 1)

    def action_select(self) -> None:
        key = self.cursor_session_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    # --- events ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # (ScrollView's own on_mount runs too: Textual calls each class's handler.)
        if self._ids:
            self.post_message(self.Highlighted(self, self.cursor_session_key))

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()

    def watch_empty_message(self) -> None:
        if not self._ids:
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            for placed in self._layout():
                if placed.x - 1 <= offset.x < placed.x + placed.width:
                    self.post_message(self.SortRequested(self, placed.column.sort))
                    return
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._ids):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select()

    # --- rendering ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._render_header(width)
        index = round(self.scroll_y) + y - 1
        if not self._ids:
            return self._render_empty_line(y, width)
        if index >= len(self._ids):
            return Strip.blank(width, self.rich_style)
        if index == self._cursor:
            style = self.get_component_rich_style("session-table--cursor")
        elif index % 2 == 0:  # DataTable's striping: rows 0, 2, 4… are "even"
            style = self.get_component_rich_style("session-table--even-row")
        else:
            style = self.rich_style
        return self._row_strip(index, width).apply_style(style)

    def _render_header(self, width: int) -> Strip:
        style = self.get_component_rich_style("session-table--header")
        sort = self._sort
        line = Text(no_wrap=True, end="")
        x = 0
        for placed in self._layout():
            line.append(" " * (placed.x - x))
            title = Text(placed.column.title)
            if sort is not None and sort.column == placed.column.sort:
                arrow = "▼" if sort.descending else "▲"
                room = max(0, placed.width - 2)
                title = (title if title.cell_len <= room else _fit(title, room)) + Text(" " + arrow)
            line.append_text(_fit(title, placed.width, placed.column.justify))
            x = placed.x + placed.width
        return self._strip(line, width).apply_style(style)

    def _render_empty_line(self, y: int, width: int) -> Strip:
        if y != max(1, self.scrollable_content_region.height // 2):
            return Strip.blank(width, self.rich_style)
        message = Text(clean_text(self.empty_message), style=self.get_component_rich_style(
            "session-table--empty", partial=True), no_wrap=True, end="")
        message.truncate(self._content_width, overflow="ellipsis")
        pad = max(0, (self._content_width - message.cell_len) // 2)
        return self._strip(Text(" " * pad) + message, width).apply_style(self.rich_style)

    def _row_strip(self, index: int, width: int) -> Strip:
        key = self._ids[index]
        cache_key = (key, self._content_width, width)
        cached = self._strips.get(cache_key)
        if cached is not None:
            return cached
        row = self._row(index)
        if isinstance(row, SessionRow):
            shown = self.metadata_overlay(row.metadata) if self.metadata_overlay is not None else row.metadata
            if shown is not row.metadata:  # an edit not saved yet
                row = replace(row, metadata=shown)
            cells = row_cells(row)
        else:
            cells = {"name": [(f"session {key}: {row.message}" if isinstance(row, _LoadError)
                               else f"session {key} is gone (refresh)", "dim italic")]}
        segments: list[Segment] = []
        x = 0
        for placed in self._layout():
            if placed.x > x:
                segments.append(Segment(" " * (placed.x - x)))
            cell = cells.get(placed.column.key)
            segments += fit_segments(cell or [], placed.width, placed.column.justify)
            x = placed.x + placed.width
        if key in self.marked and segments:  # in the space before the first column
            segments[0] = Segment("▌", self.get_component_rich_style("session-table--mark", partial=True))
        # one segment per run of a style: fewer style changes written to the terminal
        strip = Strip(Segment.simplify(segments), x).adjust_cell_length(width)
        if isinstance(row, SessionRow):  # a failed page is retried on invalidate, not cached twice
            self._strips[cache_key] = strip
        return strip

    def _strip(self, line: Text, width: int) -> Strip:
        segments = list(line.render(self.app.console, end=""))
        return Strip(segments).adjust_cell_length(width)

    # --- internals ------------------------------------------------------------------------------

    @property
    def _content_width(self) -> int:
        return self.scrollable_content_region.width

    @property
    def _data_height(self) -> int:
        """Rows visible at once (the height below the header)."""
        return max(0, self.scrollable_content_region.height - 1)

    def _layout(self) -> list[_Placed]:
        width = self._content_width
        layout = self._layouts.get(width)
        if layout is None:
            if len(self._layouts) > 8:
                self._layouts.clear()
            layout = self._layouts[width] = layout_columns(width)
        return layout

    def _index_of(self, session_key: int) -> int | None:
        try:
            return self._ids.index(session_key)
        except ValueError:
            return None

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self._ids) + 1)

    def _scroll_cursor_into_view(self) -> None:
        height = self._data_height
        if height <= 0 or not self._ids:
            return
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, force=True)

    def _row(self, index: int) -> object:
        """The cached row at ``index``; on a miss, fetches the missing ids of its aligned page."""
        key = self._ids[index]
        rows = self._rows
        if key in rows:
            rows.move_to_end(key)
            return rows[key]
        start = index - index % FETCH_PAGE
        wanted = [page_key for page_key in self._ids[start:start + FETCH_PAGE] if page_key not in rows]
        self.fetch_count += 1
        try:
            fetched: dict[int, object] = dict(self.source.fetch_rows(wanted))
        except Exception as error:  # noqa: BLE001 - a broken store must not crash the render
            self.log.error(f"SessionTable: fetch_rows failed: {error!r}")
            failure = _LoadError(clean_text(str(error)) or type(error).__name__)
            fetched = dict.fromkeys(wanted, failure)
        for page_key in wanted:
            rows[page_key] = fetched.get(page_key, _MISSING)
        while len(rows) > self._row_capacity:
            rows.popitem(last=False)
        rows.move_to_end(key)
        return rows[key]
