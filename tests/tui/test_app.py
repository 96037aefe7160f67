"""The assembled app, driven with Pilot: navigation, filtering, sorting, the responsive switch."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Label

from sdsessions_tui.tui.app import SortMenu
from sdsessions_tui.tui.details_screen import DetailsScreen
from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.help import HelpScreen
from sdsessions_tui.tui.session_table import SessionTable


async def until(pilot, condition, timeout=5.0):
    """Wait for a concrete condition (``pilot.pause()`` alone returns after at most 1 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


async def ready(pilot) -> SessionTable:
    """The table, once the fixture's seven sessions are listed."""
    table = pilot.app.query_one(SessionTable)
    await until(pilot, lambda: table.row_count == 7)
    return table


def count_text(app) -> str:
    return str(app.query_one("#count", Label).render())


async def test_opens_with_every_session_and_a_count(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        assert count_text(app) == "7 of 7"
        assert app.focused is table
        assert table.cursor_key is not None


async def test_keyboard_navigation_updates_the_details(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(SessionTable)
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("G")
        await until(pilot, lambda: table.cursor_row == 6)
        await until(pilot, lambda: panel.stats is not None and panel.stats.session_id == table.row_at(6).session_id)
        await pilot.press("g", "j", "j", "k")
        assert table.cursor_row == 1


async def test_typing_a_query_filters_and_a_bad_one_keeps_the_result(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"is:sweep")
        await until(pilot, lambda: table.row_count == 1)
        assert count_text(app) == "1 of 7"
        await pilot.press(*" steps:abc")
        await until(pilot, lambda: "steps" in str(app.query_one("#query-error", Label).render()))
        assert table.row_count == 1  # the last good result stays
        await pilot.press("escape")
        assert app.focused is table


async def test_chip_toggles_its_term_in_the_text(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.click("#chip-liked")
        query = app.query_one("#query", Input)
        assert query.value.strip() == "is:liked"
        await until(pilot, lambda: table.row_count == 1)
        assert app.query_one("#chip-liked").has_class("-on")
        await pilot.click("#chip-liked")
        await until(pilot, lambda: table.row_count == 7)
        assert query.value.strip() == ""


async def test_sort_menu_and_the_cursor_stays_on_its_session(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("j", "j")
        key = table.cursor_key
        await pilot.press("s")
        assert isinstance(app.screen, SortMenu)
        await pilot.press("home", "down", "enter")  # date -> name
        await until(pilot, lambda: app.sort.column == "name")
        assert table.cursor_key == key
        assert [table.row_at(i).session_id for i in range(2)] == sorted(
            table.row_at(i).session_id for i in range(7))[:2]


async def test_narrow_terminal_opens_details_full_screen(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await ready(pilot)
        assert not app.query_one("#side").display
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailsScreen)
        assert app.focused is table


async def test_wide_terminal_shows_details_beside_the_table(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.query_one("#details", DetailsPanel).stats is not None)
        assert app.query_one("#side").display


async def test_placeholders_expand_with_enter_in_the_details(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None)
        await pilot.press("enter")
        assert app.focused is panel
        await pilot.press("enter")
        assert panel.expanded


async def test_session_without_stats_shows_the_reason(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(SessionTable)
        await pilot.press("slash", *"is:broken", "enter")
        await until(pilot, lambda: table.row_count == 1)
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None and panel.stats.stats_error is not None)
        assert "manifest.json" in panel.stats.stats_error


async def test_help_lists_the_focused_widgets_keys(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_recompute_reads_the_session_again(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.cursor_key
        before = app_store.get_session(key)[0].stats_computed_at
        await pilot.press("r")
        await until(pilot, lambda: app_store.get_session(key)[0].stats_computed_at > before)


async def test_markup_and_control_characters_in_data_are_shown_literally(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(SessionTable)
        await pilot.press("slash", *"odd", "enter")
        await until(pilot, lambda: table.row_count == 1)
        line = "".join(table.render_line(y).text for y in range(3))
        assert "-[bold]odd" in line  # the name column is cut, but the markup is literal
        app.query_one("#query", Input).value = "weird"  # a prompt with [/], [bold] and an ESC sequence
        await pilot.press("slash", "enter")
        await until(pilot, lambda: table.row_count == 1 and table.row_at(0).session_id.startswith("20251112_1815"))
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None and panel.stats.session_id.startswith("20251112_1815"))
        panel.scroll_end(animate=False)  # the prompt is the last section
        await pilot.pause()
        screen = app.export_screenshot()
        assert "closing&#160;[bold]x" in screen and "\\x1b[31m" in screen and "\x1b" not in screen


async def test_a_worker_result_arriving_while_the_app_closes_is_dropped(make_app):
    """A query or refresh finishing during exit must not reach widgets being removed."""
    import threading

    from sdsessions_tui.core.filters import ParsedQuery, SessionSort

    app = make_app()
    errors: list[BaseException] = []

    def late_result() -> None:
        try:
            app.deliver(app._show_result, ParsedQuery(), SessionSort(), [1], 1, app._latest)
        except BaseException as error:  # noqa: BLE001 - what the worker thread would have died of
            errors.append(error)

    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.pause(0.3)  # the details have settled
        await app.table.remove()  # the list is gone, as during shutdown
        thread = threading.Thread(target=late_result)
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.01)
    assert not errors
