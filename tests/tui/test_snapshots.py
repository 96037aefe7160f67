"""Screenshots of the app at 80×24 and 160×50, compared with pytest-textual-snapshot.

Data, file times, the tree's shown location and image renderer (halfcell) are fixed, so
the pictures only change when the UI does.  Each test builds its own tree in its own
temporary folder (tests can run in parallel).  Update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.images import configure_images
from sdsessions_tui.tui.session_table import SessionTable
from sdsessions_tui.tui.thumbnail import Thumbnail
from tests.tui.tree import build_tree, session_key

#: Where the details panel shows the sessions, wherever the test's tree is.
SHOWN = Path("/tmp/sdsessions-snapshot-tree/sessions")


class _ShownStore(Store):
    """The store of a tree in a per-test folder that the details show at :data:`SHOWN`.

    The details panel prints the session's path, which differs from test to test; a fixed place
    shared by the tests would let parallel tests rebuild each other's tree.  So the stats the
    panel reads say :data:`SHOWN`, and their image files keep their real (absolute) paths for
    the thumbnail.
    """

    def __init__(self, path: Path, tree: Path) -> None:
        super().__init__(path)
        self.tree = tree

    def get_session(self, session_key):
        found = super().get_session(session_key)
        if found is None:
            return None
        stats, metadata = found
        real = Path(stats.session_path)
        return replace(stats, session_path=str(SHOWN / real.relative_to(self.tree)),
                       image_files=[str(real / name) for name in stats.image_files]), metadata


@pytest.fixture
def snapshot_app(tmp_path, monkeypatch):
    tree = (tmp_path / "sessions").resolve()
    build_tree(tree)
    # The thumbnail's root is the real one (the panel's shown path is not where the images are,
    # and an image outside its root is never opened).
    request = Thumbnail.request
    monkeypatch.setattr(Thumbnail, "request", lambda self, image, root=None: request(self, image, tree))
    store = _ShownStore(tmp_path / "snap.db", tree)
    refresh(store, [tree], retry_delays=(), workers=1)
    store.update_metadata(session_key(store, "20251114_093010-hair_test"),
                          {"is_favorite": True, "tags": ["keep"], "user_rating": "like"})
    configure_images("halfcell")
    yield SessionsApp(store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False)
    store.close()


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
