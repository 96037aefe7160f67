"""The F1 help screen: built from the command registry, keymap-aware, dismissed by Esc, F1 or q."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer

from sdsessions_tui.tui.commands import COMMANDS, commands_for
from sdsessions_tui.tui.help import HelpScreen, key_label
from tests.tui.helpers import screen_text


class HelpApp(App[None]):
    """A tiny app whose F1 (and startup) opens the help for the given scopes."""

    BINDINGS = [("f1", "help", "Help")]

    def __init__(self, scopes: tuple[str, ...], keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.scopes = scopes
        self.keymap = keymap or {}
        self.closed = 0

    def compose(self) -> ComposeResult:
        yield Footer()

    def on_mount(self) -> None:
        self.action_help()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.scopes, self.keymap), lambda _result: self._count())

    def _count(self) -> None:
        self.closed += 1


def shown_ids(screen: HelpScreen) -> set[str]:
    return {command.id for _scope, _title, rows in screen.sections for _label, command in rows}


@pytest.mark.parametrize("scopes", [("table",), ("filter", "app"), ("details",), ("app",)])
async def test_lists_every_command_of_the_scopes_and_no_other(scopes):
    app = HelpApp(scopes)
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        expected = {command.id for command in commands_for(*scopes, "app")}
        assert shown_ids(screen) == expected
        text = screen_text(screen)
        for command in COMMANDS:
            if command.id in expected:
                assert command.id in text and command.description in text
            else:
                assert command.id not in text


async def test_sections_are_titled_with_everywhere_last():
    app = HelpApp(("table",))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        assert [title for _scope, title, _rows in app.screen.sections] == ["Session list", "Everywhere"]
        text = screen_text(app.screen)
        assert text.index("Session list") < text.index("Everywhere")


async def test_keymap_override_shows_the_new_key():
    app = HelpApp(("table",), {"table.sort": "o", "app.quit": "ctrl+q"})
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        keys = {command.id: label for _s, _t, rows in app.screen.sections for label, command in rows}
        assert keys["table.sort"] == "o"
        assert keys["app.quit"] == "Ctrl+q"
        assert keys["table.down"] == "↓ / j"
        lines = screen_text(app.screen).splitlines()
        sort_line = next(line for line in lines if "table.sort" in line)
        assert sort_line.split()[:2] == ["o", "Sort"]


@pytest.mark.parametrize("key", ["escape", "f1", "q"])
async def test_dismiss_keys(key):
    app = HelpApp(("table",))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.closed == 1
        assert app.is_running  # q closed the help, it did not quit the app


async def test_footer_shows_its_own_close_key_and_hides_the_app_keys():
    app = HelpApp(("table",))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        shown = {binding.description for binding in
                 (active.binding for active in app.screen.active_bindings.values()) if binding.show}
        assert shown == {"Close"}


async def test_scrolls_when_the_terminal_is_short():
    app = HelpApp(("table", "filter", "details"))
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.pause()
        body = app.screen.query_one("#help-body")
        assert body.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        assert isinstance(app.screen, HelpScreen)


def test_key_labels():
    assert key_label("slash") == "/"
    assert key_label("pageup") == "PgUp"
    assert key_label("pagedown") == "PgDn"
    assert key_label("down,j") == "↓ / j"
    assert key_label("home, g") == "Home / g"
    assert key_label("escape") == "Esc"
    assert key_label("enter") == "Enter"
    assert key_label("f1") == "F1"
    assert key_label("ctrl+shift+o") == "Ctrl+Shift+o"
    assert key_label("question_mark") == "?"
    assert key_label("G") == "G"


async def test_key_from_the_config_is_text_not_markup():
    app = HelpApp(("table",), {"table.sort": "[bold]x"})
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        assert "[bold]x" in screen_text(app.screen)
