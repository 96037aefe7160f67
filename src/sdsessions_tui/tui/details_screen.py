"""The details of one session full-screen: what Enter opens below 120 columns (the panel sits beside
the list from there on), and where ``e`` and ``n`` edit on a narrow terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen

from .details import DetailsPanel
from .filter_bar import SaveIndicator
from .key_bar import KeyBar

if TYPE_CHECKING:
    from ..core.store import SessionRow


class DetailsScreen(Screen[None]):
    """The details panel full-screen, for terminals narrower than ``app.WIDE`` columns.

    ``edit``: open the tag or note editor at once, on these sessions (``e`` or ``n`` pressed
    in the table); closing the editor then closes the screen too.
    """

    def __init__(self, key: int, edit: tuple[str, list[SessionRow]] | None = None) -> None:
        super().__init__()
        self.key = key
        self.edit = edit

    def compose(self) -> ComposeResult:
        yield SaveIndicator()
        yield DetailsPanel(thumbnail_cache=self.app.thumbnail_cache, id="details-full")  # type: ignore[attr-defined]
        yield KeyBar()

    async def on_mount(self) -> None:
        panel = self.query_one(DetailsPanel)
        self.app.show_details_in(panel, self.key)  # type: ignore[attr-defined]
        panel.focus()
        self.app.show_save_state()  # type: ignore[attr-defined]  (the indicator of this screen)
        if self.edit is not None:
            editor = await self.app.editor_on(self)  # type: ignore[attr-defined]
            self.app.open_editor(editor, *self.edit)  # type: ignore[attr-defined]
