"""``sdsessions list``: folders read now, filtered and sorted like the app, fitted to the terminal or piped."""

import io
import json

import pytest
from rich.cells import cell_len
from rich.console import Console

from sdsessions_tui.cli import main
from sdsessions_tui.core.query import parse_query
from sdsessions_tui.report import PLAIN_COLUMNS, print_sessions
from tests.conftest import write_session
from tests.core import spec_examples as ex

LONG_NAME = "a_really_long_session_name_that_goes_on_and_on_for_ever"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    teasing = ex.example_b()
    teasing["images"] = teasing["images"][:2]  # 2 of 3: 66 % (rounded down, as in the app)
    teasing["status"] = "aborted"
    hair = ex.example_c()
    for name, manifest in (("20251112_181502-Teasing", teasing), (f"20251114_093010-{LONG_NAME}", hair)):
        write_session(root, name, manifest=manifest, images=[i["filename"] for i in manifest["images"]])
    write_session(root, "20251104_220100-torn", manifest=b'{"snap', images=["torn_0000.png"])
    return root


def terminal(root, width, query=None):
    out = io.StringIO()
    parsed = parse_query(query) if query else None
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    assert print_sessions([str(root)], parsed, console=console) == 0
    return [line.rstrip() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("width", [80, 120, 160])
def test_the_table_fits_the_terminal_with_every_column_readable(root, width):
    lines = terminal(root, width)
    assert all(cell_len(line) <= width for line in lines)
    header = lines[0].split()
    assert header == ["date", "name", "model", "images", "done", "status"]
    rows = lines[1:4]
    assert [row[:16] for row in rows] == ["2025-11-14 09:30", "2025-11-12 18:15", "2025-11-04 22:01"]  # newest first
    assert "66%" in rows[1] and "aborted" in rows[1] and "6/6" in rows[0] and "sweep" in rows[0]
    assert "animagine" in rows[1]
    assert LONG_NAME[:14] in rows[0]
    assert lines[-1] == "3 sessions"


def test_a_narrow_terminal_drops_the_model_before_cutting_names(root):
    lines = terminal(root, 50)
    assert all(cell_len(line) <= 50 for line in lines)
    assert lines[0].split() == ["date", "name", "images", "done", "status"]
    assert "a_really_l" in lines[1] and "66%" in lines[2]


def test_piped_it_prints_tab_separated_rows_newest_first(root, capsys):
    assert main(["list", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split("\t") == list(PLAIN_COLUMNS)
    rows = [line.split("\t") for line in out[1:]]
    assert all(len(row) == len(PLAIN_COLUMNS) for row in rows)
    assert [row[1] for row in rows] == [LONG_NAME, "Teasing", "torn"]
    assert rows[0][6] == "sweep" and rows[1][4:6] == ["66%", "aborted"]
    assert rows[1][2] == "animagineXL40_v4Opt.safetensors"  # without the web UI's [hash], as in the app
    assert rows[2][5] == "unknown" and "not valid JSON" in rows[2][7]
    assert rows[1][8] == str(root.resolve() / "20251112_181502-Teasing")
    assert not any(char in "".join(out) for char in "│┃─━")  # no box


def test_query_filters_and_sorts_like_the_app(root, capsys):
    assert main(["list", str(root), "--query", "-is:broken sort:name"]) == 0
    names = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()[1:]]
    assert names == ["Teasing", LONG_NAME]
    lines = terminal(root, 100, "model:pony")
    assert len(lines) == 3 and lines[-1] == "1 of 3 sessions"


def test_json_prints_the_stats_of_the_matching_sessions(root, capsys):
    assert main(["list", str(root), "--json", "--query", "is:sweep"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [record["session_id"] for record in records] == [f"20251114_093010-{LONG_NAME}"]
    assert records[0]["seed_list"] == [1000, 1001, 1002] and records[0]["is_seed_sweep"] is True
    assert "id" not in records[0] and "tags" not in records[0]  # nothing of the throwaway database


@pytest.mark.parametrize("query", ["is:liked", "tag:keep", "-rating:like", "sort:rating"])
def test_a_query_on_metadata_is_a_usage_error(root, capsys, query):
    assert main(["list", str(root), f"--query={query}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sdsessions: list --query: ") and "export" in err and err.count("\n") == 1


def test_bad_query_and_missing_root_are_usage_errors_on_stderr(root, tmp_path, capsys):
    assert main(["list", str(root), "--query", "steps:abc"]) == 2
    assert capsys.readouterr().err.startswith("sdsessions: --query: ")
    assert main(["list", str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"sdsessions: {tmp_path / 'nope'}: no such folder\n"


def test_list_never_creates_or_reads_the_users_database(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SDSESSIONS_DB", str(tmp_path / "user" / "sessions.db"))
    assert main(["list", str(root)]) == 0
    assert not (tmp_path / "user").exists()


def test_data_is_printed_literally_on_a_terminal(tmp_path):
    manifest = ex.example_b()
    manifest["snapshot"]["runtime_info"]["sd_model_checkpoint"] = "weird [/] closing \x1b[2J"
    write_session(tmp_path, "20251112_181502-Teasing[bold]", manifest=manifest,
                  images=[i["filename"] for i in manifest["images"]])
    text = "\n".join(terminal(tmp_path, 160))
    assert "Teasing[bold]" in text and "weird [/] closing \\x1b[2J" in text and "\x1b" not in text
    assert text.endswith("\n1 session")
