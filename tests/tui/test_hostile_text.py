"""Text from data and user input never reaches the screen as Rich or Textual markup.

Every message path that can carry such text: the filter's error line (each kind of term), the
save indicator (a failed save names the database path), toasts (errors naming folders, the
watcher's notices), the command palette's key hints.  ``[/]`` read as markup crashes the app
(MarkupError); ``[bold]`` or ``[link=…]`` would restyle it; escapes would reach the terminal.
"""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.text import clean_text
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.edit_screens import ApplyMenu
from sdsessions_tui.tui.messages import Notice
from tests.tui.helpers import error_text, ready, save_text, until, until_toast

#: Each would be read as markup (or reach the terminal raw) if a path let it through.
HOSTILE = ("[/]", "[bold]x", "[link=x]y[/link]", "a\x1b[31mred", "b\x07\x08")
#: A database path as a failed save names it.
DB_PATH = "/data/x[/]y [bold]z/sessions.db"
#: Terms whose error quotes the value; the value is hostile.
TERMS = ("steps:{}", "cfg:{}", "date:{}", "rating:{}", "size:{}", "status:{}", "is:{}", "sort:{}")


@pytest.mark.parametrize("term", TERMS)
async def test_the_filter_error_line_shows_hostile_values_as_typed(make_app, term):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        query = app.query_one("#query", Input)
        for value in HOSTILE:
            query.value = term.format(value)
            await pilot.press("enter")
            await until(pilot, lambda: clean_text(value) in error_text(app))  # noqa: B023  # awaited in this pass
            assert "\x1b" not in error_text(app) and "\x07" not in error_text(app)


async def test_a_failed_save_naming_a_path_with_markup_shows_it_literally(make_app, app_store, monkeypatch):
    def refused(_edits):
        raise StoreError(f"the database {DB_PATH} is read-only \x1b[2J")

    monkeypatch.setattr(app_store, "apply_edits", refused)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.press("f", "ctrl+s")
        await until(pilot, lambda: "not saved" in save_text(app))
        assert DB_PATH in save_text(app) and "\x1b" not in save_text(app)
        await pilot.press("q")  # the quit's own flush fails too: its message is the same kind
        await until(pilot, lambda: "q again quits anyway" in save_text(app))
        assert DB_PATH in save_text(app)


async def test_toasts_show_folder_names_and_errors_literally(make_app, app_store, monkeypatch):
    folder = "/sessions/x[/]y[bold]z\x1b[31m"

    def unreadable(*_args, **_kwargs):
        raise StoreError(f"cannot read {folder}")

    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        table = await ready(pilot)
        monkeypatch.setattr(app_store, "recompute", unreadable)
        await pilot.press("r")
        assert clean_text(folder) in await until_toast(pilot, "could not be re-read")

        app.post_message(Notice(f"Watching by polling every 2 s: {folder} [link=x]"))
        assert "[link=x]" in await until_toast(pilot, "Watching by polling")

        monkeypatch.setattr(app_store, "set_metadata_many", unreadable)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApplyMenu))
        await pilot.press("enter")
        assert clean_text(folder) in await until_toast(pilot, "Not applied")

        monkeypatch.setattr(app_store, "fetch_rows", unreadable)
        table.marked.add(table.row_at(1).session_key)  # marked rows are read from the store
        await pilot.press("f")
        assert clean_text(folder) in await until_toast(pilot, "Cannot read the sessions to edit")

        monkeypatch.setattr(app_store, "get_session", unreadable)
        app.show_details_in(app.details_panel, table.cursor_session_key)
        text = await until_toast(pilot, "This session could not be read")
        assert clean_text(folder) in text and "\x1b" not in text


async def test_ctrl_c_says_which_key_quits_in_plain_words(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+c")
        assert "Press q to quit the app" in await until_toast(pilot, "to quit")


async def test_the_palette_shows_a_remapped_key_with_brackets_literally(app_store, tmp_path):
    app = SessionsApp(app_store, [], keymap={"table.sort": "[/]"}, thumbnail_cache=tmp_path / "t",
                      refresh_on_start=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"sort")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: any("Sort" in str(option.prompt) for option in commands.options))
        assert any("[/]" in str(option.prompt) for option in commands.options)
