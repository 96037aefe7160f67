"""The database of the app's Pilot tests (the tree of :mod:`tests.tui.tree`, one session flagged and tagged),
and the app on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui import app as app_module
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.images import configure_images
from tests.tui.tree import HAIR, build_tree, session_key


@pytest.fixture
def app_store(tmp_path: Path) -> Store:
    root = tmp_path / "sessions"
    build_tree(root)
    store = Store(tmp_path / "app.db")
    refresh(store, [root], retry_delays=(), workers=1)
    store.update_metadata(session_key(store, HAIR),
                          {"is_favorite": True, "tags": ["keep", "[red]x[/]"], "user_rating": "like"})
    yield store
    store.close()


@pytest.fixture
def make_app(app_store: Store, tmp_path: Path):
    configure_images("halfcell")

    def make() -> SessionsApp:
        return SessionsApp(app_store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False)

    return make


@pytest.fixture
def notified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message the app's toasts said, kept: a toast lasts as long as its retry delay
    (0.2 s in some tests), which a loaded machine's polling can miss."""
    said: list[str] = []
    notify = SessionsApp.notify

    def recording(self: SessionsApp, message: str, **kwargs: object) -> None:
        said.append(message)
        notify(self, message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SessionsApp, "notify", recording)
    return said


@pytest.fixture
def held_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits wait for Ctrl+S, ``q`` or the test's own step: no save starts on its own while a test
    arranges what another instance does meanwhile (the real delays, 0.5 and 1 s, can pass between
    two key presses on a loaded machine)."""
    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 30.0)
    monkeypatch.setattr(save_queue, "TEXT_SAVE_DELAY", 30.0)


@pytest.fixture
def quick_outside_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app looks for other instances' changes every 0.1 s, so a test sees them come in quickly."""
    monkeypatch.setattr(app_module, "EXTERNAL_CHECK_INTERVAL", 0.1)
