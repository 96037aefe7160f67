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
from tests.core import spec_examples as ex
from tests.conftest import write_session


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
    assert "root does not exist" in capsys.readouterr().out


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
        store.update_metadata("20251114_093010-hair_test", {"tags": ["keep", "hair"], "is_favorite": True})
    capsys.readouterr()
    assert main(["export", "--db", db]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 3
    hair = next(r for r in records if r["session_id"] == "20251114_093010-hair_test")
    assert hair["tags"] == ["keep", "hair"] and hair["is_favorite"] == 1 and hair["seed_list"] == [1000, 1001, 1002]
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
    assert json.loads(capsys.readouterr().out) == {"rows": 1, "changed": 1, "unchanged": 0, "conflicts": []}
    assert main(["import-webui-db", str(webui), "--db", db]) == 0
    assert "0 merged, 1 already up to date" in capsys.readouterr().out
    assert main(["import-webui-db", str(tmp_path / "nope.db"), "--db", db]) == 2


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
