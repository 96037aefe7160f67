"""Esc read together with the next key (a slow link) is Esc, then that key."""

from __future__ import annotations

from textual import events

from sdsessions_tui.tui.escape_keys import plain_key, split_escape_pairs
from tests.tui.helpers import keys_read_from


def test_escape_and_a_digit_or_minus_are_read_as_two_keys_a_typed_en_dash_as_itself():
    split_escape_pairs()
    assert [key.key for key in keys_read_from("\x1b-")] == ["escape", "minus"]
    assert [key.key for key in keys_read_from("\x1b0")] == ["escape", "0"]
    assert [(key.key, key.character) for key in keys_read_from("–")] == [("en_dash", "–")]
    assert [key.key for key in keys_read_from("\x1b")] == ["escape"]


def test_an_alt_key_stands_for_its_plain_key():
    assert plain_key(events.Key("alt+t", "t")).key == "t"
    assert plain_key(events.Key("alt+shift+t", "T")).key == "T"
    assert plain_key(events.Key("t", "t")) is None and plain_key(events.Key("alt+up", None)) is None
