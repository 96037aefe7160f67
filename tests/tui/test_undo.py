"""Undo: the stack on its own, then ``u`` in the app (values put back, saved, conflict-checked)."""

from __future__ import annotations

import pytest

from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.edit_screens import ApplyMenu, ConflictScreen
from sdsessions_tui.tui.undo import UndoStack
from tests.tui.helpers import cursor_to, ready, save_text, until, until_toast
from tests.tui.tree import HAIR, hair_key


def test_an_entry_holds_the_values_before_and_pop_takes_the_newest():
    stack = UndoStack()
    stack.record("is_favorite", {1: False, 2: True}, {1: True, 2: True}, now=0.0, window=0.5)
    stack.record("user_rating", {1: None}, {1: "like"}, now=5.0, window=0.5)
    assert len(stack) == 2
    rating = stack.pop()
    assert (rating.name, rating.before, rating.after) == ("user_rating", {1: None}, {1: "like"})
    liked = stack.pop()
    assert liked.before == {1: False} and liked.after == {1: True}  # session 2 did not change
    assert stack.pop() is None


def test_keys_of_one_burst_collapse_into_one_entry():
    stack = UndoStack()
    stack.record("user_note", {7: None}, {7: "h"}, now=0.0, window=1.0)
    stack.record("user_note", {7: "h"}, {7: "hi"}, now=0.8, window=1.0)
    stack.record("user_note", {7: "hi"}, {7: "hi!"}, now=1.6, window=1.0)  # within a second of the last key
    stack.record("user_note", {7: "hi!"}, {7: "hi!?"}, now=3.0, window=1.0)  # a pause: a new entry
    assert len(stack) == 2
    assert stack.pop().before == {7: "hi!"}
    entry = stack.pop()
    assert (entry.before, entry.after) == ({7: None}, {7: "hi!"})


def test_what_does_not_collapse_other_fields_sessions_bulk_and_after_an_undo():
    stack = UndoStack()
    stack.record("is_test", {1: False}, {1: True}, now=0.0, window=0.5)
    stack.record("is_favorite", {1: False}, {1: True}, now=0.1, window=0.5)  # another field
    stack.record("is_favorite", {2: False}, {2: True}, now=0.2, window=0.5)  # another session
    stack.record("is_favorite", {2: True}, {2: False}, now=0.3)  # "apply to all filtered": no window
    stack.record("is_favorite", {2: False}, {2: True}, now=0.35, window=0.5)  # after a bulk entry
    assert len(stack) == 5
    stack.pop()
    stack.record("is_favorite", {2: False}, {2: True}, now=0.4, window=0.5)  # after an undo
    assert len(stack) == 5


def test_a_burst_that_ends_where_it_began_leaves_nothing_to_undo():
    stack = UndoStack()
    stack.record("tags", {1: ()}, {1: ("a",)}, now=0.0, window=1.0)
    stack.record("is_favorite", {1: False}, {1: True}, now=0.0, window=0.5)
    stack.record("is_favorite", {1: True}, {1: False}, now=0.2, window=0.5)
    assert len(stack) == 1 and stack.pop().name == "tags"
    stack.record("user_note", {1: "x"}, {1: "x"}, now=0.0, window=1.0)  # no change at all
    assert len(stack) == 0


def test_values_are_kept_as_the_store_keeps_them():
    stack = UndoStack()
    stack.record("user_note", {1: "old"}, {1: "   "}, now=0.0, window=1.0)  # a blank note is saved as none
    stack.record("tags", {1: []}, {1: ["a"]}, now=5.0, window=1.0)
    assert stack.pop().after == {1: ("a",)}
    assert stack.pop().after == {1: None}


def test_the_stack_is_bounded():
    stack = UndoStack(limit=3)
    for index in range(5):
        stack.record("is_test", {index: False}, {index: True}, now=float(index))
    assert len(stack) == 3 and stack.pop().before == {4: False}


# --- ``u`` in the app ---------------------------------------------------------------------------

@pytest.fixture
def quick_saves(monkeypatch):
    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 0.2)


async def test_u_puts_a_flag_back_and_saves_it(make_app, app_store, quick_saves):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("f")
        await until(pilot, lambda: app_store.get_metadata(key).is_favorite)
        await pilot.press("u")
        assert "Undid: liked on 1 session" in await until_toast(pilot, "Undid")
        assert not app.edits.effective(app_store.get_metadata(key)).is_favorite  # on screen before it is saved
        await until(pilot, lambda: not app_store.get_metadata(key).is_favorite)  # and saved
        await until(pilot, lambda: "✓ saved" in save_text(app))


async def test_u_with_nothing_to_undo_says_so(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("u")
        await until_toast(pilot, "Nothing to undo")
        assert not app.edits


async def test_undoing_apply_to_filtered_restores_each_sessions_own_value(make_app, app_store, quick_saves):
    keys = app_store.list_ids()
    app_store.update_metadata(keys[2], {"is_favorite": True, "is_test": True})
    liked = set(app_store.list_ids(SessionFilter(liked=True)))
    assert 2 <= len(liked) < len(keys)
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApplyMenu))
        await pilot.press("enter")  # the first action: mark liked
        await until(pilot, lambda: len(app_store.list_ids(SessionFilter(liked=True))) == len(keys))
        await pilot.press("u")
        assert f"Undid: liked on {len(keys) - len(liked)} sessions" in await until_toast(pilot, "Undid")
        await until(pilot, lambda: set(app_store.list_ids(SessionFilter(liked=True))) == liked)
        assert app_store.get_metadata(keys[2]).is_test  # the other fields untouched
        await until(pilot, lambda: not app.edits)


async def test_undoing_an_added_tag_takes_it_off_again(make_app, app_store, quick_saves):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("e", *"wip", "enter", "escape")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).tags == ("keep", "[red]x[/]", "wip"))
        await pilot.press("u")
        await until_toast(pilot, "Undid: tags on 1 session")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).tags == ("keep", "[red]x[/]"))


async def test_one_u_takes_back_a_whole_typed_note(make_app, app_store, monkeypatch):
    monkeypatch.setattr(save_queue, "TEXT_SAVE_DELAY", 3.0)  # the keys of one burst, on a busy CI box too
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        app_store.update_metadata(key, {"user_note": "before"})
        table.invalidate()
        await pilot.press("n", "end", *" and after", "escape")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(key).user_note == "before and after")
        await pilot.press("u", "ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(key).user_note == "before")
        assert len(app.editing.undo) == 0


async def test_undoing_over_another_instances_change_asks_instead_of_overwriting(make_app, app_store,
                                                                               quick_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("plus")
        await until(pilot, lambda: app_store.get_metadata(key).user_rating == "like")
        app_store.update_metadata(key, {"user_rating": "dislike"})  # another instance, since
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen) and app.screen.query("#conflict Static"))
        text = str(app.screen.query_one("#conflict Static").render())
        assert "theirs: dislike" in text
        assert app_store.get_metadata(key).user_rating == "dislike"  # not silently overwritten
        await pilot.press("m")
        await until(pilot, lambda: app_store.get_metadata(key).user_rating is None)


async def test_undo_is_in_the_palette_and_f1(make_app):
    from textual.command import CommandList, CommandPalette

    from sdsessions_tui.tui.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert any(command.id == "edit.undo" for _scope, _title, rows in app.screen.sections for _key, command in rows)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"undo")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: any("Undo" in str(option.prompt) for option in commands.options))
        await pilot.press("enter")
        await until_toast(pilot, "Nothing to undo")
