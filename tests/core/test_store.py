"""The SQLite store: schema, connection settings, metadata writes, queries, export."""

import json
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from sdsessions_tui.core import db, engine, migrations, sql_filters
from sdsessions_tui.core import store as store_module
from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.edits import Edit
from sdsessions_tui.core.filters import Range, SessionFilter, SessionSort
from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import MetadataConflict, SessionMetadata, Store, stats_to_row
from tests.conftest import write_session
from tests.core import spec_examples as ex
from tests.core.helpers import add_sessions, filtered, names, stub_sessions


def test_every_connection_has_the_pragmas(store):
    with store.engine.connect() as connection:
        get = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert get("journal_mode") == "wal"
        assert get("synchronous") == 1  # NORMAL
        assert get("busy_timeout") >= 5000
        assert get("foreign_keys") == 1
    with store._read() as reader:
        get = lambda name: reader.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert (get("journal_mode"), get("synchronous"), get("foreign_keys"), get("query_only")) == ("wal", 1, 1, 1)
        assert get("busy_timeout") >= 5000


def test_reading_never_imports_sqlalchemy(tmp_path):
    """The TUI's first paint reads through sqlite3 only; SQLAlchemy waits for the first write."""
    Store(tmp_path / "db.sqlite").close()
    code = ("import sys; from sdsessions_tui.core.store import Store; from sdsessions_tui.core.filters import "
            "SessionFilter; s = Store(sys.argv[1]); s.list_ids(SessionFilter(liked=True, text=('cat',))); "
            "s.fetch_rows([1]); s.get_session(1); s.known_roots(); s.distinct_values('model'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'pydantic')))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "db.sqlite")], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_schema_has_the_upstream_indexes(store):
    with store.engine.connect() as connection:
        indexes = {row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'session_stats'")}
    assert {"idx_session_stats_model", "idx_session_stats_seed_sweep", "idx_session_stats_completion",
            "idx_session_stats_created_at"} <= indexes


def test_rows_and_details(store, sample):
    key = sample["20251114_093010-hair_test"]
    row = store.fetch_rows([key])[key]
    assert (row.images_actual, row.images_expected, row.is_seed_sweep, row.status) == (6, 6, True, "completed")
    assert row.metadata.version == 0 and row.metadata.tags == ()
    stats, metadata = store.get_session(key)
    assert stats.seed_list == [1000, 1001, 1002]
    assert stats.placeholders["HairColor"]["count"] == 2
    assert stats.session_created_at.isoformat() == "2025-11-14T09:30:10"
    assert store.get_session(999_999) is None


def test_partial_metadata_updates_and_clearing(store, sample):
    sid = sample["20251114_093010-hair_test"]
    first = store.update_metadata(sid, {"is_favorite": True, "user_rating": "like", "user_note": "keep",
                                        "tags": ["Keep", " keep ", "portrait", ""]})
    assert (first.is_favorite, first.user_rating, first.user_note, first.tags, first.version) == (
        True, "like", "keep", ("Keep", "portrait"), 1)
    second = store.update_metadata(sid, {"is_test": True})
    assert (second.is_favorite, second.user_rating, second.is_test, second.version) == (True, "like", True, 2)
    cleared = store.update_metadata(sid, {"user_rating": None, "user_note": None})
    assert (cleared.user_rating, cleared.user_note, cleared.tags) == (None, None, ("Keep", "portrait"))
    with pytest.raises(ValueError):
        store.update_metadata(sid, {"user_rating": "great"})
    with pytest.raises(ValueError):
        store.update_metadata(sid, {"session_path": "/elsewhere"})


def test_optimistic_locking(store, sample):
    sid = sample["20251114_093010-hair_test"]
    seen = store.get_metadata(sid)
    store.update_metadata(sid, {"is_test": True}, expected_version=seen.version)
    with pytest.raises(MetadataConflict) as raised:
        store.update_metadata(sid, {"is_favorite": True}, expected_version=seen.version)
    assert raised.value.current.is_test is True
    assert store.get_metadata(sid).is_favorite is False


def test_filters(store, sample):
    store.update_metadata(sample["20251114_093010-hair_test"], {"is_favorite": True, "tags": ["keep", "hair"],
                                                        "user_rating": "like"})
    store.update_metadata(sample["20251112_181502-Teasing"], {"is_test": True, "tags": ["keep", "nsfw"],
                                                       "user_rating": "dislike", "user_note": "retry with flux"})
    assert filtered(store, liked=True) == ["20251114_093010-hair_test"]
    assert len(filtered(store, liked=False)) == 3
    assert filtered(store, test=True) == ["20251112_181502-Teasing"]
    assert filtered(store, sweep=True) == ["20251114_093010-hair_test"]
    assert filtered(store, ratings=frozenset({"like"})) == ["20251114_093010-hair_test"]
    assert filtered(store, ratings=frozenset({"none"})) == ["20251112_184000-api_down", "20251117_111757-donmain"]
    assert filtered(store, exclude_ratings=frozenset({"dislike"})) == [
        "20251112_184000-api_down", "20251114_093010-hair_test", "20251117_111757-donmain"]
    assert filtered(store, statuses=frozenset({"aborted", "stale"})) == [
        "20251112_184000-api_down", "20251117_111757-donmain"]
    assert filtered(store, exclude_statuses=frozenset({"completed"})) == [
        "20251112_184000-api_down", "20251117_111757-donmain"]
    assert filtered(store, models=("PONY",)) == ["20251114_093010-hair_test"]
    assert filtered(store, exclude_models=("pony", "unknown")) == ["20251112_181502-Teasing",
                                                                    "20251117_111757-donmain"]
    assert filtered(store, samplers=("euler",)) == filtered(store)
    assert filtered(store, tags_all=("keep", "hair")) == ["20251114_093010-hair_test"]
    assert filtered(store, tags_any=("hair", "NSFW")) == ["20251112_181502-Teasing", "20251114_093010-hair_test"]
    assert filtered(store, tags_none=("nsfw",)) == [
        "20251112_184000-api_down", "20251114_093010-hair_test", "20251117_111757-donmain"]
    assert filtered(store, completion=Range(50, 100)) == ["20251112_181502-Teasing", "20251114_093010-hair_test"]
    assert filtered(store, images=Range(None, 0)) == ["20251112_184000-api_down"]
    assert filtered(store, steps=Range(20, 20)) == ["20251114_093010-hair_test"]
    assert filtered(store, cfg=Range(5, 6)) == ["20251112_181502-Teasing", "20251112_184000-api_down",
                                                "20251117_111757-donmain"]
    assert filtered(store, width=Range(512, 512), height=Range(768, 768)) == ["20251114_093010-hair_test"]
    from datetime import date

    assert filtered(store, date_from=date(2025, 11, 14), date_to=date(2025, 11, 14)) == [
        "20251114_093010-hair_test"]
    assert filtered(store, date_to=date(2025, 11, 12)) == ["20251112_181502-Teasing", "20251112_184000-api_down"]


def test_free_text(store, sample):
    store.update_metadata(sample["20251112_181502-Teasing"], {"user_note": "retry with flux", "tags": ["Neon-Noir"]})
    assert filtered(store, text=("crimson",)) == ["20251114_093010-hair_test"]  # placeholder value
    assert filtered(store, text=("cat", "mat")) == ["20251112_181502-Teasing"]
    assert filtered(store, text=("cat on a mat",)) == ["20251112_181502-Teasing"]
    assert filtered(store, text=("on", "weird [/]")) == ["20251112_181502-Teasing"]
    assert filtered(store, text=("FLUX",)) == ["20251112_181502-Teasing"]  # note, any case
    assert filtered(store, text=("neon-noir",)) == ["20251112_181502-Teasing"]  # tag
    assert filtered(store, text=("donmain",)) == ["20251117_111757-donmain"]  # name
    assert filtered(store, text=("worst quality",)) == ["20251117_111757-donmain"]  # negative prompt
    assert filtered(store, text=('quote"d',)) == []
    assert "20251114_093010-hair_test" not in filtered(store, exclude_text=("crimson",))
    assert filtered(store, text=("%",)) == []


@pytest.mark.parametrize("session_filter", [
    SessionFilter(), SessionFilter(liked=True), SessionFilter(liked=False), SessionFilter(test=False),
    SessionFilter(text=("cat",)), SessionFilter(text=("cat", "on")), SessionFilter(exclude_text=("cat",)),
    SessionFilter(tags_any=("keep", "wip")), SessionFilter(tags_all=("keep", "wip")), SessionFilter(tags_none=("wip",)),
    SessionFilter(ratings=frozenset({"like"})), SessionFilter(ratings=frozenset({"none", "dislike"})),
    SessionFilter(exclude_ratings=frozenset({"none"})), SessionFilter(exclude_ratings=frozenset({"like"})),
    SessionFilter(statuses=frozenset({"aborted", "stale"})), SessionFilter(models=("nothing-like-this",)),
    SessionFilter(text=("on",), statuses=frozenset({"aborted", "completed"})),
    SessionFilter(liked=True, text=("cat",), tags_none=("wip",)),
    SessionFilter(tags_all=("keep",), steps=Range(1, 99))])
def test_the_first_ids_and_one_session_checks_agree_with_the_whole_list(store, sample, session_filter, monkeypatch):
    """Each list is also built both ways: walking the list index, and driven by a look-up
    that keeps few sessions (any look-up here, with DRIVE_SHARE 1)."""
    store.update_metadata(sample["20251114_093010-hair_test"],
                          {"is_favorite": True, "tags": ["keep"], "user_rating": "like"})
    store.update_metadata(sample["20251117_111757-donmain"], {"tags": ["keep", "wip"], "user_rating": "dislike"})
    driven = []
    monkeypatch.setattr(store_module, "driven_query", lambda *a: driven.append(a) or sql_filters.driven_query(*a))
    for sort in (SessionSort(), SessionSort("name", descending=False), SessionSort("liked")):
        monkeypatch.setattr(store_module, "DRIVE_SHARE", 10**9)
        whole = store.list_ids(session_filter, sort)
        monkeypatch.setattr(store_module, "DRIVE_SHARE", 1)
        assert store.list_ids(session_filter, sort) == whole
        for limit in (1, 2, 10):
            assert store.list_ids(session_filter, sort, limit=limit) == whole[:limit]
    with store._read() as connection:  # a look-up that keeps every session never drives
        few = [driver for driver in sql_filters.filter_where(session_filter).drivers
               if len(connection.execute(driver.ids_sql, driver.params).fetchall()) < len(sample)]
    assert bool(driven) == bool(few)
    assert {key for key in sample.values() if store.matches(key, session_filter)} == set(whole)
    assert not store.matches(123456, session_filter)


@pytest.mark.parametrize("column", ["date", "name", "model", "images", "expected", "completion", "status",
                                    "sampler", "steps", "cfg", "size", "duration", "liked", "rating", "tags",
                                    "updated"])
def test_every_sort_column_both_directions(store, sample, column):
    up = store.list_ids(SessionFilter(), SessionSort(column, descending=False))
    down = store.list_ids(SessionFilter(), SessionSort(column, descending=True))
    assert sorted(up) == sorted(down) == sorted(sample.values())
    assert up == list(reversed(down))


def test_sort_by_date_and_images(store, sample):
    assert names(store, store.list_ids(sort=SessionSort("date", descending=True)))[0] == "20251117_111757-donmain"
    assert names(store, store.list_ids(sort=SessionSort("images", descending=True)))[0] == (
        "20251114_093010-hair_test")


def test_distinct_values_and_recently_liked(store, sample):
    store.update_metadata(sample["20251114_093010-hair_test"], {"is_favorite": True, "tags": ["keep"]})
    store.update_metadata(sample["20251117_111757-donmain"], {"is_favorite": True, "tags": ["keep", "wip"]})
    assert store.distinct_values("tag") == [("keep", 2), ("wip", 1)]
    models = dict(store.distinct_values("model"))
    assert models["animagineXL40_v4Opt.safetensors [6327eca98b]"] == 1
    assert store.distinct_values("sampler") == [("Euler a", 2), ("Euler a Karras", 2)]  # the full names
    assert set(store.recently_liked()) == {sample["20251114_093010-hair_test"], sample["20251117_111757-donmain"]}
    with pytest.raises(ValueError):
        store.distinct_values("prompt")


def test_known_roots_each_once_in_order(store, tmp_path):
    assert store.known_roots() == []
    add_sessions(store, tmp_path / "b", ("20251114_093010-hair_test", ex.example_c()),
                 ("20251117_111757-donmain", ex.example_d()))
    add_sessions(store, tmp_path / "a", ("20251112_184000-api_down", ex.example_e()))
    assert store.known_roots() == [str(tmp_path / "a"), str(tmp_path / "b")]


def test_recompute_one_session(store, sample, tmp_path):
    key = sample["20251117_111757-donmain"]
    manifest = ex.example_d()
    manifest["status"] = "completed"
    (tmp_path / "root" / "20251117_111757-donmain" / "manifest.json").write_text(json.dumps(manifest))
    assert store.recompute(key).status == "completed_with_failures"
    assert store.fetch_rows([key])[key].status == "completed_with_failures"
    assert store.recompute(123456) is None


def test_unavailable_hidden_by_default(store, sample, tmp_path):
    key = sample["20251112_184000-api_down"]
    store.update_metadata(sample["20251112_184000-api_down"], {"user_note": "keep this"})
    assert store.mark_unavailable([str(tmp_path / "root" / "20251112_184000-api_down")]) == 1
    assert key not in store.list_ids()
    assert store.list_ids(SessionFilter(unavailable=True)) == [key]
    assert store.get_metadata(sample["20251112_184000-api_down"]).user_note == "keep this"


def test_two_writers_at_once_never_fail(tmp_path):
    path = tmp_path / "shared.db"
    with Store(path) as setup:
        keys = stub_sessions(setup, *(f"session-{number}-{step}" for number in range(4) for step in range(5)))
    errors = []

    def writer(number):
        try:
            with Store(path) as mine:
                for step in range(40):
                    mine.update_metadata(keys[f"session-{number}-{step % 5}"], {"tags": [f"t{step}"], "is_test": True})
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_long_write_elsewhere_makes_us_wait_then_explain(tmp_path, monkeypatch):
    path = tmp_path / "locked.db"
    with Store(path) as setup:
        key = stub_sessions(setup, "x")["x"]
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with Store(path) as store, pytest.raises(StoreError, match="locked by another program"):
            store.update_metadata(key, {"is_test": True})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_or_foreign_file_is_never_overwritten(tmp_path, content):
    path = tmp_path / "bad.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="left untouched"):
        Store(path)
    assert path.read_bytes() == content


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE session_metadata (session_id TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        Store(path)
    assert path.read_bytes() == before


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(blocker / "sub" / "db.sqlite")
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_default_location_from_env_and_platformdirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SDSESSIONS_DB", str(tmp_path / "env.db"))
    assert db.default_db_path() == tmp_path / "env.db"
    monkeypatch.delenv("SDSESSIONS_DB")
    monkeypatch.setattr(db.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    assert db.default_db_path() == tmp_path / "data" / "sessions.db"


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer sdsessions"):
        Store(path)
    assert path.read_bytes() == before


def test_migrations_run_in_order_after_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with Store(path) as old:
        key = stub_sessions(old, "kept")["kept"]
        old.update_metadata(key, {"user_note": "precious"})
    current, ran = db.SCHEMA_VERSION, []

    def add_column(connection, _progress):
        ran.append(current + 1)
        connection.exec_driver_sql("ALTER TABLE session_metadata ADD COLUMN color TEXT")

    def fill_column(connection, _progress):
        ran.append(current + 2)
        connection.exec_driver_sql("UPDATE session_metadata SET color = 'red'")

    monkeypatch.setattr(db, "SCHEMA_VERSION", current + 2)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, (current + 1, "color", add_column),
                                                   (current + 2, "fill", fill_column)])
    backups = tmp_path / "backups"
    backups.mkdir()
    with Store(path, backup_dir=backups) as migrated:
        assert ran == [current + 1, current + 2]
        assert engine.version_of(migrated.engine) == current + 2
        assert migrated.get_metadata(key).user_note == "precious"
    (backup,) = backups.iterdir()
    assert backup.name.startswith(f"old.v{current}.")
    with sqlite3.connect(backup) as saved:
        assert saved.execute("PRAGMA user_version").fetchone()[0] == current
        assert saved.execute("SELECT user_note FROM session_metadata").fetchone()[0] == "precious"
    with Store(path, backup_dir=backups):
        assert ran == [current + 1, current + 2]  # nothing runs twice
    assert len(list(backups.iterdir())) == 1


def test_tags_are_offered_in_their_most_used_spelling(store, sample):
    store.update_metadata(sample["20251114_093010-hair_test"], {"tags": ["SDXL", "keep"]})
    store.update_metadata(sample["20251117_111757-donmain"], {"tags": ["sdxl"]})
    store.update_metadata(sample["20251112_181502-Teasing"], {"tags": ["sdxl", "Keep"]})
    store.update_metadata(sample["20251112_184000-api_down"], {"tags": ["keep", "wip"]})
    assert store.distinct_values("tag") == [("keep", 3), ("sdxl", 3), ("wip", 1)]
    assert store.distinct_values("tag", limit=1) == [("keep", 3)]


def test_data_version_moves_when_another_connection_commits(store, sample):
    before = store.data_version()
    assert store.data_version() == before  # reading changes nothing
    with Store(store.path) as other:
        other.update_metadata(sample["20251114_093010-hair_test"], {"is_test": True})
    assert store.data_version() != before


def test_only_other_programs_commits_count_as_changed_by_others(store, sample, tmp_path):
    """Every write path notes its own commit: none of them counts as another program's change."""
    key = sample["20251114_093010-hair_test"]
    assert not store.changed_by_others()  # the first look only takes the version
    store.update_metadata(key, {"is_test": True})
    store.apply_edits([Edit(key, store.get_metadata(key).version, {"user_note": None}, {"user_note": "mine"})])
    store.set_metadata_many([key], {"is_favorite": True})
    store.merge_by_name("20251114_093010-hair_test", SessionMetadata(0, tags=("merged",)))
    store.mark_unavailable([str(tmp_path / "no such folder")])
    store.recompute(key)
    assert not store.changed_by_others()
    with Store(store.path) as other:
        other.update_metadata(key, {"is_complete": True})
    assert store.changed_by_others()
    assert not store.changed_by_others()  # told once


def test_another_programs_commit_just_before_ours_is_still_seen(store, sample):
    key = sample["20251114_093010-hair_test"]
    store.changed_by_others()
    with Store(store.path) as other:
        other.update_metadata(key, {"is_complete": True})
    store.update_metadata(key, {"is_test": True})  # ours, after theirs: theirs is not absorbed
    assert store.changed_by_others()


def test_our_commit_seen_inside_our_next_write_is_still_ours(store, sample, monkeypatch):
    """Two writers of ours: the second one's transaction, begun right after the first one's commit
    and before its bookkeeping, must not take that commit for another program's."""
    keys = list(sample.values())
    store.changed_by_others()
    original, committed = engine.write_transaction, threading.Event()

    @contextmanager
    def slow_after_the_first_commit(*args, **kwargs):
        with original(*args, **kwargs) as connection:
            yield connection
        if not committed.is_set():
            committed.set()
            time.sleep(0.3)  # the other thread writes now

    monkeypatch.setattr(engine, "write_transaction", slow_after_the_first_commit)
    first = threading.Thread(target=store.update_metadata, args=(keys[0], {"is_test": True}))
    first.start()
    assert committed.wait(5)
    store.update_metadata(keys[1], {"is_test": True})
    first.join()
    assert not store.changed_by_others()


def test_values_sqlite_cannot_store_are_dropped_with_a_warning(store, tmp_path):
    """Issue 14 #1: an integer outside 64 bits in a manifest aborted the whole batch (OverflowError)."""
    bad = ex.example_c()
    params = bad["snapshot"]["generation_params"]
    params.update(base_seed=2**70, num_images=10**30, seed_list=[1000, 2**64, 1002])
    # A NaN makes the reader parse with the standard library, which keeps big integers (orjson gives floats).
    bad["snapshot"]["api_params"].update(steps=2**65, hr_scale=10**40, denoising_strength=float("nan"))
    bad["snapshot"]["variations"]["HairColor"]["count"] = 2**80
    ids = add_sessions(store, tmp_path / "root", ("20251114_093010-huge", bad), ("20251112_181502-ok", ex.example_b()))
    assert set(ids) == {"20251114_093010-huge", "20251112_181502-ok"}
    stats, _ = store.get_session(ids["20251114_093010-huge"])
    assert stats.stats_error is None
    assert (stats.seed_base, stats.images_expected, stats.steps) == (None, None, None)
    assert stats.seed_list == [1000, None, 1002]
    assert stats.api_params["hr_scale"] is None and stats.api_params["denoising_strength"] is None
    assert stats.placeholders["HairColor"]["count"] is None
    assert any(w.startswith("seed_base: a number too large for the database was dropped") for w in stats.warnings)
    assert any(w.startswith("api_params: a number too large") for w in stats.warnings)


def test_a_row_the_database_refuses_costs_only_that_session(store, tmp_path):
    """The last resort: a row refused anyway (here built by hand) is replaced by one saying why; the
    other rows of the executemany batch are stored."""
    rows = []
    for name in ("20251112_181502-a", "20251112_181503-b", "20251112_181504-c"):
        folder = write_session(tmp_path / "root", name, manifest=ex.example_b(), images=["Teasing_0000.png"])
        rows.append(stats_to_row(read_session(folder, retry_delays=()), str(tmp_path / "root")))
    rows[1]["seed_base"] = 2**70  # OverflowError when bound
    rows[2]["status"] = None  # NOT NULL
    store.upsert_stats(rows)
    stored = store.known_paths([row["session_path"] for row in rows])
    assert len(stored) == 3
    errors = [stored[row["session_path"]].stats_error for row in rows]
    assert errors[0] is None
    assert errors[1].startswith("stats could not be stored: OverflowError")
    assert errors[2].startswith("stats could not be stored: IntegrityError")
    assert store.get_session(stored[rows[2]["session_path"]].session_key)[0].display_name == "c"


def test_only_refused_values_fall_back_to_row_by_row():
    """A locked, full or corrupt database must stay an error (reported, retried), never be taken for a
    row refused for its values and replaced by a "could not be stored" row."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    refused = store_module._refused_data
    assert refused(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert refused(IntegrityError("INSERT", (), sqlite3.IntegrityError("NOT NULL constraint failed")))
    assert refused(sqlite3.ProgrammingError("Error binding parameter 3: type 'list' is not supported"))
    assert not refused(OperationalError("INSERT", (), sqlite3.OperationalError("database is locked")))
    assert not refused(sqlite3.OperationalError("database or disk is full"))
    assert not refused(sqlite3.DatabaseError("database disk image is malformed"))
    assert not refused(sqlite3.ProgrammingError("Cannot operate on a closed database."))


def test_sampler_matches_the_full_name_and_scheduler_the_schedule_type(store, tmp_path):
    """Issue 19 #5: ``sampler:karras`` found 1 of 6 Karras sessions (the schedule type is ``scheduler``, or
    in older eras the end of the sampler name)."""
    spellings = {  # session → (api sampler, api scheduler)
        "a": ("DPM++ 2M", "Karras"), "b": ("DPM++ 2M Karras", None), "c": ("Euler a", "Karras"),
        "d": ("DPM++ SDE Karras", "automatic"), "e": ("DPM++ 2M Karras", "Karras"), "f": (None, "karras"),
        "g": ("Euler a", None), "h": ("DPM++ 2M", "Exponential"), "i": ("DPM++ 2M SDE Exponential", None),
        "j": ("Euler", "automatic"), "k": (None, None),
    }
    sessions = []
    for index, (name, (sampler, scheduler)) in enumerate(spellings.items()):
        manifest = ex.example_c()
        api = manifest["snapshot"]["api_params"]
        api.pop("sampler")
        api.update({key: value for key, value in (("sampler", sampler), ("scheduler", scheduler)) if value})
        sessions.append((f"20251114_0930{index:02d}-{name}", manifest))
    add_sessions(store, tmp_path / "root", *sessions)
    short = lambda **kwargs: [n.rsplit("-", 1)[1] for n in filtered(store, **kwargs)]  # noqa: E731
    assert short(samplers=("karras",)) == ["a", "b", "c", "d", "e"]  # f: the sampler is not known
    assert short(schedulers=("karras",)) == ["a", "b", "c", "d", "e", "f"]
    assert short(samplers=("dpm++ 2m karras",)) == ["a", "b", "e"]
    assert short(samplers=("euler a",)) == ["c", "g"]
    assert short(schedulers=("exponential",)) == ["h", "i"]
    assert short(schedulers=("euler",)) == []  # the sampler part of the name is no schedule type
    assert short(exclude_schedulers=("karras",)) == ["g", "h", "i", "j", "k"]
    assert short(exclude_samplers=("dpm",)) == ["c", "f", "g", "j", "k"]
    names = {n.rsplit("-", 1)[1]: store.fetch_rows([i])[i].sampler_name for n, i in
             add_sessions(store, tmp_path / "root").items()}
    assert names == {"a": "DPM++ 2M Karras", "b": "DPM++ 2M Karras", "c": "Euler a Karras", "d": "DPM++ SDE Karras",
                     "e": "DPM++ 2M Karras", "f": None, "g": "Euler a", "h": "DPM++ 2M Exponential",
                     "i": "DPM++ 2M SDE Exponential", "j": "Euler", "k": None}


def test_is_truncated_finds_runs_whose_plan_stopped_before_every_combination(store, tmp_path):
    """Issue 19 #7: planned 120 combinations, capped at 100 images, read "completed 100 %" and nothing else."""
    def run(mode="combinatorial", total=120, planned=100, seeds=None, variations=True):
        manifest = ex.example_a()
        params = manifest["snapshot"]["generation_params"]
        params.update(mode=mode, total_combinations=total, num_images=planned)
        if seeds is not None:
            params["seed_list"] = seeds
        if not variations:
            manifest["snapshot"]["variations"] = {}
        return manifest

    add_sessions(store, tmp_path / "root",
                 ("20251114_093000-capped", run()),
                 ("20251114_093001-whole", run(total=100)),
                 ("20251114_093002-random", run(mode="random")),  # samples by design
                 ("20251114_093003-sweep_capped", run(total=40, planned=100, seeds=[1, 2, 3])),
                 ("20251114_093004-sweep_whole", run(total=40, planned=120, seeds=[1, 2, 3])),
                 ("20251114_093005-seeds_only", run(total=1, planned=1, seeds=[7, 8, 9], variations=False)),
                 ("20251114_093006-unknown", run(total=None)))
    short = lambda **kwargs: [n.rsplit("-", 1)[1] for n in filtered(store, **kwargs)]  # noqa: E731
    assert short(truncated=True) == ["capped", "sweep_capped"]
    assert short(truncated=False) == ["whole", "random", "sweep_whole", "seeds_only", "unknown"]


def test_several_scheduler_terms_combine_with_the_rest(store, tmp_path):
    manifests = []
    for index, (sampler, scheduler, steps) in enumerate([("Euler a", "Karras", 20), ("Euler a", "Simple", 30),
                                                         ("DDIM", None, 20), ("Euler a", "Beta", 20)]):
        manifest = ex.example_c()
        manifest["snapshot"]["api_params"].update(sampler=sampler, steps=steps)
        if scheduler:
            manifest["snapshot"]["api_params"]["scheduler"] = scheduler
        manifests.append((f"20251114_0930{index:02d}-s{index}", manifest))
    add_sessions(store, tmp_path / "root", *manifests)
    short = lambda **kwargs: [n.rsplit("-", 1)[1] for n in filtered(store, **kwargs)]  # noqa: E731
    assert short(schedulers=("karras", "simple"), steps=Range(20, 20)) == ["s0"]
    assert short(exclude_schedulers=("karras", "simple")) == ["s2", "s3"]
