"""Opening the database file: what is refused, what a read-only file allows, and which file a message names.

Tests run as root here, and root may write any file: "read-only" is decided by the permission check
*and* the mode bits (a file chmod'ed 0444 is read-only for root too), so these tests hold for root.
One test repeats the read-only case as an unprivileged user when the machine allows it.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sdsessions_tui.core import db
from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import Store, stats_to_row
from tests.conftest import write_session
from tests.core import spec_examples as ex

SESSION = "20251112_181502-Teasing"
#: The session's key: the fixture's database holds this one session, its first stats row.
KEY = 1


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name and p.name.startswith(path.name))


@pytest.fixture
def database(tmp_path) -> Path:
    """A closed database with one session (no side files left: the last close removes them)."""
    path = tmp_path / "db" / "sessions.db"
    manifest = ex.example_b()
    folder = write_session(tmp_path / "root", SESSION, manifest=manifest,
                           images=[i["filename"] for i in manifest["images"]])
    with Store(path) as store:
        store.upsert_stats([stats_to_row(read_session(folder, retry_delays=()), str(tmp_path / "root"))])
    assert side_files(path) == []
    return path


def test_a_zero_byte_file_is_refused_and_left_as_it_is(tmp_path):
    """A file someone `touch`ed is not known to be ours: it is not adopted as a new database."""
    path = tmp_path / "sessions.db"
    path.touch()
    with pytest.raises(StoreError, match="is an empty file, not an sdsessions database; delete it"):
        Store(path)
    assert path.stat().st_size == 0 and side_files(path) == []


def test_without_create_a_missing_file_is_no_database_and_nothing_is_made(tmp_path):
    path = tmp_path / "nowhere" / "sessions.db"
    with pytest.raises(StoreError, match=f"^no database at {path}$"):
        db.check_database(path, create=False)
    assert not path.parent.exists()
    Store(tmp_path / "empty.db").close()
    sqlite3.connect(tmp_path / "blank.db").execute("PRAGMA journal_mode = WAL").close()  # SQLite, no schema
    with pytest.raises(StoreError, match="no sdsessions data"):
        db.check_database(tmp_path / "blank.db", create=False)
    assert db.check_database(tmp_path / "empty.db", create=False) == db.SCHEMA_VERSION


def test_a_read_only_file_is_read_without_side_files_and_writes_name_it(database):
    database.chmod(0o444)
    store = Store(database)
    try:
        ids = store.list_ids()
        assert [row.session_id for row in store.fetch_rows(ids).values()] == [SESSION]
        store.data_version()
        with pytest.raises(StoreError, match=f"the database file {database} is read-only"):
            store.update_metadata(KEY, {"is_favorite": True})
        assert side_files(database) == []  # SQLite would have made them 0444, failing every later write
        database.chmod(0o644)  # the user fixes it: the next try (the app retries) goes through
        store.update_metadata(KEY, {"is_favorite": True})
        assert store.get_metadata(KEY).is_favorite  # read back through a new, ordinary reader
        assert all(os.stat(database.parent / name).st_mode & 0o200 for name in side_files(database))
    finally:
        store.close()


def test_side_files_left_read_only_get_the_files_mode_back(database):
    """What an earlier read-only open (or an older sdsessions) left: 0444 -wal and -shm beside a fixed file."""
    for suffix in db.SIDE_SUFFIXES:
        side = database.with_name(database.name + suffix)
        side.touch()
        side.chmod(0o444)
    with Store(database) as store:
        store.update_metadata(KEY, {"is_test": True})
        assert store.get_metadata(KEY).is_test
    for suffix in db.SIDE_SUFFIXES:
        side = database.with_name(database.name + suffix)
        assert not side.exists() or side.stat().st_mode & 0o777 == database.stat().st_mode & 0o777


def test_a_read_only_folder_is_named(database):
    database.parent.chmod(0o555)
    try:
        with Store(database) as store:
            assert store.list_ids()  # read without creating side files it could not create
            with pytest.raises(StoreError, match=f"the database's folder {database.parent} is read-only"):
                store.update_metadata(KEY, {"is_test": True})
    finally:
        database.parent.chmod(0o755)


def test_query_characters_in_the_path_are_a_file_name_not_a_uri_query(tmp_path):
    folder = tmp_path / "a?b#c"
    folder.mkdir()
    manifest = ex.example_b()
    session = write_session(tmp_path / "a?b#c" / "root", SESSION, manifest=manifest,
                            images=[i["filename"] for i in manifest["images"]])
    with Store(folder / "s.db") as store:
        store.upsert_stats([stats_to_row(read_session(session, retry_delays=()), str(session.parent))])
        store.update_metadata(KEY, {"is_test": True})
    with Store(folder / "s.db") as store:
        assert store.get_metadata(KEY).is_test
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a?b#c"]  # no stray database named "a"


UNPRIVILEGED = 65534  # nobody
SCENARIO = r"""
import os, sys
from pathlib import Path
from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.store import Store
from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import stats_to_row
path, folder = Path(sys.argv[1]), Path(sys.argv[2])
with Store(path) as store:
    store.upsert_stats([stats_to_row(read_session(folder, retry_delays=()), str(folder.parent))])
path.chmod(0o444)
store = Store(path)
store.list_ids()
try:
    store.update_metadata(1, {"is_test": True})
except StoreError as error:
    print("refused:", error)
path.chmod(0o644)
store.update_metadata(1, {"is_test": True})
print("saved:", store.get_metadata(1).is_test)
store.close()
path.chmod(0o000)
try:
    Store(path)
except StoreError as error:
    print("unreadable:", error)
"""


def test_read_only_as_an_unprivileged_user(request):
    """The field case itself, where the permission check (not only the mode) says no."""
    if os.geteuid() != 0:
        command = [sys.executable]
    elif shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to test as another user")
    else:
        command = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups",
                   sys.executable]
    folder = Path(tempfile.mkdtemp(prefix="sdsessions-test-"))  # pytest's tmp_path is private to root
    request.addfinalizer(lambda: shutil.rmtree(folder))
    folder.chmod(0o777)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(folder)}
    probe = subprocess.run([*command, "-c", "import sdsessions_tui.core.store"], env=env, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user {UNPRIVILEGED} cannot run this interpreter or import the package here")
    manifest = ex.example_b()
    session = write_session(folder / "root", SESSION, manifest=manifest,
                            images=[i["filename"] for i in manifest["images"]])
    result = subprocess.run([*command, "-c", SCENARIO, str(folder / "s.db"), str(session)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"refused: cannot write the database: the database file {folder / 's.db'} is read-only" in result.stdout
    assert "saved: True" in result.stdout
    assert f"unreadable: cannot read the database file {folder / 's.db'} (permission denied)" in result.stdout


def test_a_path_this_user_cannot_reach_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "stat", denied)
    with pytest.raises(StoreError, match="cannot reach the database .*: Permission denied"):
        db.check_database(tmp_path / "locked" / "sessions.db")
