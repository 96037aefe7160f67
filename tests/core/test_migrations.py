"""Upgrading an older database: backup first, then each migration once, with progress."""

import json
import sqlite3
from pathlib import Path

import pytest

from sdsessions_tui.cli import main
from sdsessions_tui.core import db, engine, migrations
from sdsessions_tui.core.columns import METADATA_VALUE_COLUMNS
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store
from tests.core import spec_examples as ex
from tests.core.helpers import add_sessions, by_path, filtered, stub_sessions

#: Schema 1 kept the search documents inside the FTS table (its own content).
SCHEMA_1_SEARCH = "CREATE VIRTUAL TABLE session_search USING fts5(doc, tokenize='trigram')"
#: Schema 2's search index (external content: ``search_docs``).
SCHEMA_2_SEARCH = ("CREATE VIRTUAL TABLE session_search USING fts5(doc, tokenize='trigram', content='search_docs', "
                   "content_rowid='id')")
#: A database written by the schema-2 code (see its header): its tables, as that code declared them.
SCHEMA_2_DUMP = Path(__file__).parent / "data" / "schema_2.sql"
GPU1, GPU2 = "/data/gpu1/results", "/data/gpu2/results"
HAIR, ORPHAN = "20251114_093010-hair_test", "20251101_120000-elsewhere"
#: Schemas 1 and 2 keyed the metadata by folder name.
_BY_NAME = ("session_id", "session_path", *METADATA_VALUE_COLUMNS)


def schema_2_metadata_ddl():
    """Schema 2's CREATE statements of the metadata and tag tables and their indexes (tables first)."""
    memory = sqlite3.connect(":memory:")
    memory.executescript(SCHEMA_2_DUMP.read_text())
    statements = [sql for (sql,) in memory.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ('session_metadata', 'session_tags') AND sql IS NOT NULL "
        "ORDER BY type DESC, rowid")]
    memory.close()
    return statements


def as_schema_2(raw):
    """Turn a current database (one session per folder name) back into the shape schema 2 wrote (same data)."""
    rows = raw.execute(f"SELECT {', '.join(_BY_NAME)} FROM session_metadata").fetchall()
    tags = raw.execute("SELECT m.session_id, t.tag FROM session_tags AS t JOIN session_metadata AS m "
                       "USING (session_key)").fetchall()
    for table in ("session_tags", "session_metadata", "pending_metadata"):
        raw.execute(f"DROP TABLE {table}")
    for statement in schema_2_metadata_ddl():
        raw.execute(statement)
    raw.executemany(f"INSERT INTO session_metadata ({', '.join(_BY_NAME)}) VALUES ({', '.join('?' * len(_BY_NAME))})",
                    rows)
    raw.executemany("INSERT INTO session_tags (session_id, tag) VALUES (?, ?)", tags)
    raw.execute("PRAGMA user_version = 2")


def as_schema_1(path):
    """Turn a current database back into the shape schema 1 wrote (same data)."""
    with sqlite3.connect(path) as raw:
        as_schema_2(raw)
        raw.execute("DROP TABLE session_search")
        raw.execute(SCHEMA_1_SEARCH)
        raw.execute("INSERT INTO session_search (rowid, doc) SELECT id, doc FROM search_docs")
        raw.execute("DROP TABLE search_docs")
        raw.execute("PRAGMA user_version = 1")
    raw.close()


def search_index_is_sound(store):
    with store.engine.begin() as connection:  # FTS5 raises on an index out of step with its content
        connection.exec_driver_sql("INSERT INTO session_search (session_search) VALUES ('integrity-check')")
    return True


@pytest.fixture
def old_db(tmp_path):
    """A schema-1 database of four sessions with a tagged, annotated one."""
    path = tmp_path / "db" / "sessions.db"
    b, c = ex.example_b(), ex.example_c()
    b["snapshot"]["resolved_template"]["prompt"] = "3d cat on a mat"
    with Store(path) as store:
        add_sessions(store, tmp_path / "root", ("20251112_181502-Teasing", b), ("20251114_093010-hair_test", c),
                     ("20251117_111757-donmain", ex.example_d()), ("20251112_184000-api_down", ex.example_e()))
        (key,) = [k for k, row in store.fetch_rows(store.list_ids()).items() if row.session_id == HAIR]
        store.update_metadata(key, {"tags": ["Neon-Noir"], "user_note": "keep"})
    as_schema_1(path)
    return path


def test_a_schema_1_database_is_backed_up_then_upgraded_with_progress(old_db, tmp_path):
    reports = []
    backups = tmp_path / "backups"
    backups.mkdir()
    with Store(old_db, backup_dir=backups, progress=lambda *report: reports.append(report)) as store:
        assert store.backup is not None and store.backup.parent == backups
        with sqlite3.connect(store.backup) as saved:
            assert saved.execute("PRAGMA user_version").fetchone()[0] == 1
            assert saved.execute("SELECT count(*) FROM session_search").fetchone()[0] == 4
        saved.close()
        assert engine.version_of(store.engine) == db.SCHEMA_VERSION
        assert filtered(store, text=("neon-noir",)) == ["20251114_093010-hair_test"]  # trigram index
        assert filtered(store, text=("3d",)) == ["20251112_181502-Teasing"]  # short term, LIKE on the documents
        assert filtered(store, text=("cat", "3d")) == ["20251112_181502-Teasing"]
        assert "20251112_181502-Teasing" not in filtered(store, exclude_text=("3d",))
        assert search_index_is_sound(store)
    labels = {label for _done, _total, label in reports}
    assert labels == {"Backing up the database", "Rebuilding the search index", "Giving each session its own metadata"}
    assert (4, 4, "Rebuilding the search index") in reports
    assert Store(old_db).backup is None  # upgraded once


def test_the_upgraded_index_follows_edits_and_re_reads(old_db, tmp_path):
    with Store(old_db) as store:
        (key,) = store.list_ids(SessionFilter(text=("neon-noir",)))
        store.update_metadata(key, {"tags": ["solarpunk"]})
        assert filtered(store, text=("neon-noir",)) == []
        assert filtered(store, text=("solarpunk",)) == ["20251114_093010-hair_test"]
        b = ex.example_b()
        b["snapshot"]["resolved_template"]["prompt"] = "a dog on a log"
        for _ in range(2):  # changed text, then the same text again (left as it is)
            add_sessions(store, tmp_path / "root", ("20251112_181502-Teasing", b))
            assert filtered(store, text=("cat on a mat",)) == []
            assert filtered(store, text=("dog on a log",)) == ["20251112_181502-Teasing"]
        assert store.list_ids(SessionFilter(text=("3d",))) == []
        assert search_index_is_sound(store)


def test_a_migration_run_meanwhile_by_another_process_is_not_run_again(old_db, monkeypatch):
    ran = []
    version = db.check_database(old_db)
    monkeypatch.setattr(migrations, "MIGRATIONS", [(number, "counted", lambda c, p, n=number: ran.append(n))
                                                   for number in range(version + 1, db.SCHEMA_VERSION + 1)])
    with sqlite3.connect(old_db) as raw:  # another process upgraded it after our version check
        raw.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION}")
    raw.close()
    upgraded, backup = engine.prepare_schema(old_db, version, old_db.parent)
    upgraded.dispose()
    assert ran == [] and backup is not None


def test_the_cli_shows_the_upgrade_and_names_the_backup(old_db, capsys):
    assert main(["export", "--db", str(old_db), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "Backing up the database" in captured.err and "Rebuilding the search index: 4/4" in captured.err
    assert f"upgraded {old_db} to schema {db.SCHEMA_VERSION}; the old file is kept as {old_db.parent}" in captured.err
    exported = {row["session_id"]: row for row in json.loads(captured.out)}
    assert exported["20251114_093010-hair_test"]["tags"] == ["Neon-Noir"]


def test_an_interrupted_upgrade_leaves_the_old_database_and_runs_again(old_db):
    def interrupt(done, total, label):
        if label == "Rebuilding the search index" and done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Store(old_db, progress=interrupt)
    with sqlite3.connect(old_db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        assert raw.execute("SELECT count(*) FROM session_search").fetchone()[0] == 4
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with Store(old_db) as store:
        assert filtered(store, text=("neon-noir",)) == ["20251114_093010-hair_test"]
        assert search_index_is_sound(store)


@pytest.fixture
def schema_2_db(tmp_path):
    """The schema-2 file of ``data/schema_2.sql``: one folder name in two roots sharing its metadata, an orphan."""
    path = tmp_path / "db" / "sessions.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as raw:
        raw.executescript(SCHEMA_2_DUMP.read_text())
        raw.execute(SCHEMA_2_SEARCH)
        raw.execute("INSERT INTO session_search (session_search) VALUES ('rebuild')")
    raw.close()
    return path


def test_schema_2_metadata_is_split_between_same_named_sessions_keeping_every_value(schema_2_db, tmp_path):
    with sqlite3.connect(schema_2_db) as raw:
        before = raw.execute("SELECT * FROM session_metadata WHERE session_id = ?", (HAIR,)).fetchone()
    raw.close()
    reports = []
    with Store(schema_2_db, progress=lambda *report: reports.append(report)) as store:
        assert engine.version_of(store.engine) == db.SCHEMA_VERSION and store.backup is not None
        assert (3, 3, "Giving each session its own metadata") in reports
        rows = by_path(store)
        one, two = rows[f"{GPU1}/{HAIR}"], rows[f"{GPU2}/{HAIR}"]
        assert one.session_key != two.session_key
        for row in (one, two):  # each copy keeps today's values, version and times included
            meta = row.metadata
            assert meta.session_key == row.session_key and meta.session_id == HAIR
            assert (meta.is_favorite, meta.user_rating, meta.user_note, meta.tags, meta.auto_metadata) == (
                True, "like", "best of the week", ("Neon-Noir", "keep"), {"webui_is_complete": True})
            assert (meta.version, meta.created_at, meta.updated_at) == (2, before[9], before[10])
        assert rows[f"{GPU1}/20251112_181502-Teasing"].metadata.is_test
        assert rows[f"{GPU2}/20251117_111757-donmain"].metadata.version == 0
        with store._read() as connection:  # each copy's metadata names its own folder
            paths = dict(connection.execute("SELECT session_key, session_path FROM session_metadata"))
        assert paths[one.session_key] == one.session_path and paths[two.session_key] == two.session_path
        (orphan,) = store.pending_metadata()  # kept, waiting for its folder
        assert (orphan.session_id, orphan.is_favorite, orphan.user_rating, orphan.user_note, orphan.tags,
                orphan.version) == (ORPHAN, True, "dislike", "from the web UI", ("old",), 2)
        assert set(store.list_ids(SessionFilter(tags_all=("keep",)))) == {one.session_key, two.session_key}
        assert set(store.list_ids(SessionFilter(text=("neon-noir",)))) == {one.session_key, two.session_key}
        assert search_index_is_sound(store)
        # From now on the two copies are two sessions: editing one leaves the other alone.
        store.update_metadata(two.session_key, {"tags": ["gpu2-only"], "is_favorite": False})
        assert store.list_ids(SessionFilter(tags_all=("keep",))) == [one.session_key]
        assert store.list_ids(SessionFilter(text=("neon-noir",))) == [one.session_key]
        assert store.list_ids(SessionFilter(text=("gpu2-only",))) == [two.session_key]
        assert store.list_ids(SessionFilter(liked=True)) == [one.session_key]
        assert store.get_metadata(one.session_key).tags == ("Neon-Noir", "keep")


def test_an_orphan_of_schema_2_goes_to_the_first_session_of_its_name(schema_2_db):
    with Store(schema_2_db) as store:
        key = stub_sessions(store, ORPHAN, root=GPU1)[ORPHAN]
        meta = store.get_metadata(key)
        assert (meta.is_favorite, meta.user_rating, meta.user_note, meta.tags) == (
            True, "dislike", "from the web UI", ("old",))
        assert store.pending_metadata() == []
        assert store.list_ids(SessionFilter(tags_all=("old",))) == [key]
        assert store.list_ids(SessionFilter(text=("from the web",))) == [key]
        later = stub_sessions(store, ORPHAN, root=GPU2)[ORPHAN]  # a copy found later starts bare
        assert store.get_metadata(later).version == 0


def test_an_interrupted_split_leaves_the_schema_2_file_intact(schema_2_db):
    with sqlite3.connect(schema_2_db) as raw:
        before = raw.execute("SELECT * FROM session_metadata ORDER BY session_id").fetchall()
    raw.close()

    def interrupt(done, _total, label):
        if label == "Giving each session its own metadata" and done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Store(schema_2_db, progress=interrupt)
    with sqlite3.connect(schema_2_db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
        assert raw.execute("SELECT * FROM session_metadata ORDER BY session_id").fetchall() == before
        assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE '%pending%' "
                           "OR name LIKE '%_v2'").fetchone()[0] == 0
    raw.close()
    with Store(schema_2_db) as store:
        assert len(store.list_ids(SessionFilter(tags_all=("keep",)))) == 2


def test_an_upgraded_file_has_the_schema_of_a_new_one(schema_2_db, tmp_path):
    def schema(path):
        with sqlite3.connect(path) as raw:
            found = set(raw.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        raw.close()
        return found

    Store(schema_2_db).close()
    Store(tmp_path / "new.db").close()
    assert schema(schema_2_db) == schema(tmp_path / "new.db")
