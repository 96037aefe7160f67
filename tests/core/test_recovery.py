"""The recovery file: edits kept beside the database when it could not take them on the way out."""

from __future__ import annotations

import json

import pytest

from sdsessions_tui.core.edits import Edit
from sdsessions_tui.core.recovery import RecoveryError, add_edits, read_edits, recovery_path, remove_edits, write_edits

TAGS = Edit(3, 2, {"tags": ("a",)}, {"tags": ("a", "b")})
FLAG = Edit(4, 0, {"is_favorite": False}, {"is_favorite": True})


def test_it_lives_beside_the_database(tmp_path):
    assert recovery_path(tmp_path / "sessions.db") == tmp_path / "sessions.db.recovery.json"


def test_edits_round_trip_with_tags_as_lists_in_the_file(tmp_path):
    path = recovery_path(tmp_path / "x.db")
    write_edits(path, [TAGS, FLAG])
    data = json.loads(path.read_text())
    assert data["format"] == 1
    assert data["edits"][0] == {"session_key": 3, "base_version": 2, "base": {"tags": ["a"]},
                                "changes": {"tags": ["a", "b"]}}
    assert read_edits(path) == [TAGS, FLAG]


def test_added_edits_join_those_waiting_and_removed_ones_leave_until_the_file_goes(tmp_path):
    path = recovery_path(tmp_path / "x.db")
    assert read_edits(path) == []
    add_edits(path, [TAGS])
    add_edits(path, [TAGS, FLAG])  # (already there: not twice)
    assert read_edits(path) == [TAGS, FLAG]
    remove_edits(path, [TAGS])
    assert read_edits(path) == [FLAG]
    remove_edits(path, [FLAG])
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left either


def test_a_damaged_file_is_an_error_naming_it(tmp_path):
    path = recovery_path(tmp_path / "x.db")
    path.write_text("{not json")
    with pytest.raises(RecoveryError, match="x.db.recovery.json"):
        read_edits(path)


def test_new_edits_never_overwrite_a_damaged_file_they_move_it_aside(tmp_path):
    path = recovery_path(tmp_path / "x.db")
    path.write_text("{not json")
    add_edits(path, [FLAG])
    assert read_edits(path) == [FLAG]
    assert (tmp_path / "x.db.recovery.json.damaged").read_text() == "{not json"
