import json
import os
import time

import pytest

from sdsessions_tui.core.jsonread import read_json_object


def test_reads_an_object(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"a": 1}')
    read = read_json_object(path, ())
    assert read.data == {"a": 1} and read.error is None and read.size == 8


@pytest.mark.parametrize(("content", "value"), [
    (b'\xef\xbb\xbf{"a": 1}', 1),
    (b'{"a": NaN}', None),
    (b'{"a": "caf\xe9"}', "caf\ufffd"),
])
def test_tolerates_bom_nan_and_bad_utf8(tmp_path, content, value):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    data = read_json_object(path, ()).data
    assert data is not None
    if value is None:
        assert data["a"] != data["a"]  # NaN
    else:
        assert data["a"] == value


@pytest.mark.parametrize(("content", "message"), [
    (b"", "m.json is empty after 3 reads"),
    (b"   \n", "m.json is empty after 3 reads"),
    (b'{"a": [1, 2', "m.json is not valid JSON"),
    (b"[1, 2]", "m.json holds a JSON list, not an object"),
    (b"[" * 100_000, "m.json is not valid JSON"),
])
def test_failures_carry_a_reason(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    read = read_json_object(path, (0, 0))
    assert read.data is None and read.error.startswith(message)


def test_missing_file(tmp_path):
    assert read_json_object(tmp_path / "gone.json", ()).error == "gone.json disappeared"


def test_a_rewrite_between_reads_is_picked_up(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text('{"status": "ongo')
    import sdsessions_tui.core.jsonread as jsonread

    monkeypatch.setattr(jsonread.time, "sleep", lambda _: path.write_text(json.dumps({"status": "ongoing"})))
    assert read_json_object(path, (0.01,)).data == {"status": "ongoing"}


def test_an_old_broken_file_is_read_once_and_lasts(tmp_path, monkeypatch):
    """A file broken for longer than a few seconds is not being written: no pause, no re-read."""
    path = tmp_path / "m.json"
    path.write_text('{"status": "ongo')
    os.utime(path, (time.time() - 60,) * 2)
    import sdsessions_tui.core.jsonread as jsonread

    pauses = []
    monkeypatch.setattr(jsonread.time, "sleep", pauses.append)
    read = read_json_object(path, (0.05, 0.15, 0.3))
    assert pauses == [] and read.error.startswith("m.json is not valid JSON") and "reads" not in read.error
    assert read.lasting and (read.mtime, read.size) == (path.stat().st_mtime, 16)


def test_a_fresh_broken_file_is_retried_and_does_not_last(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text("")
    import sdsessions_tui.core.jsonread as jsonread

    pauses = []
    monkeypatch.setattr(jsonread.time, "sleep", pauses.append)
    read = read_json_object(path, (0.05, 0.15, 0.3))
    assert pauses == [0.05, 0.15, 0.3] and read.error == "m.json is empty after 4 reads" and not read.lasting


def test_an_unreadable_file_does_not_last(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text("{}")
    import sdsessions_tui.core.jsonread as jsonread

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(jsonread, "open", refuse, raising=False)
    read = read_json_object(path, ())
    assert read.error == "cannot read m.json: Permission denied" and not read.lasting and read.mtime is None
