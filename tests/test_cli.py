"""The ``sdsessions`` command as a user runs it (headless parts)."""

from sdsessions_tui.cli import main
from tests.core import spec_examples as ex
from tests.conftest import write_session


def test_lists_sessions_with_data_printed_literally(tmp_path, capsys):
    manifest = ex.example_b()
    manifest["snapshot"]["runtime_info"]["sd_model_checkpoint"] = "weird [/] closing \x1b[2J"
    write_session(tmp_path, "20251112_181502-Teasing", manifest=manifest,
                  images=[i["filename"] for i in manifest["images"]])
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "20251112_181502-Teasing" in out
    assert "weird [/]" in out
    assert "\x1b[2J" not in out and "\\x1b[2J" in out


def test_missing_root_is_a_usage_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "root does not exist" in capsys.readouterr().out


def test_no_root_explains_how_to_start(capsys):
    assert main([]) == 2
    assert "sdsessions demo" in capsys.readouterr().err


def test_demo_command_writes_a_tree_and_refuses_a_foreign_folder(tmp_path, capsys):
    target = tmp_path / "demo"
    assert main(["demo", str(target), "--sessions", "30", "--seed", "3"]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main([str(target)]) == 0
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    assert main(["demo", str(foreign)]) == 2
    assert (foreign / "mine.txt").read_text() == "keep me"
    assert main(["demo", str(target), "--sessions", "0"]) == 2
