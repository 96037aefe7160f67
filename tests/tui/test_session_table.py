"""The virtual session table, driven through Textual's Pilot with a fake row source (no database)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult

from sdsessions_tui.core.filters import SORT_COLUMNS, SessionSort
from sdsessions_tui.core.store import SessionMetadata, SessionRow
from sdsessions_tui.tui.commands import bindings
from sdsessions_tui.tui.session_table import (
    BADGES,
    COLUMNS,
    FETCH_PAGE,
    FLAG_MARKS,
    SessionTable,
    completion_badge,
    display_model,
    fit_segments,
    format_date,
    layout_columns,
    row_cells,
)
from tests.tui.helpers import until

SIZE = (100, 30)
DATA_LINES = SIZE[1] - 1  # below the header


def make_row(key: int, **changes: Any) -> SessionRow:
    metadata = changes.pop("metadata", None) or SessionMetadata(key, f"session_{key:06d}")
    row = SessionRow(
        session_key=key, session_id=f"session_{key:06d}", session_path=f"/sessions/session_{key:06d}",
        display_name=f"session {key}", session_created_at="2025-11-17T11:17:05",
        sd_model="sd_xl_base_1.0.safetensors [31e35c80fc]", sampler_name="Euler a", steps=20, cfg_scale=7.0,
        width=512, height=512, images_actual=10, images_expected=10, completion_percentage=100.0,
        status="completed", is_seed_sweep=False, is_dry_run=False, is_unavailable=False, stats_error=None,
        duration_seconds=12.0, metadata=metadata)
    return replace(row, **changes)


class FakeSource:
    """Builds rows on demand and records every ``fetch_rows`` call."""

    def __init__(self, overrides: dict[int, SessionRow] | None = None, known: Callable[[int], bool] | None = None):
        self.calls: list[list[int]] = []
        self.overrides = overrides or {}
        self.known = known or (lambda key: True)

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, SessionRow]:
        self.calls.append(list(ids))
        return {key: self.overrides.get(key) or make_row(key) for key in ids if self.known(key)}


class TableApp(App[None]):
    def __init__(self, source: FakeSource, ids: Sequence[int], **kwargs: Any) -> None:
        super().__init__()
        self.source = source
        self.ids = ids
        self.kwargs = kwargs
        self.messages: list[Any] = []

    def compose(self) -> ComposeResult:
        yield SessionTable(self.source, self.ids, **self.kwargs)

    def on_session_table_highlighted(self, message: SessionTable.Highlighted) -> None:
        self.messages.append(("highlighted", message.session_key))

    def on_session_table_selected(self, message: SessionTable.Selected) -> None:
        self.messages.append(("selected", message.session_key))

    def on_session_table_sort_requested(self, message: SessionTable.SortRequested) -> None:
        self.messages.append(("sort", message.column))


def lines(table: SessionTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


async def settle(pilot: Any, app: TableApp) -> SessionTable:
    table = app.query_one(SessionTable)
    await until(pilot, lambda: table.fetch_count >= 1 or not table.row_count)
    await pilot.pause()
    return table


# --- navigation -----------------------------------------------------------------------------------


async def test_navigation_keys_move_the_cursor_and_post_highlighted() -> None:
    app = TableApp(FakeSource(), list(range(100, 300)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert table.has_focus
        await until(pilot, lambda: ("highlighted", 100) in app.messages)
        expected = [("down", 1), ("j", 2), ("k", 1), ("up", 0), ("pagedown", DATA_LINES), ("pageup", 0),
                    ("G", 199), ("g", 0), ("end", 199), ("home", 0)]
        for key, row in expected:
            await pilot.press(key)
            assert table.cursor_row == row, key
            assert table.cursor_session_key == 100 + row
        table.action_cursor_up()  # already at the top: no move, no message
        table.action_last()
        table.action_cursor_down()
        await until(pilot, lambda: len(app.messages) >= 11)
        await pilot.pause()
        highlighted = [key for kind, key in app.messages if kind == "highlighted"]
        assert highlighted == [100, 101, 102, 101, 100, 100 + DATA_LINES, 100, 299, 100, 299, 100, 299]


async def test_cursor_stays_visible_and_header_stays_on_top() -> None:
    app = TableApp(FakeSource(), list(range(200)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        await pilot.press("G")
        shown = lines(table)
        assert shown[0].split()[0] == "Date"
        assert "session 199 " in shown[-1]
        await pilot.press("pageup")
        assert table.cursor_row == 199 - DATA_LINES
        assert "session 170 " in lines(table)[1]
        assert table.row_count == 200


async def test_enter_posts_selected() -> None:
    app = TableApp(FakeSource(), [7, 8, 9])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "enter")
        await until(pilot, lambda: ("selected", 8) in app.messages)


def test_bindings_come_from_the_registry() -> None:
    assert [binding.id for binding in SessionTable.BINDINGS] == [
        binding.id for binding in [*bindings("table"), *bindings("edit")]]


# --- fetching -------------------------------------------------------------------------------------


async def test_only_visible_pages_are_fetched() -> None:
    source = FakeSource()
    app = TableApp(source, list(range(100_000)))
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert len(source.calls) == 1
        assert source.calls[0] == list(range(FETCH_PAGE))
        for move in [table.action_cursor_down] * 5 + [table.action_cursor_up] * 3 + [table.action_page_down]:
            move()
            lines(table)  # paint every visible line
        await pilot.pause()
        assert len(source.calls) == 1  # cached page: no fetch
        await pilot.press("end")
        await until(pilot, lambda: len(source.calls) == 2)
        await pilot.pause()
        assert len(source.calls) == 2
        assert source.calls[1] == list(range(99_968, 100_000))  # the last aligned page
        assert table.cursor_session_key == 99_999
        table.action_first()
        lines(table)
        await pilot.pause()
        assert len(source.calls) == 2  # the first page is still cached
    assert time.perf_counter() - started < 3


async def test_invalidate_refetches() -> None:
    source = FakeSource()
    app = TableApp(source, list(range(50)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert len(source.calls) == 1
        source.overrides[3] = make_row(3, display_name="renamed")
        table.invalidate([3])
        await until(pilot, lambda: len(source.calls) == 2)
        assert source.calls[1] == [3]
        assert "renamed" in table.render_line(4).text
        table.invalidate()
        await until(pilot, lambda: len(source.calls) == 3)
        assert source.calls[2] == list(range(50))


async def test_rows_the_source_does_not_know_are_shown_once_and_not_refetched() -> None:
    source = FakeSource(known=lambda key: key != 2)
    app = TableApp(source, [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert "session 2 is gone" in table.render_line(2).text
        await pilot.press("j", "j")
        await pilot.pause()
        assert len(source.calls) == 1


async def test_a_failing_source_does_not_crash_the_table() -> None:
    class Broken(FakeSource):
        def fetch_rows(self, ids: Sequence[int]) -> dict[int, SessionRow]:
            super().fetch_rows(ids)
            raise OSError("disk I/O error")

    source = Broken()
    app = TableApp(source, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert "disk I/O error" in table.render_line(1).text
        assert len(source.calls) == 1
        table.invalidate()
        await until(pilot, lambda: len(source.calls) == 2)


# --- set_ids --------------------------------------------------------------------------------------


async def test_set_ids_keeps_the_cursor_on_the_same_session_after_a_resort() -> None:
    source = FakeSource()
    app = TableApp(source, list(range(1000)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        table.move_cursor_to_key(40)
        await pilot.pause()
        screen_line = table.cursor_row - table.scroll_y
        count = len(app.messages)
        table.set_ids(list(reversed(range(1000))))
        assert table.cursor_session_key == 40
        assert table.cursor_row == 959
        assert table.cursor_row - table.scroll_y == screen_line  # same line on screen
        assert "session 40 " in table.render_line(screen_line + 1).text
        await pilot.pause()
        assert len(app.messages) == count  # same session: no new Highlighted


async def test_set_ids_clamps_when_the_session_vanished() -> None:
    app = TableApp(FakeSource(), list(range(100)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        table.move_cursor(80)
        table.set_ids([key for key in range(100) if key != 80])
        assert table.cursor_row == 80
        assert table.cursor_session_key == 81
        table.set_ids(list(range(10)))
        assert (table.cursor_row, table.cursor_session_key) == (9, 9)
        assert "session 9 " in "\n".join(lines(table))
        await until(pilot, lambda: app.messages[-2:] == [("highlighted", 81), ("highlighted", 9)])
        assert table.move_cursor_to_key(3) and table.cursor_row == 3
        assert not table.move_cursor_to_key(12345)


async def test_a_new_result_without_the_session_starts_at_the_top() -> None:
    app = TableApp(FakeSource(), list(range(100)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        table.move_cursor(80)
        table.set_ids([key for key in range(100) if key % 2], keep_row=False)  # 80 is not listed
        assert (table.cursor_row, table.cursor_session_key, table.scroll_y) == (0, 1, 0)
        table.move_cursor(30)
        table.set_ids([key for key in range(100) if key % 3], keep_row=False)  # 61 still is
        assert table.cursor_session_key == 61


async def test_empty_list_shows_the_empty_message() -> None:
    app = TableApp(FakeSource(), [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        table.empty_message = "No sessions match"
        table.set_ids([])
        await until(pilot, lambda: ("highlighted", None) in app.messages)
        assert table.cursor_session_key is None and table.cursor_row is None and table.row_count == 0
        shown = lines(table)
        message_lines = [line for line in shown if "No sessions match" in line]
        assert len(message_lines) == 1
        line = message_lines[0][:table.scrollable_content_region.width]  # (the scrollbar's gutter after)
        left, right = len(line) - len(line.lstrip()), len(line) - len(line.rstrip())
        assert abs(left - right) <= 2  # centred
        assert 10 <= shown.index(message_lines[0]) <= 20
        await pilot.press("j", "G", "enter")
        assert not [m for m in app.messages if m[0] == "selected"]


# --- rendering ------------------------------------------------------------------------------------


async def test_markup_and_control_characters_are_shown_literally() -> None:
    tricky = make_row(1, session_id="[bold]x[/] \x1b[31mred", display_name="[bold]x[/] \x1b[31mred",
                      metadata=SessionMetadata(1, "s", tags=("[/]", "a\tb", "[i]")))
    app = TableApp(FakeSource({1: tricky}), [1])
    async with app.run_test(size=(140, 10)) as pilot:
        table = await settle(pilot, app)
        text = table.render_line(1).text
        assert "[bold]x[/] \\x1b[31mred" in text
        assert "[/], a b, [i]" in text
        assert "\x1b" not in text


@pytest.mark.parametrize(("pieces", "width", "justify", "expected"), [
    ([("abc", "")], 6, "left", "abc   "),
    ([("abc", "")], 6, "right", "   abc"),
    ([("abcdef", "")], 6, "left", "abcdef"),
    ([("abcdefg", "")], 6, "left", "abcde…"),
    ([("ab", "red"), (" ", ""), ("cdefg", "bold")], 6, "left", "ab cd…"),
    ([("日本語テキスト", "")], 6, "left", "日本 …"),  # a wide character is never split in half
    ([("abc", "")], 1, "left", "…"),
    ([("abc", "")], 0, "left", ""),
    ([], 3, "left", "   "),
])
def test_fit_segments_cuts_and_pads_to_the_exact_width(pieces, width, justify, expected) -> None:
    segments = fit_segments(pieces, width, justify)
    assert "".join(segment.text for segment in segments) == expected
    assert sum(segment.cell_length for segment in segments) == width


def test_fit_segments_keeps_styles_and_gives_the_ellipsis_the_cut_piece_style() -> None:
    segments = fit_segments([("ab", "red"), ("cdefg", "bold")], 4)
    assert [(segment.text, segment.style) for segment in segments] == [
        ("ab", Style.parse("red")), ("c", Style.parse("bold")), ("…", Style.parse("bold"))]


async def test_row_columns() -> None:
    row = make_row(5, images_actual=3, images_expected=None, completion_percentage=None, status="running",
                   metadata=SessionMetadata(1, "s", is_favorite=True, is_complete=True, user_rating="dislike",
                                            tags=("cats", "dogs")))
    app = TableApp(FakeSource({5: row}), [5])
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        text = table.render_line(1).text
        assert text.startswith(" 2025-11-17 11:17 session 5 ")
        assert "sd_xl_base_1.0" in text and "31e35c80fc" not in text
        assert " 3/? " in text and "♥   ✓" in text and "  - " in text and "cats, dogs" in text
        assert table.row_at(0) == row


async def test_cursor_row_is_highlighted_with_the_component_style() -> None:
    app = TableApp(FakeSource(), list(range(10)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        cursor = table.get_component_rich_style("session-table--cursor")

        def background(y: int) -> Any:
            return Style.combine(segment.style for segment in table.render_line(y) if segment.style).bgcolor

        assert background(1) == cursor.bgcolor
        assert background(2) != cursor.bgcolor
        await pilot.press("j")
        assert background(2) == cursor.bgcolor and background(1) != cursor.bgcolor
        table.blur()
        await until(pilot, lambda: not table.has_focus)
        await pilot.pause()
        blurred = table.get_component_rich_style("session-table--cursor")
        assert blurred.bgcolor != cursor.bgcolor  # like DataTable: a dimmer cursor without focus
        assert background(2) == blurred.bgcolor


async def test_set_sort_shows_the_direction_in_the_header() -> None:
    app = TableApp(FakeSource(), [1], sort=SessionSort("date", descending=True))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert "Date ▼" in table.render_line(0).text
        table.set_sort(SessionSort("name", descending=False))
        header = table.render_line(0).text
        assert "Name ▲" in header and "▼" not in header


async def test_header_click_requests_a_sort_and_row_click_moves_the_cursor() -> None:
    app = TableApp(FakeSource(), list(range(50)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        placed = {cell.column.key: cell for cell in layout_columns(table.scrollable_content_region.width)}
        for key, column in (("name", "name"), ("flags", "liked")):
            await pilot.click(SessionTable, offset=(placed[key].x + 1, 0))
            await until(pilot, lambda: app.messages[-1] == ("sort", column))  # noqa: B023  # awaited in this pass
        assert table.cursor_row == 0
        await pilot.click(SessionTable, offset=(20, 6))
        assert table.cursor_row == 5
        await until(pilot, lambda: app.messages[-1] == ("highlighted", 5))
        await pilot.click(SessionTable, offset=(20, 6), times=2)
        await until(pilot, lambda: app.messages[-1] == ("selected", 5))


def test_every_header_sorts_by_a_core_sort_column() -> None:
    assert {column.sort for column in COLUMNS} <= set(SORT_COLUMNS)
    assert {column.key: column.sort for column in COLUMNS}["flags"] == "liked"


def test_narrow_tables_drop_the_least_useful_columns() -> None:
    wide = [cell.column.key for cell in layout_columns(120)]
    assert wide == [column.key for column in COLUMNS]
    narrow = [cell.column.key for cell in layout_columns(50)]
    assert "name" in narrow and "completion" in narrow and "tags" not in narrow
    for width in (1, 10, 40, 80, 200):
        cells = layout_columns(width)
        assert cells[-1].x + cells[-1].width <= max(width, cells[-1].x + cells[-1].width)
        if width >= 40:
            assert cells[-1].x + cells[-1].width <= width


def test_date_and_model_formatting() -> None:
    assert format_date("2025-11-17T11:17:05.123") == "2025-11-17 11:17"
    assert format_date(None) == "—"
    assert display_model("model.safetensors [abc123def0]") == "model.safetensors"
    assert display_model("model [v2]") == "model [v2]"
    assert display_model(None) == ""


# --- the completion badge ------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "text", "mark_style"), [
    ({"status": "completed", "completion_percentage": 100.0}, "  100%", "green"),
    ({"status": "completed", "completion_percentage": None}, "     —", "dim"),
    ({"status": "running", "completion_percentage": 40.0}, "►  40%", BADGES["running"].style),
    ({"status": "running", "completion_percentage": None}, "►     ", BADGES["running"].style),
    ({"status": "aborted", "completion_percentage": 12.5}, "✗  12%", BADGES["aborted"].style),
    ({"status": "completed_with_failures", "completion_percentage": 99.9}, "!  99%",
     BADGES["completed_with_failures"].style),
    ({"status": "stale", "completion_percentage": 80.0}, "◷  80%", BADGES["stale"].style),
    ({"status": "incomplete", "completion_percentage": 75.0}, "⋯  75%", BADGES["incomplete"].style),
    ({"status": "unknown", "completion_percentage": None}, "?     ", BADGES["unknown"].style),
    ({"status": "something new", "completion_percentage": None}, "?     ", BADGES["unknown"].style),
    ({"status": "completed", "is_dry_run": True}, "dry", BADGES["dry-run"].style),
    ({"status": "running", "is_dry_run": True, "is_unavailable": True}, "gone", BADGES["unavailable"].style),
])
def test_completion_badge(changes: dict[str, Any], text: str, mark_style: str) -> None:
    badge = Text.assemble(*completion_badge(make_row(1, **changes)))
    assert badge.plain == text
    marked = next(i for i, char in enumerate(badge.plain) if char != " ")  # the mark, else the percentage
    assert badge.get_style_at_offset(_console(), marked) == Style.parse(mark_style)


def test_status_marks_are_one_cell_in_every_terminal() -> None:
    """No emoji-capable or East-Asian-ambiguous glyph: terminals disagree on their width."""
    import unicodedata

    emoji_capable = set("▶◀⏸⏹⏺⏯▪▫◻◼◽◾♥♠♣♦✔✖❤☑")  # (text by default, drawn two cells wide by some)
    for badge in BADGES.values():
        for char in badge.mark:
            assert unicodedata.east_asian_width(char) in ("N", "Na") and char not in emoji_capable, badge


@pytest.mark.parametrize(("percentage", "colour"), [(100.0, "green"), (95.0, "green"), (94.9, "yellow"),
                                                    (70.0, "yellow"), (69.0, "red")])
def test_badge_percentage_colour(percentage: float, colour: str) -> None:
    badge = Text.assemble(*completion_badge(make_row(1, status="aborted", completion_percentage=percentage)))
    assert badge.get_style_at_offset(_console(), len(badge) - 1) == Style.parse(colour)


def _console() -> Any:
    from rich.console import Console

    return Console()


async def test_resize_relayouts_and_keeps_the_cursor_visible() -> None:
    wide = make_row(3, session_id="日本語のセッション🎨" * 4, metadata=SessionMetadata(1, "s", tags=("🎨",) * 30))
    app = TableApp(FakeSource({3: wide}), list(range(300)))
    async with app.run_test(size=SIZE) as pilot:
        table = await settle(pilot, app)
        assert all(table.render_line(y).cell_length == table.size.width for y in range(table.size.height))
        table.move_cursor(40)
        await pilot.resize_terminal(60, 12)
        await until(pilot, lambda: table.size.height == 12)
        await pilot.pause()
        assert round(table.scroll_y) <= table.cursor_row < round(table.scroll_y) + 11
        assert "Tags" not in table.render_line(0).text
        assert "session 40" in "\n".join(lines(table))


async def test_a_redrawn_row_repaints_only_its_line_on_screen() -> None:
    app = TableApp(FakeSource(), list(range(100, 1100)))
    async with app.run_test(size=(100, 20)) as pilot:
        table = await settle(pilot, app)
        table.move_cursor(500)
        await pilot.pause()
        line = table.cursor_row - round(table.scroll_y) + 1  # on screen, under the header
        painted: list[Any] = []
        original = table.refresh
        table.refresh = lambda *regions, **kwargs: painted.append(regions) or original(*regions, **kwargs)
        table.toggle_mark(table.cursor_session_key)
        assert [region.y for (region,) in painted] == [line]
        assert lines(table)[line].startswith("▌")
        table.redraw([100])  # far off screen: nothing to repaint
        assert len(painted) == 1


# --- names and alignment --------------------------------------------------------------------------


@pytest.mark.parametrize(("session_id", "display_name", "shown"), [
    ("20261124_135832-portrait_study", "portrait_study", "portrait_study"),
    ("20261124_135832-pose-sheet", "pose sheet", "pose sheet"),
    ("2025-09-29_203015", "2025-09-29_203015", "20:30:15 no name"),  # V0's default: the time, to the second
    ("my random folder", "my random folder", "my random folder"),  # no era: the folder name is all there is
])
def test_the_name_column_shows_the_display_name_not_the_timestamp(session_id, display_name, shown) -> None:
    cell = Text.assemble(*row_cells(make_row(1, session_id=session_id, display_name=display_name))["name"])
    assert cell.plain == shown


def _spans(line: str, marks: str) -> list[int]:
    """The cell offsets of each of ``marks`` in ``line``, in order."""
    offsets, start = [], 0
    for mark in marks:
        start = line.index(mark, start)
        offsets.append(cell_len(line[:start]))
        start += 1
    return offsets


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_header_and_cells_line_up_and_keep_their_place_between_results(size) -> None:
    liked = SessionMetadata("s", is_favorite=True, is_test=True, is_complete=True, user_rating="like")
    rows = {1: make_row(1, status="running", images_actual=6, images_expected=6, completion_percentage=100.0,
                        metadata=liked),
            2: make_row(2, images_actual=6, images_expected=10004, completion_percentage=0.05,
                        status="completed_with_failures"),
            3: make_row(3, images_actual=6, images_expected=6, completion_percentage=100.0),
            4: make_row(4, images_actual=4, images_expected=6, completion_percentage=66.7, status="aborted")}
    app = TableApp(FakeSource(rows), [1, 2, 3, 4])
    async with app.run_test(size=size) as pilot:
        table = await settle(pilot, app)
        header, *cells = (table.render_line(y).text for y in range(5))
        flags = " ".join(mark for _field, mark, _style in FLAG_MARKS)
        assert flags in header and flags in cells[0]
        assert _spans(header, flags) == _spans(cells[0], flags)  # each mark under its own title
        assert _spans(header, "+/-")[0] + 1 == _spans(cells[0], "+")[0]  # the rating under the "/"
        done_end = cell_len(header[:header.index("Done") + 4])
        images_end = cell_len(header[:header.index("Images") + 6])
        for line, images, percent in zip(cells, ("6/6", "6/10004", "6/6", "4/6"), ("100%", "0%", "100%", "66%"),
                                         strict=True):
            assert cell_len(line[:line.index(f" {images} ") + 1 + len(images)]) == images_end  # right-aligned
            at = line.index(percent, images_end)
            assert cell_len(line[:at + len(percent)]) == done_end  # right-aligned under "Done"
        marks = {cell_len(line[:images_end]) + 2 for line in cells}  # one space, then the mark's cell
        assert {cells[i][len(cells[i][:images_end]) + 2] for i in (0, 1, 3)} == {"►", "!", "✗"}
        assert len(marks) == 1
        for line in cells:
            assert line[images_end:images_end + 2] == "  "  # a gap between the images and the mark
        table.set_ids(list(range(1, 4)) + list(range(100, 400)))  # a result that needs the scrollbar
        await pilot.pause()
        assert table.render_line(0).text == header  # the same columns
        assert table.render_line(1).text.rstrip() == cells[0].rstrip()
