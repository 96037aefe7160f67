"""The CLI prints folder names, paths and errors literally: no Rich markup read, no escapes sent raw."""

import io

from rich.console import Console

from sdsessions_tui.cli import main
from sdsessions_tui.report import print_sessions
from tests.conftest import write_session
from tests.core import spec_examples as ex

#: A folder name that is markup to Rich, and an escape sequence to a terminal (``[/]`` is in the
#: root's path: a name cannot hold a slash).
NAME = "20251112_181502-x[bold]y[link=x]z\x1b[31m"
SHOWN = "x[bold]y[link=x]z\\x1b[31m"


def make_root(tmp_path):
    root = tmp_path / "r[/]oot"
    manifest = ex.example_b()
    write_session(root, NAME, manifest=manifest, images=[i["filename"] for i in manifest["images"]])
    write_session(root, f"{NAME}-torn", manifest=b'{"snap', images=["torn_0000.png"])
    return root


def test_list_prints_a_markup_folder_name_literally_on_a_terminal_and_piped(tmp_path, capsys):
    root = make_root(tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True, color_system=None)
    assert print_sessions([str(root)], console=console) == 0
    assert SHOWN in out.getvalue() and "\x1b[31m" not in out.getvalue()
    assert main(["list", str(root)]) == 0
    piped = capsys.readouterr().out
    assert SHOWN in piped and "\x1b" not in piped


def test_the_refresh_report_names_a_markup_folder_literally(tmp_path, capsys):
    root = make_root(tmp_path)
    assert main(["--refresh-all", str(root), "--db", str(tmp_path / "x[/]y.db")]) == 0
    out = capsys.readouterr().out
    assert f"unreadable: {root}/{NAME[:16]}{SHOWN}-torn: " in out and "\x1b" not in out


def test_an_error_naming_a_path_with_escapes_is_printed_cleaned(tmp_path, capsys):
    database = tmp_path / "x[/]y\x1b[2J.db"
    database.parent.mkdir()
    database.write_bytes(b"not a database, another program's file" * 100)
    assert main(["--refresh-all", str(make_root(tmp_path)), "--db", str(database)]) == 1
    err = capsys.readouterr().err
    assert "x[/]y\\x1b[2J.db" in err and "\x1b" not in err and err.count("\n") == 1
