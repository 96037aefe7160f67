"""Every user flag of core/flags.py is reachable everywhere: a query word, a key, the bulk menu, the views."""

from __future__ import annotations

import dataclasses

import pytest

from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.flags import FLAGS, Flag
from sdsessions_tui.core.query import format_filter, parse_query
from sdsessions_tui.core.store import SessionMetadata
from sdsessions_tui.tui.commands import commands_for
from sdsessions_tui.tui.edit_screens import BULK_ACTIONS, FIELD_LABELS
from sdsessions_tui.tui.filter_bar import CHIPS
from sdsessions_tui.tui.session_table import FLAG_MARKS


@pytest.mark.parametrize("flag", FLAGS, ids=lambda flag: flag.label)
def test_a_flag_is_reachable_by_its_query_word_key_and_bulk_labels(flag: Flag) -> None:
    for word in (flag.label, *flag.aliases):
        parsed = parse_query(f"is:{word}").filter
        assert getattr(parsed, flag.label) is True and parse_query(f"-is:{word}").filter != parsed
    assert format_filter(SessionFilter(**{flag.label: True})) == flag.term
    toggles = [command for command in commands_for("edit") if command.action == f"app.toggle_flag({flag.field!r})"]
    assert [command.key for command in toggles] == [flag.key]
    mark, unmark = flag.bulk_labels
    assert (mark, flag.field, True) in BULK_ACTIONS and (unmark, flag.field, False) in BULK_ACTIONS


@pytest.mark.parametrize("flag", FLAGS, ids=lambda flag: flag.label)
def test_a_flag_is_a_metadata_field_shown_in_the_list_the_chips_and_the_dialogs(flag: Flag) -> None:
    assert flag.field in {field.name for field in dataclasses.fields(SessionMetadata)}
    assert (flag.field, flag.glyph, flag.style) in FLAG_MARKS
    assert any(term == flag.term for _chip, _label, term in CHIPS)
    assert FIELD_LABELS[flag.field] == flag.label


def test_flag_keys_and_words_are_unique() -> None:
    keys = [flag.key for flag in FLAGS]
    words = [word for flag in FLAGS for word in (flag.label, *flag.aliases)]
    assert len(set(keys)) == len(keys) and len(set(words)) == len(words)
