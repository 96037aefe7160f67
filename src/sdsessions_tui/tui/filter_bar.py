"""The filter bar: the query input, toggle chips, a model and a date picker, the count and the error line.

The query text is the single source of truth: a chip toggles its term in the
text (``toggle_term``), a picker replaces its terms there (``replace_terms``),
the rest of the text staying as typed.  The chips' lit state is read back from
the parsed filter, and the pickers show what the text's terms say at every edit
(typed, cleared, or changed by a chip), so text, chips and pickers never disagree.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select

from ..core.filters import SessionFilter
from ..core.flags import COMPLETE, FLAGS, LIKED, TEST, Flag
from ..core.query import QueryError, replace_terms, term_values, toggle_term, value_term
from ..core.text import clean_text, display_model
from .commands import bindings


def _flag_chip(flag: Flag) -> tuple[str, str, str]:
    return f"chip-{flag.label}", flag.chip, flag.term


#: (chip id, label, query term); :func:`chip_lit` says whether a parsed filter lights it.
CHIPS: tuple[tuple[str, str, str], ...] = (
    _flag_chip(LIKED),
    _flag_chip(TEST),
    ("chip-sweep", "sweep", "is:sweep"),
    _flag_chip(COMPLETE),
    ("chip-running", "running", "status:running"),
    ("chip-aborted", "aborted", "status:aborted"),
)
#: (label, the ``date:`` value it writes): relative, so a saved or repeated query stays current.
DATE_CHOICES: tuple[tuple[str, str], ...] = (
    ("today", "today"), ("7 days", "7d"), ("1 month", "1m"), ("3 months", "3m"), ("1 year", "12m"))
#: A picker's option for terms the text has but none of its choices says (``model:pony``, ``date:2025-11``).
FROM_TEXT = "\x00from the text"
#: The query key each picker edits.
PICKER_KEYS = {"model-picker": "model", "date-picker": "date"}


def chip_lit(chip_id: str, f: SessionFilter) -> bool:
    return {
        **{_flag_chip(flag)[0]: getattr(f, flag.label) is True for flag in FLAGS},
        "chip-sweep": f.sweep is True,
        "chip-running": "running" in f.statuses,
        "chip-aborted": "aborted" in f.statuses,
    }[chip_id]


def _picker_key(key: str, value: str) -> str:
    """What a picker compares: models by name without their hash, any case; dates as written, any case."""
    return (display_model(value) if key == "model" else value).strip().lower()


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
        self.update(Text(text), layout=state == "error")  # (a failure names a path: never markup)
        self.set_class(bool(text), "-shown")  # hidden while there is nothing to say: the input keeps the room
        for name in ("unsaved", "saving", "saved", "error"):
            self.set_class(name == state, f"-{name}")


class FilterBar(Vertical):
    """Posts :class:`FilterBar.QueryEdited` whenever the query text changes (typed, chip or picker), and
    when Enter applies it: the one message the app needs.  The chips, pickers and input are the bar's
    own; their events stop here, so the text and the pickers are kept in step in one place.

    The chips and pickers (14 widgets, a fifth of the screen's) arrive after the first frame
    (:meth:`add_controls`): their row keeps its line meanwhile, so nothing moves when they do.
    """

    BINDINGS = bindings("filter")

    class QueryEdited(Message):
        """The query text now: ``submitted`` when Enter applies it (run it now, back to the list),
        else an edit (typed, a chip, a pick: worth a debounce)."""

        def __init__(self, text: str, *, submitted: bool = False) -> None:
            super().__init__()
            self.text = text
            self.submitted = submitted

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._filter = SessionFilter()
        self._models: list[tuple[str, int]] | None = None
        self._choices: dict[str, list[tuple[Text, str]]] = {
            "model-picker": [], "date-picker": [(Text(label), value) for label, value in DATE_CHOICES]}
        """Each picker's own options (the text's extra option aside)."""
        self._shown_options: dict[str, list[tuple[Text, str]]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="query-row"):
            yield Input(placeholder="filter: model:flux tag:keep is:liked date:7d cat on a mat   (/ to focus)",
                        id="query")
            yield Label("", id="count")
            yield Label("watch paused", id="watch-state")  # (shown while W has paused watching)
            yield SaveIndicator()
        with Horizontal(id="controls"):  # one line: the chips and pickers, or an error in their place
            yield Horizontal(id="chips")
            yield Label("", id="query-error")

    async def add_controls(self) -> None:
        """Mount the chips and pickers, showing the filter and models they were given meanwhile."""
        await self.query_one("#chips", Horizontal).mount_all([
            *(Button(label, id=chip_id, classes="chip", compact=True) for chip_id, label, _term in CHIPS),
            Select[str]([], prompt="model", id="model-picker", compact=True),
            Select[str]([], prompt="any date", id="date-picker", compact=True)])
        self.show_filter(self._filter)
        self._show_pickers()

    @property
    def query_input(self) -> Input:
        return self.query_one("#query", Input)

    def set_models(self, models: list[tuple[str, int]]) -> None:
        """Fill the model picker with the known models (most used first): the count, then the name
        (one line each, cut with an ellipsis: screens.tcss)."""
        self._models = models
        self._choices["model-picker"] = [
            (Text(f"{count:>5} {clean_text(display_model(name))}"), name)
            for name, count in models]
        self._show_pickers()

    def _show_pickers(self, text: str | None = None) -> None:
        """Each picker shows what the text's terms say: one of its choices, the terms themselves
        (an option of their own), or nothing.  Never edits the text back."""
        text = self.query_input.value if text is None else text
        for picker_id, key in PICKER_KEYS.items():
            picker = self.query_one_optional(f"#{picker_id}", Select)
            values = term_values(text, key)
            if picker is None or values is None:  # (an unclosed quote: the words are not known yet)
                continue
            choices = self._choices[picker_id]
            wanted = [_picker_key(key, value) for value in values]
            chosen = next((value for _label, value in choices if [_picker_key(key, value)] == wanted), None)
            options = choices
            if values and chosen is None:
                label = " ".join(value_term(key, value) for value in values)
                options = [(Text(clean_text(label)), FROM_TEXT), *choices]
                chosen = FROM_TEXT
            with self.prevent(Select.Changed):  # what the text says: not an edit of it
                if self._shown_options.get(picker_id) != options:
                    picker.set_options(options)
                    self._shown_options[picker_id] = options
                if picker.value != (Select.NULL if chosen is None else chosen):
                    picker.value = Select.NULL if chosen is None else chosen

    def show_result(self, shown: int, total: int, *, more: bool = False) -> None:
        """``shown`` of ``total`` sessions; ``more``: at least ``shown`` (the rest is being listed)."""
        # fixed width in screens.tcss: no layout pass (it would re-arrange the whole screen per filter)
        text = f"{shown:,}{'+' if more else ''} of {total:,}".replace(",", " ")
        self.query_one("#count", Label).update(text, layout=False)

    def show_watch_paused(self, paused: bool) -> None:
        """A lasting word beside the count while the folders are not watched (W)."""
        self.query_one("#watch-state", Label).set_class(paused, "-shown")

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
            self._show_pickers(event.value)
            self.post_message(self.QueryEdited(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "query":
            event.stop()
            self.post_message(self.QueryEdited(event.value, submitted=True))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        term = next((term for chip_id, _label, term in CHIPS if chip_id == event.button.id), None)
        if term is not None:
            event.stop()
            self._edit(lambda text: toggle_term(text, term))

    def on_select_changed(self, event: Select.Changed) -> None:
        """The user picked: the picker's terms in the text are replaced (the rest stays as typed)."""
        key = PICKER_KEYS.get(str(event.select.id))
        if key is None:
            return
        event.stop()
        if event.value == FROM_TEXT:
            return  # the text's own terms: already there
        value = None if event.value is Select.NULL else str(event.value)
        if key == "model" and value is not None:
            value = display_model(value).lower()  # models match by substring: the name, not its hash
        self._edit(lambda text: replace_terms(text, key, None if value is None else value_term(key, value)))

    def _edit(self, change: Callable[[str], str]) -> None:
        try:
            self.query_input.value = change(self.query_input.value)
        except QueryError as error:  # an unclosed quote: the words cannot be edited yet
            self.show_error(f"{error.message}: close it first")
            self._show_pickers()  # (a pick is undone)
