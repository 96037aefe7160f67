"""The tag and note editor (keys e and n): completion, normalisation, removal, the note limit, saving."""

from __future__ import annotations

from textual import events

from sdsessions_tui.core.edits import MAX_NOTE_LENGTH
from sdsessions_tui.core.store import Store
from sdsessions_tui.tui import app as app_module
from sdsessions_tui.tui import save_queue
from sdsessions_tui.tui.details_screen import DetailsScreen
from sdsessions_tui.tui.help import HelpScreen
from sdsessions_tui.tui.metadata_editor import MetadataEditor, NoteArea, TagAutoComplete, TagList
from tests.tui.helpers import count_writes, cursor_to, keys_read_from, ready, save_text, until
from tests.tui.tree import HAIR, hair_key


def editor_of(app) -> MetadataEditor:
    return app.screen.query_one(MetadataEditor)


def message(app) -> str:
    return str(editor_of(app).query_one("#editor-message").render())


def tag_list(app) -> list[str]:
    tags = editor_of(app).query_one(TagList)
    return [str(tags.get_option_at_index(i).prompt) for i in range(tags.option_count)]


async def test_nine_quick_keystrokes_in_the_tag_input_make_one_write(make_app, app_store, monkeypatch):
    writes = count_writes(app_store, monkeypatch)
    monkeypatch.setattr(save_queue, "TEXT_SAVE_DELAY", 2.0)  # Pilot's presses are slow on a busy CI box
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("e")
        assert editor_of(app).is_open and app.focused.id == "tag-input"
        await pilot.press("w", "i", "p", "enter", "b", "e", "s", "t", "enter")  # nine keys, two tags
        assert "wip, best" in table.render_line(1).text  # on screen before any write
        assert not writes and "unsaved" in save_text(app)
        await until(pilot, lambda: "✓ saved" in save_text(app))
        assert len(writes) == 1 and writes[0][0].changes == {"tags": ("wip", "best")}
        assert app_store.get_metadata(key).tags == ("wip", "best")


async def test_tags_are_normalised_and_invalid_ones_refused(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("e", *"  Best   of  set ", "enter")
        assert "Added “Best of set”" in message(app)
        assert tag_list(app) == ["keep", "[red]x[/]", "Best of set"]  # markup in a tag stays literal
        tag_input = app.screen.query_one("#tag-input")
        await pilot.press(*"a,b", "enter")
        assert "comma" in message(app) and tag_input.value == "a,b"  # kept, to be corrected
        tag_input.value = "x" * 51
        await pilot.press("enter")
        assert "at most 50 characters" in message(app)
        tag_input.value = "KEEP"
        await pilot.press("enter")
        assert "already there" in message(app) and tag_list(app)[0] == "keep"  # first spelling kept
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).tags == (
            "keep", "[red]x[/]", "Best of set"))


async def test_a_tag_is_removed_from_the_keyboard(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("e", "tab")
        assert isinstance(app.focused, TagList)
        await pilot.press("down", "delete")
        assert tag_list(app) == ["keep"] and "Removed “[red]x[/]”" in message(app)
        await pilot.press("escape")  # closes the editor, back to the table
        assert not editor_of(app).is_open and app.focused is table
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).tags == ("keep",))


async def test_completion_offers_existing_tags_with_counts(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("e")
        await until(pilot, lambda: editor_of(app).known_tags)
        completion = app.screen.query_one(TagAutoComplete)
        await pilot.press("k")
        assert not completion.display  # "keep" is on this session already: not offered
        await pilot.press("backspace", "escape", "down", "e")  # another session
        await until(pilot, lambda: editor_of(app).known_tags)
        await pilot.press("k")
        await until(pilot, lambda: completion.display)
        assert "1  keep" in str(completion.option_list.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")  # takes the suggestion and adds it
        assert tag_list(app) == ["keep"]
        assert app.screen.query_one("#tag-input").value == ""


async def test_the_note_has_a_counter_and_a_hard_limit(make_app, app_store, monkeypatch):
    writes = count_writes(app_store, monkeypatch)
    monkeypatch.setattr(save_queue, "TEXT_SAVE_DELAY", 2.0)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("n")
        area = app.screen.query_one(NoteArea)
        assert app.focused is area
        await pilot.press(*"good", "enter", *"hands")
        counter = app.screen.query_one("#note-counter")
        assert "10/500" in str(counter.render())
        app.post_message(events.Paste("x" * 600))  # as the driver does: to the focused widget
        await until(pilot, lambda: len(area.text) == MAX_NOTE_LENGTH)
        assert "500/500" in str(counter.render()) and counter.has_class("-full")
        assert "110 not added" in message(app)
        await pilot.press("z")
        assert len(area.text) == MAX_NOTE_LENGTH  # typing at the limit adds nothing
        await pilot.press("backspace")
        assert len(area.text) == MAX_NOTE_LENGTH - 1  # deleting still works
        await until(pilot, lambda: "✓ saved" in save_text(app))
        assert len(writes) == 1
        stored = app_store.get_metadata(key).user_note
        assert stored.startswith("good\nhands") and len(stored) == MAX_NOTE_LENGTH - 1


async def test_marked_rows_share_the_tag_editor(make_app, app_store):
    app_store.update_metadata(hair_key(app_store), {"user_note": "mine"})
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        other = table.row_at(table.cursor_row + 1).session_key
        await pilot.press("space", "space", "e")
        assert "2 marked sessions" in str(editor_of(app).query_one("#editor-title").render())
        assert tag_list(app) == ["keep  1/2", "[red]x[/]  1/2"]
        assert app.screen.query_one(NoteArea).read_only  # the two notes differ
        await pilot.press(*"keep", "enter")
        assert "Added “keep” to 1 sessions" in message(app)
        assert tag_list(app)[0] == "keep  2/2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(other).tags == ("keep",))
        assert app_store.get_metadata(hair_key(app_store)).tags == ("keep", "[red]x[/]")


async def test_narrow_terminal_edits_full_screen(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen) and app.focused is not None)
        assert isinstance(app.focused, NoteArea)
        await pilot.press(*"ok")
        assert "unsaved" in save_text(app)  # the full-screen details have their own indicator
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailsScreen))
        assert app.focused is table
        await pilot.press("q")
    assert app_store.get_metadata(key).user_note == "ok"


async def test_the_table_picks_up_another_instances_changes(make_app, app_store, quick_outside_checks):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await until(pilot, lambda: app.live.checking)  # the checks have started
        with Store(app_store.path) as other:
            other.update_metadata(key, {"tags": ["from-elsewhere"], "is_favorite": True})
        await until(pilot, lambda: "from-else" in table.render_line(1).text)
        assert "♥" in table.render_line(1).text


async def test_two_instances_editing_different_fields_both_win(make_app, app_store, held_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await pilot.press("f")
        with Store(app_store.path) as other:
            other.update_metadata(key, {"user_rating": "dislike"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(key).is_favorite)
        assert app_store.get_metadata(key).user_rating == "dislike"
        assert not app.screen.is_modal  # no conflict to resolve


async def test_f1_in_the_editor_lists_its_keys(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("e", "tab", "f1")  # the tag list
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert [scope for scope, _title, _rows in app.screen.sections] == ["tags", "editor", "app"]


async def test_escape_in_the_list_clears_the_marks(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("space", "space")
        assert len(table.marked) == 2 and "2 marked" in save_text(app)
        await pilot.press("escape")
        assert not table.marked and "marked" not in save_text(app)


async def test_a_note_with_control_characters_is_shown_escaped_and_not_rewritten(make_app, app_store, monkeypatch):
    writes = count_writes(app_store, monkeypatch)
    app_store.update_metadata(hair_key(app_store), {"user_note": "line one\n\x1b[31mred\x07"})
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("n")
        area = app.screen.query_one(NoteArea)
        await until(pilot, lambda: app.focused is area)
        assert area.text == "line one\n\\x1b[31mred\\x07"
        await pilot.pause(0.3)
        await pilot.press("escape", "q")
    assert not writes and app_store.get_metadata(hair_key(app_store)).user_note == "line one\n\x1b[31mred\x07"


async def open_tags_with_known(pilot, app, table, known: list[tuple[str, int]]):
    """The tag editor on a session with no tags, offering ``known`` for completion."""
    await cursor_to(pilot, table, "20251117_111757-donmain_test_nightclub")
    await pilot.press("e")
    await until(pilot, lambda: editor_of(app).known_tags)
    editor_of(app).set_known_tags(known)
    return app.screen.query_one(TagAutoComplete)


async def test_enter_adds_what_was_typed_not_the_closest_suggestion(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        completion = await open_tags_with_known(pilot, app, table, [("keeper", 3), ("bo-4", 2)])
        await pilot.press(*"keep")
        await until(pilot, lambda: completion.display)  # "keeper" is suggested...
        await pilot.press("enter")
        assert tag_list(app) == ["keep"]  # ...but what was typed is added
        await pilot.press("b", "minus", "4", "enter")
        assert tag_list(app) == ["keep", "b-4"]
        await pilot.press(*"kee", "down", "enter")  # moving onto the suggestion takes it
        assert tag_list(app) == ["keep", "b-4", "keeper"]
        await pilot.press(*"bo", "down", *"x", "enter")  # typing again drops the choice
        assert tag_list(app)[-1] == "box"
        await pilot.press(*"kee", "tab")  # Tab without a choice: the next field, the text stays
        assert isinstance(app.focused, TagList) and tag_list(app)[-1] == "box"
        assert app.screen.query_one("#tag-input").value == "kee"


async def test_escape_closes_the_suggestions_first_and_closing_adds_the_typed_tag(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(table.cursor_row).session_key
        completion = await open_tags_with_known(pilot, app, table, [("keeper", 3)])
        key = table.row_at(table.cursor_row).session_key
        await pilot.press(*"keep")
        await until(pilot, lambda: completion.display)
        await pilot.press("escape")  # the suggestions close, the editor and the text stay
        assert not completion.display and editor_of(app).is_open
        assert app.screen.query_one("#tag-input").value == "keep"
        await pilot.press("escape")  # Done: the typed tag is added, not lost
        assert not editor_of(app).is_open and app.focused is table
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(key).tags == ("keep",))
        await pilot.press("e", *"a,b", "escape")  # a refused tag keeps the editor open, with the reason
        assert editor_of(app).is_open and "comma" in message(app)
        assert app.screen.query_one("#tag-input").value == "a,b"


async def test_escape_and_a_key_read_together_close_the_note_then_act(make_app, app_store, held_saves):
    """Esc then "-" in one packet (a slow link) is not an en dash typed in the note: Esc closes the
    editor, and "-" rates the session dislike, as it would have with a pause between the two."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        row = table.row_at(0)
        await pilot.press("n", *"ok")
        area = app.screen.query_one(NoteArea)
        for key in keys_read_from("\x1b-"):
            app.post_message(key)
        await until(pilot, lambda: not editor_of(app).is_open and app.focused is table)
        await until(pilot, lambda: app.edits.effective(row.metadata).user_rating == "dislike")
        assert area.text == "ok" and app.edits.effective(row.metadata).user_note == "ok"


async def test_escape_and_a_letter_read_as_alt_close_the_tag_editor_then_act(make_app, app_store, held_saves):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        row = table.row_at(0)
        await pilot.press("e", *"wip")
        (alt_t,) = keys_read_from("\x1bt")
        assert alt_t.key == "alt+t" and alt_t.character == "t"  # what Textual makes of it
        app.post_message(alt_t)
        await until(pilot, lambda: not editor_of(app).is_open and app.focused is table)
        await until(pilot, lambda: app.edits.effective(row.metadata).is_test)  # "t": test
        assert app.edits.effective(row.metadata).tags == ("wip",)  # the typed tag, without a "t"


async def test_a_note_saved_by_another_instance_while_editing_is_a_conflict_not_overwritten(
        make_app, app_store, monkeypatch, held_saves):
    """Instance B saves the note while A's editor is open (before A's check for outside changes
    sees it): what A types then is a conflict, both texts shown, neither lost."""
    monkeypatch.setattr(app_module, "EXTERNAL_CHECK_INTERVAL", 60.0)
    app_store.update_metadata(hair_key(app_store), {"user_note": "seen"})
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        from sdsessions_tui.tui.edit_screens import ConflictScreen

        table = await ready(pilot)
        await cursor_to(pilot, table, HAIR)
        await pilot.press("n", "end", "!")  # A's first edit is saved: the next rests on it
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).user_note == "seen!")
        await until(pilot, lambda: "✓ saved" in save_text(app))
        with Store(app_store.path) as other:  # instance B
            other.update_metadata(hair_key(app_store), {"user_note": "from B"})
        await pilot.press("?", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        text = str(app.screen.query_one("#conflict Static").render())
        assert "yours:  seen!?" in text and "theirs: from B" in text
        assert app_store.get_metadata(hair_key(app_store)).user_note == "from B"  # not overwritten
        await pilot.press("m")
        await until(pilot, lambda: app_store.get_metadata(hair_key(app_store)).user_note == "seen!?")


async def test_the_open_note_editor_shows_another_instances_change_until_the_user_types(
        make_app, app_store, held_saves, quick_outside_checks):
    from sdsessions_tui.tui.edit_screens import ConflictScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(0).session_key
        await until(pilot, lambda: app.live.checking)
        await pilot.press("n")
        area = app.screen.query_one(NoteArea)
        with Store(app_store.path) as other:
            other.update_metadata(key, {"user_note": "from B"})
        await until(pilot, lambda: area.text == "from B")  # nothing typed yet: the editor follows
        await pilot.press("end", *" and A")
        with Store(app_store.path) as other:
            other.update_metadata(key, {"user_note": "B again"})
        await pilot.pause(0.5)  # several checks for outside changes
        assert area.text == "from B and A"  # typed: the user's text stays
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        text = str(app.screen.query_one("#conflict Static").render())
        assert "yours:  from B and A" in text and "theirs: B again" in text


async def test_a_click_on_another_session_adds_the_typed_tag_before_the_editor_closes(make_app, app_store):
    from sdsessions_tui.tui.session_table import SessionTable

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(table.cursor_row).session_key
        await pilot.press("e", *"keepme")
        await pilot.click(SessionTable, offset=(10, 4))  # another row
        await until(pilot, lambda: table.cursor_session_key != key)
        await until(pilot, lambda: not editor_of(app).is_open)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "keepme" in app_store.get_metadata(key).tags)


async def test_narrowing_with_a_tag_typed_adds_it_before_the_editor_goes_full_screen(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.row_at(table.cursor_row).session_key
        await pilot.press("e", *"keepme")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "keepme" in app_store.get_metadata(key).tags)
