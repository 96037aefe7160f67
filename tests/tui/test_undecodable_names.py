"""The app on a session whose folder and image names are not UTF-8: listed, detailed, thumbnailed, escaped."""

from __future__ import annotations

import os
from pathlib import Path

from sdsessions_tui.core.refresh import refresh
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.images import configure_images
from sdsessions_tui.tui.session_table import SessionTable
from tests.conftest import png_bytes, write_session
from tests.tui.helpers import panel_text, until

NAME = os.fsdecode(b"20251114_093010-caf\xe9")


async def test_such_a_session_is_shown_escaped(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    folder = write_session(root, NAME)
    (folder / os.fsdecode(b"img_\xff_0001.png")).write_bytes(png_bytes())
    configure_images("halfcell")
    with Store(tmp_path / "app.db") as store:
        refresh(store, [root], retry_delays=(), workers=1)
        app = SessionsApp(store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(SessionTable)
            await until(pilot, lambda: table.row_count == 1 and app.query("#details"))
            assert "caf\\xe9" in table.render_line(1).text
            panel = app.query_one("#details", DetailsPanel)
            await until(pilot, lambda: panel.stats is not None and panel.stats.session_path == str(folder))
            text = panel_text(panel)
            assert "id 20251114_093010-caf\\xe9" in text and "\ufffd" not in text
            await until(pilot, lambda: panel.thumbnail.state not in ("empty", "loading"), 10)
            await app.workers.wait_for_complete()
            assert panel.thumbnail.state == "shown"  # the image was found and opened
            assert panel.thumbnail.source == folder / os.fsdecode(b"img_\xff_0001.png")
