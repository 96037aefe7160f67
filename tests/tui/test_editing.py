"""Editing metadata from the keyboard: flags and ratings, marks, bulk apply, debounced saves, failures."""

from __future__ import annotations

import pytest

from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.edits import Edit
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import SessionMetadata
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.app import SessionsApp
from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.edit_screens import ApplyMenu, ConflictScreen
from sdsessions_tui.tui.editing import PendingEdits
from tests.tui.helpers import count_writes, lines_of, ready, save_text, until


async def test_flag_keys_show_at_once_and_save_once_after_the_burst(make_app, app_store, monkeypatch):
    writes = count_writes(app_store, monkeypatch)
    monkeypatch.setattr(save_queue, "FLAG_SAVE_DELAY", 2.0)  # Pilot's key presses are slow on a busy CI box
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        row = table.row_at(0)
        await pilot.press("f", "t", "plus", "f", "f")
        shown = app.edits.effective(row.metadata)
        assert (shown.is_favorite, shown.is_test, shown.user_rating) == (True, True, "like")
        assert "unsaved" in save_text(app) and not writes
        assert "♥" in table.render_line(1).text  # the row shows it before any write
        await until(pilot, lambda: "saved" in save_text(app) and "unsaved" not in save_text(app))
        assert len(writes) == 1 and writes[0][0].changes == {"is_favorite": True, "is_test": True,
                                                              "user_rating": "like"}
        stored = app_store.get_metadata(row.session_key)
        assert (stored.is_favorite, stored.is_test, stored.user_rating) == (True, True, "like")
        await pilot.press("0", "c")
        await until(pilot, lambda: app_store.get_metadata(row.session_key).user_rating is None)
        assert app_store.get_metadata(row.session_key).is_complete


async def test_quitting_mid_debounce_persists_the_edit(make_app, app_store, held_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("minus", "q")
    assert app_store.get_metadata(key).user_rating == "dislike"


async def test_a_failed_write_keeps_the_edit_and_the_retry_succeeds(make_app, app_store, monkeypatch):
    original = app_store.apply_edits
    failing = [True]

    def flaky(edits):
        if failing[0]:
            raise StoreError("the database /x is locked by another program (waited 10 s); try again")
        return original(edits)

    monkeypatch.setattr(app_store, "apply_edits", flaky)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        row = table.row_at(0)
        await pilot.press("f")
        await until(pilot, lambda: "not saved" in save_text(app))
        assert "locked" in save_text(app)
        assert app.edits.effective(row.metadata).is_favorite  # still on screen
        await pilot.press("space")  # marking a row while the error shows keeps the error in view
        assert "1 marked" in save_text(app) and "locked" in save_text(app)
        failing[0] = False
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(row.session_key).is_favorite)
        await until(pilot, lambda: "✓ saved" in save_text(app))


async def test_marked_rows_are_edited_together(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        first, second, third = (table.row_at(i).session_key for i in range(3))
        await pilot.press("space", "space")  # marks rows 0 and 1, the cursor moves down
        assert len(table.marked) == 2 and table.cursor_row == 2
        await pilot.press("f", "ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(second).is_favorite)
        assert app_store.get_metadata(first).is_favorite and not app_store.get_metadata(third).is_favorite


async def test_apply_to_all_filtered_after_a_confirmation(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        liked_before = app_store.list_ids(SessionFilter(liked=True))
        assert len(liked_before) < 7
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApplyMenu))
        assert "7 filtered sessions" in str(app.screen.query_one("#apply-menu").border_title)
        await pilot.press("escape")
        assert app_store.list_ids(SessionFilter(liked=True)) == liked_before
        await pilot.press("A", "enter")  # the first action: mark liked
        await until(pilot, lambda: len(app_store.list_ids(SessionFilter(liked=True))) == 7)
        assert table.row_count == 7


async def test_advance_after_rating_moves_to_the_next_row(app_store, tmp_path):
    app = SessionsApp(app_store, [], thumbnail_cache=tmp_path / "t", refresh_on_start=False,
                      advance_after_rating=True)
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("plus", "minus")
        assert table.cursor_row == 2


async def test_editing_keys_work_from_the_details_panel(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("enter", "c", "q")
    assert app_store.get_metadata(key).is_complete


async def test_a_conflicting_edit_shows_both_values(make_app, app_store, held_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("plus")
        app_store.update_metadata(key, {"user_rating": "dislike"})  # another instance, meanwhile
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        text = str(app.screen.query_one("#conflict Static").render())
        assert "yours:  like" in text and "theirs: dislike" in text
        assert app_store.get_metadata(key).user_rating == "dislike"  # not silently applied
        await pilot.press("escape")  # drops neither side: the dialog stays and says how to choose
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConflictScreen)
        assert "m keeps yours, o keeps theirs" in str(app.screen.query_one("#conflict-hint").render())
        await pilot.press("m")
        await until(pilot, lambda: app_store.get_metadata(key).user_rating == "like")


def test_pending_edits_survive_a_failed_save_and_later_keys():
    meta = SessionMetadata(7, "s", version=3)
    edits = PendingEdits()
    edits.change(meta, "is_favorite", True)
    (burst,) = edits.take()
    assert burst == Edit(7, 3, {"is_favorite": False}, {"is_favorite": True})
    edits.change(meta, "user_rating", "like")  # typed while saving
    edits.failed()
    (retry,) = edits.take()
    assert retry.changes == {"is_favorite": True, "user_rating": "like"}
    edits.done({7: SessionMetadata(7, "s", is_favorite=True, user_rating="like", version=4)})
    assert not edits


def test_pending_edits_of_two_same_named_sessions_stay_apart():
    """Two folders of one name (a backup copy) are two sessions: an edit of one never shows on the other."""
    original, copy = SessionMetadata(1, "same_name", version=2), SessionMetadata(2, "same_name")
    edits = PendingEdits()
    edits.change(original, "is_favorite", True)
    edits.change(copy, "tags", ("copy",))
    assert edits.effective(original).is_favorite and edits.effective(original).tags == ()
    assert edits.effective(copy).tags == ("copy",) and not edits.effective(copy).is_favorite
    assert sorted(edits.take(), key=lambda edit: edit.session_key) == [
        Edit(1, 2, {"is_favorite": False}, {"is_favorite": True}), Edit(2, 0, {"tags": ()}, {"tags": ("copy",)})]


@pytest.mark.parametrize("key", ["f", "t", "c", "plus", "minus", "0", "space", "A"])
def test_every_editing_key_is_in_the_registry(key):
    from sdsessions_tui.tui.commands import COMMANDS

    assert any(key in command.key.split(",") for command in COMMANDS)



async def test_the_details_panel_shows_an_edit_before_it_is_saved(make_app, app_store, held_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        metadata = app.query_one("#details-metadata")
        flags = lambda: next(line for line in lines_of(metadata) if line.startswith("Flags"))  # noqa: E731
        await until(pilot, lambda: app.query_one("#details", DetailsPanel).stats is not None)
        assert "liked" not in flags()
        await pilot.press("f", "t")
        await until(pilot, lambda: "liked, test" in flags())
        assert not app_store.get_metadata(table.row_at(0).session_key).is_favorite  # not saved yet


async def test_f1_in_the_dialogs_lists_their_keys(make_app, app_store, monkeypatch):
    from sdsessions_tui.tui.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApplyMenu))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert [scope for scope, _title, _rows in app.screen.sections] == ["apply", "app"]


async def test_a_same_named_copy_in_another_root_is_edited_on_its_own(make_app, app_store, tmp_path):
    from sdsessions_tui.core.refresh import refresh
    from tests.conftest import write_session
    from tests.core import spec_examples as ex
    from tests.tui.tree import FIXED_MTIME

    copy_root = (tmp_path / "backup").resolve()
    manifest = ex.example_c()
    write_session(copy_root, "20251114_093010-hair_test", manifest=manifest, mtime=FIXED_MTIME,
                  images=[image["filename"] for image in manifest["images"]])
    refresh(app_store, [copy_root], retry_delays=(), workers=1)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = pilot.app.query_one("SessionTable")
        await until(pilot, lambda: table.row_count == 8)
        same = [index for index in range(8) if table.row_at(index).session_id == "20251114_093010-hair_test"]
        copy, original = sorted((table.row_at(index) for index in same),
                                key=lambda row: not row.session_path.startswith(str(copy_root)))
        assert original.metadata.is_favorite and original.metadata.tags == ("keep", "[red]x[/]")
        assert not copy.metadata.is_favorite and copy.metadata.tags == ()  # the copy has its own (none)
        table.move_cursor(same[[table.row_at(index).session_key for index in same].index(copy.session_key)])
        await pilot.press("t", "ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(copy.session_key).is_test)
        assert not app_store.get_metadata(original.session_key).is_test
        assert app_store.get_metadata(original.session_key).tags == ("keep", "[red]x[/]")


async def test_quitting_with_an_open_conflict_asks_and_keeps_the_chosen_side(make_app, app_store, held_saves):
    from sdsessions_tui.tui.edit_screens import QuitConflictsScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("plus")
        app_store.update_metadata(key, {"user_rating": "dislike"})  # another instance, meanwhile
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConflictsScreen))
        assert app.is_running
        await pilot.press("m")
        await until(pilot, lambda: not app.is_running)
    assert app_store.get_metadata(key).user_rating == "like"


async def test_a_conflict_found_by_the_save_at_quit_is_asked_about_not_dropped(make_app, app_store, held_saves):
    from sdsessions_tui.tui.edit_screens import QuitConflictsScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("plus")
        app_store.update_metadata(key, {"user_rating": "dislike"})
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConflictsScreen))
        assert "1 edit conflict" in str(app.screen.query_one("#conflict Static").render())
        await pilot.press("escape")  # cancel: back, with the conflict's own dialog
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        assert app.is_running and app_store.get_metadata(key).user_rating == "dislike"
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConflictsScreen))
        await pilot.press("o")  # theirs: the other instance's value stays, said and chosen
        await until(pilot, lambda: not app.is_running)
    assert app_store.get_metadata(key).user_rating == "dislike"


def test_typing_on_while_a_conflicting_save_runs_waits_for_the_users_choice():
    """The note typed on during a save that conflicts is never saved over the other instance's
    note before the user chooses; keeping mine saves the last text, keeping theirs drops it."""
    from sdsessions_tui.core.edits import Conflict

    meta = SessionMetadata(7, "s", user_note="seen", version=1)
    for keep_mine in (True, False):
        edits = PendingEdits()
        edits.change(meta, "user_note", "seen!")
        edits.take()
        edits.change(meta, "user_note", "seen!?")  # typed while saving
        conflict = Conflict(7, "s", {"user_note": "seen!"}, {"user_note": "from B"}, 2)
        edits.done({7: SessionMetadata(7, "s", user_note="from B", version=2)}, {7: ["user_note"]})
        assert edits.take() == [] and edits.touches([7])  # nothing saved over theirs meanwhile
        assert edits.effective(meta).user_note == "seen!?"  # still what the user sees
        if keep_mine:
            edits.keep_mine(conflict)
            assert edits.take() == [Edit(7, 2, {"user_note": "from B"}, {"user_note": "seen!?"})]
        else:
            edits.keep_theirs(conflict)
            assert not edits and not edits.touches([7]) and edits.take() == []
