"""The details of one session full-screen: what Enter opens below 120 columns (the panel sits beside
the list from there on), and where ``e`` and ``n`` edit on a narrow terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.screen import Screen

from .details import DetailsPanel
from .filter_bar import SaveIndicator
from .key_bar import KeyBar

if TYPE_CHECKING:
    from ..core.store import SessionRow
    from .edit_actions import MetadataEditing


@runtime_checkable
class DetailsHost(Protocol):
    """What the full-screen details ask of the app that pushes them (:class:`~.app.SessionsApp`):
    named here, so the screen needs neither the app's module (it imports this one) nor a cast."""

    thumbnail_cache: Path | None

    editing: MetadataEditing

    def show_details_in(self, panel: DetailsPanel, session_key: int | None) -> None: ...


class DetailsScreen(Screen[None]):
    """The details panel full-screen, for terminals narrower than ``app.WIDE`` columns.

    ``edit``: open the tag or note editor at once, on these sessions (``e`` or ``n`` pressed
    in the table); closing the editor then closes the screen too.
    """

    def __init__(self, session_key: int, edit: tuple[str, list[SessionRow]] | None = None) -> None:
        super().__init__()
        self.session_key = session_key
        self.edit = edit

    @property
    def sessions_app(self) -> DetailsHost:
        """``app``, checked: this screen is pushed by :class:`~.app.SessionsApp` only."""
        app = self.app
        assert isinstance(app, DetailsHost)
        return app

    def compose(self) -> ComposeResult:
        yield SaveIndicator()
        yield DetailsPanel(thumbnail_cache=self.sessions_app.thumbnail_cache, id="details-full")
        yield KeyBar()

    async def on_mount(self) -> None:
        panel = self.query_one(DetailsPanel)
        self.sessions_app.show_details_in(panel, self.session_key)
        panel.focus()
        editing = self.sessions_app.editing
        editing.show_save_state()  # (the indicator of this screen)
        if self.edit is not None:
            editor = await editing.editor_on(self)
            editing.open_editor(editor, *self.edit)
