"""Upgrading an older database: backup first, then each migration once, with progress."""

import json
import sqlite3

import pytest

from sdsessions_tui.cli import main
from sdsessions_tui.core import db, engine, migrations
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store
from tests.core import spec_examples as ex
from tests.core.test_store import add_sessions, filtered

#: Schema 1 kept the search documents inside the FTS table (its own content).
SCHEMA_1_SEARCH = "CREATE VIRTUAL TABLE session_search USING fts5(doc, tokenize='trigram')"


def as_schema_1(path):
    """Turn a current database back into the shape schema 1 wrote (same data)."""
    with sqlite3.connect(path) as raw:
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
        store.update_metadata("20251114_093010-hair_test", {"tags": ["Neon-Noir"], "user_note": "keep"})
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
        assert engine.version_of(store.engine) == 2
        assert filtered(store, text=("neon-noir",)) == ["20251114_093010-hair_test"]  # trigram index
        assert filtered(store, text=("3d",)) == ["20251112_181502-Teasing"]  # short term, LIKE on the documents
        assert filtered(store, text=("cat", "3d")) == ["20251112_181502-Teasing"]
        assert "20251112_181502-Teasing" not in filtered(store, exclude_text=("3d",))
        assert search_index_is_sound(store)
    labels = {label for _done, _total, label in reports}
    assert labels == {"Backing up the database", "Rebuilding the search index"}
    assert (4, 4, "Rebuilding the search index") in reports
    assert Store(old_db).backup is None  # upgraded once


def test_the_upgraded_index_follows_edits_and_re_reads(old_db, tmp_path):
    with Store(old_db) as store:
        store.update_metadata("20251114_093010-hair_test", {"tags": ["solarpunk"]})
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
    monkeypatch.setattr(migrations, "MIGRATIONS", [(2, "counted", lambda c, p: ran.append(2))])
    with sqlite3.connect(old_db) as raw:  # another process upgraded it after our version check
        raw.execute("PRAGMA user_version = 2")
    raw.close()
    upgraded, backup = engine.prepare_schema(old_db, version, old_db.parent)
    upgraded.dispose()
    assert ran == [] and backup is not None


def test_the_cli_shows_the_upgrade_and_names_the_backup(old_db, capsys):
    assert main(["export", "--db", str(old_db), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "Backing up the database" in captured.err and "Rebuilding the search index: 4/4" in captured.err
    assert f"upgraded {old_db} to schema 2; the old file is kept as {old_db.parent}" in captured.err
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
