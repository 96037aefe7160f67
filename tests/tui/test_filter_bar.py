"""The filter bar on its own: its input, chips and pickers are its own, and the app hears one message."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input, Select

from sdsessions_tui.tui.filter_bar import FROM_TEXT, FilterBar
from tests.tui.helpers import until

MODELS = [("ponyDiffusionV6XL.safetensors [67ab2fd8ec]", 4), ("flux1-dev.safetensors", 2)]


class BarApp(App[None]):
    """Hosts a bare FilterBar and records what reaches the app."""

    def __init__(self) -> None:
        super().__init__()
        self.edits: list[tuple[str, bool]] = []
        self.submitted_inputs: list[str] = []

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter-bar")

    async def on_mount(self) -> None:
        bar = self.query_one(FilterBar)
        await bar.add_controls()
        bar.set_models(MODELS)

    def on_filter_bar_query_edited(self, event: FilterBar.QueryEdited) -> None:
        self.edits.append((event.text, event.submitted))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submitted_inputs.append(event.value)  # the bar's own input: it should never get here


async def test_the_bar_keeps_text_and_pickers_in_step_and_the_app_hears_one_message() -> None:
    app = BarApp()
    async with app.run_test(size=(160, 10)) as pilot:
        query = app.query_one("#query", Input)
        models = app.query_one("#model-picker", Select)
        await until(pilot, lambda: len(models._options) > 2)  # filled: the prompt and two models
        models.value = MODELS[0][0]  # picked
        await until(pilot, lambda: query.value == "model:ponydiffusionv6xl.safetensors")
        await until(pilot, lambda: ("model:ponydiffusionv6xl.safetensors", False) in app.edits)
        query.value = "model:pony cat"  # typed by hand: what no choice says
        await until(pilot, lambda: models.value == FROM_TEXT)
        await pilot.click("#chip-liked")
        await until(pilot, lambda: query.value == "model:pony cat is:liked" and models.value == FROM_TEXT)
        query.focus()
        await pilot.press("enter")  # applied: the same one message, marked as submitted
        await until(pilot, lambda: ("model:pony cat is:liked", True) in app.edits)
        assert app.submitted_inputs == []
