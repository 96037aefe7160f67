import json

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
