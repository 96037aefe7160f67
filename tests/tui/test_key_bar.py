"""The one-line footer: the focused widget's keys from the registry, clicks run them, the palette's key
stays at the right edge."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from sdsessions_tui.tui.key_bar import KeyBar


class BarApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("x", "mark", "Mark"),
                Binding("h", "hidden", "Hidden", show=False), Binding("y", "mark", "Mark too")]

    def __init__(self) -> None:
        super().__init__()
        self.marks = 0

    def compose(self) -> ComposeResult:
        yield Input(id="entry")
        yield KeyBar()

    def action_mark(self) -> None:
        self.marks += 1


def bar_text(app: App[None]) -> str:
    return str(app.query_one(KeyBar).render())


async def unfocused_bar_text(pilot) -> str:
    """The bar with no widget focused: the app's own keys only."""
    pilot.app.set_focus(None)
    await pilot.pause()
    return bar_text(pilot.app)


async def test_shows_each_action_once_and_the_palette_key_at_the_right_edge():
    app = BarApp()
    async with app.run_test(size=(80, 10)) as pilot:
        text = await unfocused_bar_text(pilot)
        assert text.startswith(" q Quit  x Mark ")
        assert "Hidden" not in text and "Mark too" not in text  # not shown / same action
        assert text.rstrip().endswith("^p palette") and len(text) == 80


async def test_follows_the_focus_and_drops_keys_that_would_reach_the_palette():
    app = BarApp()
    async with app.run_test(size=(80, 10)) as pilot:
        unfocused = await unfocused_bar_text(pilot)
        app.query_one(Input).focus()
        await pilot.pause()
        assert bar_text(app) != unfocused  # the input's own keys come first
    async with BarApp().run_test(size=(24, 10)) as pilot:
        text = await unfocused_bar_text(pilot)
        assert text.startswith(" q Quit ") and "Mark" not in text and text.rstrip().endswith("^p palette")


async def test_a_click_runs_the_key_and_the_hovered_key_is_highlighted():
    app = BarApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        bar = app.query_one(KeyBar)
        await pilot.click(KeyBar, offset=(10, 0))  # on " x Mark "
        await pilot.pause()
        assert app.marks == 1
        await pilot.hover(KeyBar, offset=(10, 0))
        await pilot.pause()
        hover = bar.get_component_rich_style("key-bar--hover", partial=True)
        line = bar.render()
        assert line.get_style_at_offset(app.console, 10).bgcolor == hover.bgcolor
        assert line.get_style_at_offset(app.console, 2).bgcolor != hover.bgcolor
        await pilot.click(KeyBar, offset=(2, 0))  # q: quits
        await pilot.pause()
    assert app.return_code == 0
