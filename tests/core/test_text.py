import os

from sdsessions_tui.core.text import clean_text


def test_control_characters_are_shown_not_interpreted():
    assert clean_text("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert clean_text("line\r\nnext\tcol") == "line next col"
    assert clean_text("a\x9bb") == "a\\x9bb"
    assert clean_text("rtl\u202eevil") == "rtl\\u202eevil"


def test_newlines_can_be_kept_for_prompts():
    assert clean_text("one\ntwo", keep_newlines=True) == "one\ntwo"


def test_bom_and_undecodable_bytes():
    assert clean_text("\ufeffname") == "\\ufeffname"
    assert clean_text(os.fsdecode(b"bad\xff")) == "bad\\xff"  # shown as ls -b does, never as U+FFFD
    assert clean_text(os.fsdecode(b"caf\xe9 \xc3\xa9")) == "caf\\xe9 \u00e9"
    assert clean_text("lone \ud800") == "lone \\ud800"  # a JSON escape, not a file-name byte


def test_markup_is_left_as_text_for_rich_text_objects():
    assert clean_text("weird [/] closing [bold]") == "weird [/] closing [bold]"
