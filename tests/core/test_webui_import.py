"""The web UI import: its key is a folder name, ours a session — every same-named session gets the row,
and a row for a folder not seen yet waits for it (applied by a refresh or the watcher)."""

import sqlite3

import pytest

from sdsessions_tui.core import refresh as refresh_module
from sdsessions_tui.core import watch
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store
from sdsessions_tui.core.webui_import import import_webui_db
from tests.conftest import image_names, write_session
from tests.core import spec_examples as ex

X, LATER = "20251114_093010-hair_test", "20251117_111757-donmain"
WEBUI_TABLE = ("CREATE TABLE session_metadata (session_id TEXT PRIMARY KEY, session_path TEXT NOT NULL, "
               "is_test INTEGER DEFAULT 0, is_complete INTEGER DEFAULT 1, is_favorite INTEGER DEFAULT 0, "
               "user_rating TEXT, user_note TEXT, tags TEXT, auto_metadata TEXT, created_at TEXT NOT NULL, "
               "updated_at TEXT NOT NULL)")


def webui_db(path, *rows):
    """A web UI sessions.db with rows (session_id, is_favorite, rating, note, tags JSON)."""
    with sqlite3.connect(path) as raw:
        raw.execute(WEBUI_TABLE)
        raw.executemany("INSERT INTO session_metadata VALUES (?, '/webui', 0, 1, ?, ?, ?, ?, NULL, "
                        "'2025-11-14T10:00:00', '2025-11-14T10:00:00')", rows)
    raw.close()
    return path


@pytest.fixture
def store(tmp_path, roots):
    with Store(tmp_path / "sessions.db") as opened:
        refresh_module.refresh(opened, roots, retry_delays=())
        yield opened


def keys_by_path(store):
    rows = store.fetch_rows(store.list_ids())
    return {row.session_path: key for key, row in rows.items()}


def test_a_row_applies_to_every_session_of_its_folder_name_each_merged_on_its_own(store, roots, tmp_path):
    gpu1, gpu2 = roots
    keys = keys_by_path(store)
    one, two = keys[str(gpu1 / X)], keys[str(gpu2 / X)]
    store.update_metadata(two, {"user_rating": "dislike", "tags": ["mine"]})
    path = webui_db(tmp_path / "webui.db", (X, 1, "like", "from the web UI", '["keep"]'))
    report = import_webui_db(store, path)
    assert (report.rows, report.changed, report.unchanged, report.pending) == (1, 1, 0, 0)
    assert report.shared == [f"{X}: applied to the 2 sessions of this folder name ({gpu1 / X}, {gpu2 / X})"]
    assert report.conflicts == [f"{X} ({gpu2 / X}): rating here is dislike, web UI says like; kept ours"]
    first, second = store.get_metadata(one), store.get_metadata(two)
    assert (first.is_favorite, first.user_rating, first.user_note, first.tags) == (
        True, "like", "from the web UI", ("keep",))
    assert (second.is_favorite, second.user_rating, second.user_note, second.tags) == (
        True, "dislike", "from the web UI", ("mine", "keep"))
    assert first.auto_metadata == second.auto_metadata == {"webui_is_complete": True}
    again = import_webui_db(store, path)  # running it again changes nothing
    assert (again.changed, again.unchanged) == (0, 1)
    assert store.get_metadata(one).version == first.version and store.get_metadata(two).version == second.version


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_row_for_a_folder_not_seen_yet_waits_and_goes_to_the_first_session_of_that_name(store, roots, tmp_path,
                                                                                          via):
    gpu1, _gpu2 = roots
    path = webui_db(tmp_path / "webui.db", (LATER, 1, "like", "seen on the web UI", '["later", "Keep"]'))
    report = import_webui_db(store, path)
    assert (report.rows, report.changed, report.pending) == (1, 1, 1)
    (waiting,) = store.pending_metadata()
    assert (waiting.session_id, waiting.tags, waiting.is_favorite) == (LATER, ("later", "Keep"), True)
    again = import_webui_db(store, path)
    assert (again.changed, again.unchanged, again.pending) == (0, 1, 1)
    assert store.pending_metadata() == [waiting]  # unchanged, version included
    folder = write_session(gpu1, LATER, manifest=ex.example_d(), images=image_names(ex.example_d()))
    if via == "refresh":
        refresh_module.refresh(store, roots, retry_delays=())
    else:
        watch.apply_changes(store, [str(root) for root in roots], {str(folder)})
    key = keys_by_path(store)[str(folder)]
    meta = store.get_metadata(key)
    assert (meta.is_favorite, meta.user_rating, meta.user_note, meta.tags, meta.auto_metadata) == (
        True, "like", "seen on the web UI", ("later", "Keep"), {"webui_is_complete": True})
    assert store.pending_metadata() == []
    assert store.list_ids(SessionFilter(tags_all=("keep",))) == [key]
    assert store.list_ids(SessionFilter(text=("seen on the web",))) == [key]
    final = import_webui_db(store, path)  # now merged into the session: still nothing to change
    assert (final.changed, final.unchanged, final.pending) == (0, 1, 0)
    assert store.get_metadata(key).version == meta.version

