"""The filter bar: the query input, toggle chips, a model and a date picker, the count and the error line.

The query text is the single source of truth: a chip toggles its term in the
text (``toggle_term``), the pickers rewrite their terms, and the chips' lit
state is read back from the parsed filter, so text and chips never disagree.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select

from ..core.filters import SessionFilter, SessionSort
from ..core.query import format_filter, toggle_term
from ..core.text import clean_text
from .commands import bindings

#: (chip id, label, query term, "is it lit?" for a parsed filter)
CHIPS: tuple[tuple[str, str, str], ...] = (
    ("chip-liked", "♥ liked", "is:liked"),
    ("chip-test", "test", "is:test"),
    ("chip-sweep", "sweep", "is:sweep"),
    ("chip-complete", "complete", "is:complete"),
    ("chip-running", "running", "status:running"),
    ("chip-aborted", "aborted", "status:aborted"),
)
DATE_CHOICES: tuple[tuple[str, int], ...] = (("today", 0), ("7 days", 6), ("30 days", 29), ("1 year", 364))


def chip_lit(chip_id: str, f: SessionFilter) -> bool:
    return {
        "chip-liked": f.liked is True,
        "chip-test": f.test is True,
        "chip-sweep": f.sweep is True,
        "chip-complete": f.complete is True,
        "chip-running": "running" in f.statuses,
        "chip-aborted": "aborted" in f.statuses,
    }[chip_id]


class SaveIndicator(Label):
    """Whether the edited sessions are saved: unsaved → saving → saved, or why not.

    Beside the result count, and at the top of the full-screen details (narrow
    terminals), so it is in view wherever an edit is made.
    """

    def __init__(self) -> None:
        super().__init__("", id="save-state")
        self._shown: tuple[str, str] = ("idle", "")

    def show(self, state: str, text: str) -> None:
        if (state, text) == self._shown:
            return  # every edit key says "unsaved": repainting the same words costs its frame a screen's width
        self._shown = (state, text)
        # a fixed width but for an error (long, rare): no layout pass of the screen per key press
        self.update(text, layout=state == "error")
        self.set_class(bool(text), "-shown")  # hidden while there is nothing to say: the input keeps the room
        for name in ("unsaved", "saving", "saved", "error"):
            self.set_class(name == state, f"-{name}")


class FilterBar(Vertical):
    """Posts :class:`FilterBar.QueryEdited` whenever the query text changes (typed, chip or picker).

    The chips and pickers (14 widgets, a fifth of the screen's) arrive after the first frame
    (:meth:`add_controls`): their row keeps its line meanwhile, so nothing moves when they do.
    """

    BINDINGS = bindings("filter")

    class QueryEdited(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._filter = SessionFilter()
        self._models: list[tuple[str, int]] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="query-row"):
            yield Input(placeholder="filter: model:flux tag:keep is:liked date:7d cat on a mat   (/ to focus)",
                        id="query")
            yield Label("", id="count")
            yield SaveIndicator()
        with Horizontal(id="controls"):  # one line: the chips and pickers, or an error in their place
            yield Horizontal(id="chips")
            yield Label("", id="query-error")

    async def add_controls(self) -> None:
        """Mount the chips and pickers, showing the filter and models they were given meanwhile."""
        await self.query_one("#chips", Horizontal).mount_all([
            *(Button(label, id=chip_id, classes="chip", compact=True) for chip_id, label, _term in CHIPS),
            Select[str]([], prompt="model", id="model-picker", compact=True),
            Select[int]([(label, days) for label, days in DATE_CHOICES], prompt="any date", id="date-picker",
                        compact=True)])
        self.show_filter(self._filter)
        if self._models is not None:
            self.set_models(self._models)

    @property
    def query_input(self) -> Input:
        return self.query_one("#query", Input)

    def set_models(self, models: list[tuple[str, int]]) -> None:
        """Fill the model picker with the known models (most used first)."""
        self._models = models
        for picker in self.query("#model-picker").results(Select):
            picker.set_options([(Text(f"{clean_text(name)} ({count})"), name) for name, count in models])

    def show_result(self, shown: int, total: int, *, more: bool = False) -> None:
        """``shown`` of ``total`` sessions; ``more``: at least ``shown`` (the rest is being listed)."""
        # fixed width in screens.tcss: no layout pass (it would re-arrange the whole screen per filter)
        text = f"{shown:,}{'+' if more else ''} of {total:,}".replace(",", " ")
        self.query_one("#count", Label).update(text, layout=False)

    def show_error(self, message: str | None) -> None:
        """An error in the chips' line, in their place while it shows: the list below never moves."""
        error = self.query_one("#query-error", Label)
        error.update(Text(clean_text(message or "")), layout=False)  # (data, never markup)
        self.set_class(bool(message), "-error")

    def show_filter(self, f: SessionFilter) -> None:
        """Light the chips that the current (last good) filter contains."""
        self._filter = f
        for chip in self.query(".chip").results(Button):
            chip.set_class(chip_lit(str(chip.id), f), "-on")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "query":
            event.stop()
            self.post_message(self.QueryEdited(event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        term = next((term for chip_id, _label, term in CHIPS if chip_id == event.button.id), None)
        if term is not None:
            event.stop()
            self.query_input.value = toggle_term(self.query_input.value, term)

    def rewrite(self, f: SessionFilter, sort: SessionSort | None) -> None:
        self.query_input.value = format_filter(f, sort)

    def apply_picker(self, picker_id: str, value: object, current: SessionFilter, sort: SessionSort | None) -> None:
        """A picker replaces its part of the current filter (the text is rewritten canonically)."""
        if picker_id == "model-picker":
            models = () if value is Select.NULL else (str(value).split(" [")[0].lower(),)
            self.rewrite(replace(current, models=models), sort)
        elif picker_id == "date-picker":
            if value is Select.NULL:
                self.rewrite(replace(current, date_from=None, date_to=None), sort)
            else:
                today = date.today()
                self.rewrite(replace(current, date_from=today - timedelta(days=int(value)), date_to=today), sort)
