"""The small, deterministic sessions tree of the app's Pilot, snapshot and terminal tests, and its keys."""

from __future__ import annotations

import json
from pathlib import Path

from sdsessions_tui.core.store import Store
from tests.conftest import write_session
from tests.core import spec_examples as ex

#: Fixed file times (2025-11-18 00:00 UTC): statuses and image times do not move with the clock.
FIXED_MTIME = 1_763_424_000.0
HAIR = "20251114_093010-hair_test"  # tagged "keep" and "[red]x[/]" by the app_store fixture


def _images(manifest):
    return [image["filename"] for image in manifest["images"]]


def build_tree(root: Path) -> None:
    weird = ex.example_b()
    weird["snapshot"]["resolved_template"]["prompt"] = "weird [/] closing [bold]x \x1b[31m red"
    sessions = {
        "20251112_181502-Teasing-cyberpunk-default": weird,
        HAIR: ex.example_c(),
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


def changed_tree(tmp_path: Path) -> Path:
    """The fixture's tree (under ``tmp_path / "sessions"``) with one more session: a refresh must write."""
    manifest = ex.example_c()
    write_session(tmp_path / "sessions", "20251119_101010-new_one", manifest=manifest,
                  images=_images(manifest))
    return tmp_path / "sessions"


def session_key(store: Store, name: str) -> int:
    """The key of the one session of this folder name."""
    (key,) = [key for key, row in store.fetch_rows(store.list_ids()).items() if row.session_id == name]
    return key


def hair_key(store: Store) -> int:
    return session_key(store, HAIR)
