"""A small, deterministic sessions tree and database for the app's Pilot and snapshot tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.details import configure_images
from tests.conftest import write_session
from tests.core import spec_examples as ex

#: Fixed file times (2025-11-18 00:00 UTC): statuses and image times do not move with the clock.
FIXED_MTIME = 1_763_424_000.0


def _images(manifest):
    return [image["filename"] for image in manifest["images"]]


def build_tree(root: Path) -> None:
    weird = ex.example_b()
    weird["snapshot"]["resolved_template"]["prompt"] = "weird [/] closing [bold]x \x1b[31m red"
    sessions = {
        "20251112_181502-Teasing-cyberpunk-default": weird,
        "20251114_093010-hair_test": ex.example_c(),
        "20251117_111757-donmain_test_nightclub": ex.example_d(),
        "20251112_184000-api_down": ex.example_e(),
        "2025-10-16_140211_portrait_test.prompt": ex.example_a(),
    }
    for name, manifest in sessions.items():
        write_session(root, name, manifest=manifest, images=_images(manifest), mtime=FIXED_MTIME)
    write_session(root, "20251104_220100-torn", manifest=b'{"snapshot": {', images=["torn_0000.png"],
                  mtime=FIXED_MTIME)
    write_session(root, "20251101_101010-[bold]odd name[i]", manifest=json.loads(json.dumps(ex.example_b())),
                  images=_images(ex.example_b()), mtime=FIXED_MTIME)


def session_key(store: Store, name: str) -> int:
    """The key of the one session of this folder name."""
    (key,) = [key for key, row in store.fetch_rows(store.list_ids()).items() if row.session_id == name]
    return key


@pytest.fixture
def app_store(tmp_path: Path) -> Store:
    root = tmp_path / "sessions"
    build_tree(root)
    store = Store(tmp_path / "app.db")
    refresh(store, [root], retry_delays=(), workers=1)
    store.update_metadata(session_key(store, "20251114_093010-hair_test"),
                          {"is_favorite": True, "tags": ["keep", "[red]x[/]"], "user_rating": "like"})
    yield store
    store.close()


@pytest.fixture
def make_app(app_store: Store, tmp_path: Path):
    configure_images("halfcell")

    def make() -> SessionsApp:
        return SessionsApp(app_store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False)

    return make
