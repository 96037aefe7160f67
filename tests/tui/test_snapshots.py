"""Screenshots of the app at 80×24 and 160×50, compared with pytest-textual-snapshot.

Data, file times, tree location and image renderer (halfcell) are fixed, so the
pictures only change when the UI does.  Update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.images import configure_images
from sdsessions_tui.tui.session_table import SessionTable
from tests.tui.tree import build_tree, session_key

#: A fixed place, because the details panel shows the session path.
TREE = Path(tempfile.gettempdir()) / "sdsessions-snapshot-tree"


@pytest.fixture
def snapshot_app(tmp_path):
    shutil.rmtree(TREE, ignore_errors=True)
    build_tree(TREE / "sessions")
    store = Store(tmp_path / "snap.db")
    refresh(store, [TREE / "sessions"], retry_delays=(), workers=1)
    store.update_metadata(session_key(store, "20251114_093010-hair_test"),
                          {"is_favorite": True, "tags": ["keep"], "user_rating": "like"})
    configure_images("halfcell")
    yield SessionsApp(store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False)
    store.close()
    shutil.rmtree(TREE, ignore_errors=True)


async def _settle(pilot, *keys: str) -> None:
    table = pilot.app.query_one(SessionTable)
    for _ in range(100):
        if table.row_count and pilot.app.query(".chip") and pilot.app.query("#details"):  # (after the rows)
            break
        await pilot.pause(0.02)
    await pilot.press(*keys)
    await pilot.pause(0.3)  # the details debounce and the thumbnail delay
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_list_and_details_160x50(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(160, 50), run_before=lambda pilot: _settle(pilot, "j"))


def test_list_80x24(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=lambda pilot: _settle(pilot))


def test_details_full_screen_80x24(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=lambda pilot: _settle(pilot, "j", "enter"))


async def _bad_query(pilot) -> None:
    """A good query, then a bad one, each applied at once (Enter), so no debounce timing shows."""
    await _settle(pilot)
    query = pilot.app.query_one("#query")
    query.cursor_blink = False  # a steady cursor: the picture does not depend on the blink's phase
    for text in ("is:sweep", "is:sweep steps:abc"):
        query.value = text
        await pilot.press("slash", "enter")
        await pilot.pause(0.3)
        await pilot.app.workers.wait_for_complete()
    await pilot.press("slash")
    await pilot.pause()


def test_bad_query_shows_its_error_80x24(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=_bad_query)


async def _tag_saved(pilot) -> None:
    """``e``, a tag added, Tab: then waits for the save (1 s after the edit), not for a fixed time."""
    await _settle(pilot, "j", "e", *"best", "enter", "tab")
    indicator = pilot.app.query_one("#save-state")
    for _ in range(250):
        if "saved" in str(indicator.render()) and "unsaved" not in str(indicator.render()):
            break
        await pilot.pause(0.02)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)  # a frame with the saved state


def test_details_in_edit_mode_160x50(snap_compare, snapshot_app):
    """The tag and note editor open above the details of a tagged session (``e`` on it)."""
    assert snap_compare(snapshot_app, terminal_size=(160, 50), run_before=_tag_saved)
