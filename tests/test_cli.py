"""The ``sdsessions`` command as a user runs it (headless parts)."""

import csv
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from sdsessions_tui.cli import GC_THRESHOLDS, main, tune_gc_after_start_up
from tests.conftest import write_session
from tests.core import spec_examples as ex


def test_lists_sessions_with_data_printed_literally(tmp_path, capsys):
    manifest = ex.example_b()
    manifest["snapshot"]["runtime_info"]["sd_model_checkpoint"] = "weird [/] closing \x1b[2J"
    write_session(tmp_path, "20251112_181502-Teasing", manifest=manifest,
                  images=[i["filename"] for i in manifest["images"]])
    assert main(["list", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "20251112_181502-Teasing" in out
    assert "weird [/]" in out
    assert "\x1b[2J" not in out and "\\x1b[2J" in out


def test_missing_root_is_a_usage_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["list", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_demo_command_writes_a_tree_and_refuses_a_foreign_folder(tmp_path, capsys):
    target = tmp_path / "demo"
    assert main(["demo", str(target), "--sessions", "30", "--seed", "3"]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["list", str(target)]) == 0
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    assert main(["demo", str(foreign)]) == 2
    assert (foreign / "mine.txt").read_text() == "keep me"
    assert main(["demo", str(target), "--sessions", "0"]) == 2



def _tree(root):
    for name, manifest in (("20251112_181502-Teasing", ex.example_b()), ("20251114_093010-hair_test", ex.example_c())):
        write_session(root, name, manifest=manifest, images=[i["filename"] for i in manifest["images"]])
    write_session(root, "20251104_220100-torn", manifest=b'{"snap', images=["torn_0000.png"])
    return root


def test_refresh_all_json_summary(tmp_path, capsys):
    root = _tree(tmp_path / "root")
    db = tmp_path / "s.db"
    assert main(["--refresh-all", str(root), "--db", str(db), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["found"], summary["new"], summary["unchanged"]) == (3, 3, 0)
    assert summary["unreadable"][0]["path"].endswith("20251104_220100-torn")
    assert main(["--refresh-all", str(root), "--db", str(db), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["unchanged"] == 3  # the torn manifest is a day old: it stays broken, not re-read until it changes
    assert again["unreadable"][0]["path"].endswith("20251104_220100-torn")  # and is still listed


def test_refresh_all_reports_the_whole_commands_wall_time(tmp_path, capsys, monkeypatch):
    """Not just the scan's: opening the DB, the imports and closing count (0.009 s was shown for a 0.56 s run)."""
    from sdsessions_tui.core import refresh as refresh_module

    monkeypatch.setattr(refresh_module, "refresh", lambda *_a, **_k: refresh_module.RefreshSummary(seconds=0.009))
    calls = []  # a clock 2.5 s further on at every call after main()'s first

    def clock():
        calls.append(None)
        return 100.0 if len(calls) == 1 else 102.5

    monkeypatch.setattr(time, "monotonic", clock)
    root = _tree(tmp_path / "root")
    assert main(["--refresh-all", str(root), "--db", str(tmp_path / "s.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seconds"] == 2.5
    calls.clear()
    assert main(["--refresh-all", str(root), "--db", str(tmp_path / "s.db")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("(2.5 s)")


def test_refresh_all_plain_output(tmp_path, capsys):
    root = _tree(tmp_path / "root")
    assert main(["--refresh-all", str(root), "--db", str(tmp_path / "s.db")]) == 0
    captured = capsys.readouterr()
    assert "3 sessions found: 3 new" in captured.out
    assert "unreadable:" in captured.out and "20251104_220100-torn" in captured.out
    assert "Refreshing sessions: 3/3" in captured.err  # line-oriented progress when not a tty


@pytest.mark.parametrize("args", [["--refresh-all"], ["--refresh-all", "/definitely/missing"], ["--force", "x"]])
def test_refresh_all_usage_errors(tmp_path, capsys, args):
    assert main([*args, "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sdsessions: ") and err.count("\n") == 1


def test_refresh_all_unusable_db_is_exit_1_with_one_line(tmp_path, capsys):
    root = _tree(tmp_path / "root")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite" * 200)
    assert main(["--refresh-all", str(root), "--db", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "left untouched" in err and "Traceback" not in err and err.count("\n") == 1
    assert bad.read_bytes() == b"not sqlite" * 200


def test_db_from_environment(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path / "root")
    monkeypatch.setenv("SDSESSIONS_DB", str(tmp_path / "env.db"))
    assert main(["--refresh-all", str(root), "--json"]) == 0
    assert (tmp_path / "env.db").exists()


def test_export_json_and_csv(tmp_path, capsys):
    root = _tree(tmp_path / "root")
    db = str(tmp_path / "s.db")
    main(["--refresh-all", str(root), "--db", db, "--json"])
    from sdsessions_tui.core.store import Store

    with Store(db) as store:
        key = next(k for k, row in store.fetch_rows(store.list_ids()).items()
                   if row.session_id == "20251114_093010-hair_test")
        store.update_metadata(key, {"tags": ["keep", "hair"], "is_favorite": True})
    capsys.readouterr()
    assert main(["export", "--db", db]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 3
    hair = next(r for r in records if r["session_id"] == "20251114_093010-hair_test")
    assert hair["tags"] == ["keep", "hair"] and hair["is_favorite"] is True and hair["seed_list"] == [1000, 1001, 1002]
    out = tmp_path / "out.csv"
    assert main(["export", "--db", db, "--format", "csv", "-o", str(out), "--query", "is:sweep"]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["session_id"] for r in rows] == ["20251114_093010-hair_test"]
    assert json.loads(rows[0]["tags"]) == ["keep", "hair"]
    assert {"session_id", "sd_model", "images_expected", "is_test", "user_rating", "tags"} <= set(rows[0])


def test_export_bad_query_is_a_usage_error(tmp_path, capsys):
    assert main(["export", "--db", str(tmp_path / "s.db"), "--query", "steps:abc"]) == 2
    assert "--query" in capsys.readouterr().err


def test_export_values_one_way_per_type(tmp_path, capsys):
    """Flags 1/0 in CSV and true/false in JSON, unedited sessions included (not True/False, not empty cells)."""
    root = _tree(tmp_path / "root")
    db = str(tmp_path / "s.db")
    main(["--refresh-all", str(root), "--db", db, "--json"])
    from sdsessions_tui.core.store import Store

    with Store(db) as store:
        key = next(row.session_key for row in store.fetch_rows(store.list_ids()).values()
                   if row.session_id == "20251114_093010-hair_test")
        store.update_metadata(key, {"is_favorite": True})
    capsys.readouterr()
    assert main(["export", "--db", db, "--format", "csv"]) == 0
    rows = {row["session_id"]: row for row in csv.DictReader(capsys.readouterr().out.splitlines())}
    flags = ("is_test", "is_complete", "is_favorite", "is_seed_sweep", "is_dry_run", "is_unavailable")
    assert [rows["20251114_093010-hair_test"][name] for name in flags] == ["0", "0", "1", "1", "0", "0"]
    assert [rows["20251112_181502-Teasing"][name] for name in flags] == ["0"] * 6  # never edited
    assert rows["20251112_181502-Teasing"]["auto_metadata"] == "{}" and rows["20251112_181502-Teasing"]["tags"] == "[]"
    assert main(["export", "--db", db]) == 0
    records = {record["session_id"]: record for record in json.loads(capsys.readouterr().out)}
    assert [records["20251112_181502-Teasing"][name] for name in flags] == [False] * 6
    assert records["20251114_093010-hair_test"]["is_favorite"] is True


def test_read_only_commands_never_create_a_database(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nowhere" / "s.db"
    assert main(["export", "--db", str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"sdsessions: no database at {missing}\n"
    monkeypatch.setenv("SDSESSIONS_DB", str(missing))
    assert main(["export", "--format", "csv"]) == 1
    assert capsys.readouterr().err == f"sdsessions: no database at {missing}\n"
    assert main(["locate", "db"]) == 0 and capsys.readouterr().out == f"{missing}\n"
    assert not (tmp_path / "nowhere").exists()


def test_output_to_a_closed_pipe_ends_quietly(tmp_path, monkeypatch, capsys):
    """`sdsessions export | head -1`: no traceback once the reader has gone, the exit status of SIGPIPE."""
    db = str(tmp_path / "s.db")
    main(["--refresh-all", str(_tree(tmp_path / "root")), "--db", db, "--json"])
    capsys.readouterr()
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        assert main(["export", "--db", db]) == 141
    assert capsys.readouterr().err == ""


def test_locate_db_takes_db_as_its_help_says(tmp_path, capsys):
    assert main(["locate", "db", "--db", str(tmp_path / "mine.db")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'mine.db'}\n"
    assert not (tmp_path / "mine.db").exists()


def test_unusable_database_files_are_exit_1_with_one_line_naming_the_file(tmp_path, capsys):
    root = _tree(tmp_path / "root")
    empty = tmp_path / "empty.db"
    empty.touch()
    assert main(["--refresh-all", str(root), "--db", str(empty)]) == 1
    err = capsys.readouterr().err
    assert err == f"sdsessions: {empty} is an empty file, not an sdsessions database; delete it to start a new " \
                  "database there, or choose another --db path (the file was left untouched)\n"
    frozen = tmp_path / "frozen" / "s.db"
    assert main(["--refresh-all", str(root), "--db", str(frozen), "--json"]) == 0
    capsys.readouterr()
    frozen.chmod(0o444)
    assert main(["export", "--db", str(frozen)]) == 0  # reading works
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["--refresh-all", str(root), "--db", str(frozen), "--force"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sdsessions: cannot write the database: the database file {frozen} is read-only")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in frozen.parent.iterdir()) == ["s.db"]  # no 0444 -wal/-shm left behind


def test_import_webui_db_command(tmp_path, capsys):
    webui = tmp_path / "sessions.db"
    with sqlite3.connect(webui) as raw:
        raw.execute("CREATE TABLE session_metadata (session_id TEXT PRIMARY KEY, session_path TEXT NOT NULL, "
                    "is_test INTEGER DEFAULT 0, is_complete INTEGER DEFAULT 1, is_favorite INTEGER DEFAULT 0, "
                    "user_rating TEXT, user_note TEXT, tags TEXT, auto_metadata TEXT, created_at TEXT NOT NULL, "
                    "updated_at TEXT NOT NULL)")
        raw.execute("INSERT INTO session_metadata VALUES ('20251114_093010-hair_test', '/x', 0, 1, 1, 'like', "
                    "NULL, '[\"keep\"]', NULL, '2025-11-14T10:00:00', '2025-11-14T10:00:00')")
    db = str(tmp_path / "s.db")
    assert main(["import-webui-db", str(webui), "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rows": 1, "changed": 1, "unchanged": 0, "conflicts": [],
                                                   "pending": 1, "shared": []}
    assert main(["import-webui-db", str(webui), "--db", db]) == 0
    assert "0 merged, 1 already up to date" in capsys.readouterr().out
    assert main(["import-webui-db", str(tmp_path / "nope.db"), "--db", db]) == 2


def test_import_webui_db_writes_nothing_beside_the_web_uis_file(tmp_path, capsys):
    """Opened read-only, a WAL file would still get -wal and -shm beside it: the web UI's folder is not ours."""
    folder = tmp_path / "webui"
    folder.mkdir()
    raw = sqlite3.connect(folder / "sessions.db")
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("CREATE TABLE session_metadata (session_id TEXT PRIMARY KEY, session_path TEXT NOT NULL, "
                "is_test INTEGER, is_complete INTEGER, is_favorite INTEGER, user_rating TEXT, user_note TEXT, "
                "tags TEXT, auto_metadata TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    raw.execute("INSERT INTO session_metadata VALUES ('s', '/x', 1, 1, 0, NULL, NULL, NULL, NULL, 't', 't')")
    raw.commit()
    raw.close()
    assert main(["import-webui-db", str(folder / "sessions.db"), "--db", str(tmp_path / "s.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 1
    assert [p.name for p in folder.iterdir()] == ["sessions.db"]


def _children(pid):
    """Child process ids of ``pid`` (Linux /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return children


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_kill_9_mid_refresh_leaves_a_consistent_db(tmp_path):
    root = tmp_path / "many"
    manifest = ex.example_b()
    for index in range(1500):
        write_session(root, f"20251114_{index:06d}-s", manifest=manifest)
    db = tmp_path / "k.db"
    process = subprocess.Popen([sys.executable, "-m", "sdsessions_tui", "--refresh-all", str(root), "--db", str(db)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as raw:
                    stored = raw.execute("SELECT count(*) FROM session_stats").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
        if stored:
            break
        time.sleep(0.01)
    readers = _children(process.pid)
    assert readers, "the refresh reads on a process pool"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < stored < 1500, "the refresh should have been killed mid-run"
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in readers):
        assert time.monotonic() < deadline, "reader processes outlived the killed refresh"
        time.sleep(0.1)
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert main(["--refresh-all", str(root), "--db", str(db)]) == 0
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM session_stats").fetchone()[0] == 1500


def test_headless_refresh_never_imports_textual(tmp_path):
    root = _tree(tmp_path / "root")
    code = ("import sys; from sdsessions_tui.cli import main; "
            f"rc = main(['--refresh-all', {str(root)!r}, '--db', {str(tmp_path / 'h.db')!r}, '--json']); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_image')]; "
            "sys.exit(3 if bad else rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_headless_watch_keeps_the_db_current_and_stops_on_sigterm(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    db = tmp_path / "w.db"
    code = ("import sys; from sdsessions_tui.cli import main; rc = main(sys.argv[1:]); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_image')]; "
            "print('textual imported' if bad else 'no textual', flush=True); sys.exit(3 if bad else rc)")
    process = subprocess.Popen([sys.executable, "-c", code, "--watch", str(root), "--db", str(db)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()  # read on a thread: a hang fails, buffering cannot hide a line
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()

    def line() -> str:
        try:
            return lines.get(timeout=30)
        except queue.Empty:
            raise AssertionError("no output from the watcher") from None

    try:
        assert "sessions" in line()  # the refresh
        assert "watching" in line()  # the watches are set up
        manifest = ex.example_c()
        write_session(root, "20251114_093010-hair_test", manifest=manifest, mtime=None,
                      images=[image["filename"] for image in manifest["images"]])
        assert "1 new" in line()
        with sqlite3.connect(db) as raw:
            assert raw.execute("SELECT images_actual FROM session_stats").fetchall() == [(6,)]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        reader.join(10)
    finally:
        if process.poll() is None:
            process.kill()
    out = "".join(lines.queue)
    assert process.returncode == 0, process.stderr.read()
    assert "stopped" in out and "no textual" in out


def test_watch_and_refresh_all_together_is_a_usage_error(tmp_path, capsys):
    assert main(["--watch", "--refresh-all", str(tmp_path)]) == 2
    assert "do not go together" in capsys.readouterr().err


def test_after_start_up_the_gc_is_on_with_fewer_passes():
    """The app's start-up runs with the collector off; this turns it back on, less eager."""
    import gc

    saved = gc.get_threshold()
    gc.disable()
    try:
        tune_gc_after_start_up()
        assert gc.isenabled() and gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*saved)
        gc.enable()
        gc.unfreeze()
