"""The footer: the keys that work where the focus is, drawn as one line by one widget.

Textual's ``Footer`` is a container holding a widget per key (17 on the main screen), which
every layout pass arranges and measures again: ~10 ms of each details or filter-result frame
(``bench/bench_tui.py``).  :class:`KeyBar` shows the same keys, read from the screen's active
bindings (so the command registry still feeds it), in the stock footer's colours; a click runs
the key and the key under the mouse is highlighted, as in the stock one.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Shown(NamedTuple):
    """One key on the bar: where it is drawn (cells ``start`` to ``end``) and what it does."""

    key: str
    label: str
    description: str
    enabled: bool
    start: int = 0
    end: int = 0
    docked: bool = False
    """The command palette's key, at the right edge behind a separator."""


def _width(entry: Shown) -> int:
    """Cells of `` key description ``."""
    return cell_len(entry.label) + cell_len(entry.description) + 3


class KeyBar(Widget, can_focus=False):
    """The keys of the focused widget and its screen, the command palette's on the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description", "key-bar--hover",
                                             "key-bar--separator"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--hover {
        background: $block-hover-background;
    }
    KeyBar > .key-bar--separator {
        color: $foreground 20%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: list[Shown] = []
        self._hover: str | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def _layout_keys(self, width: int) -> list[Shown]:
        """The keys with their places: left to right, the palette's at the right edge (keys that
        would reach under it are left out, as the stock footer hides them)."""
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        actions: set[str] = set()
        shown: list[Shown] = []
        last: Shown | None = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            entry = Shown(binding.key, self.app.get_key_display(binding), binding.description, active.enabled)
            if key == palette:  # shown even though its binding is not (as the stock footer does)
                last = entry._replace(docked=True, description="palette")  # (short: the registry's is for F1)
            elif binding.show and binding.action not in actions:  # one key per action
                actions.add(binding.action)
                start = shown[-1].end if shown else 0
                shown.append(entry._replace(start=start, end=start + _width(entry)))
        if last is not None:
            start = max(0, width - _width(last))
            shown = [entry for entry in shown if entry.end <= start]
            shown.append(last._replace(start=start, end=start + _width(last)))
        return shown

    def render(self) -> Text:
        self._shown = self._layout_keys(self.size.width)
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        hover_style = self.get_component_rich_style("key-bar--hover", partial=True)
        separator = ("▏", self.get_component_rich_style("key-bar--separator"))
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for entry in self._shown:
            line.append(" " * (entry.start - line.cell_len))
            key = separator if entry.docked else (" ", key_style)
            piece = Text.assemble(key, (f"{entry.label} ", key_style), (f"{entry.description} ", description_style))
            if not entry.enabled:
                piece.stylize("dim")
            if entry.key == self._hover:
                piece.stylize(hover_style)
            line.append_text(piece)
        return line

    def _key_at(self, x: int) -> Shown | None:
        return next((entry for entry in self._shown if entry.start <= x < entry.end), None)

    def on_click(self, event: events.Click) -> None:
        entry = self._key_at(event.x)
        if entry is None:
            return
        event.stop()
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        entry = self._key_at(event.x)
        hover = entry.key if entry is not None else None
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
