"""The assembled app, driven with Pilot: navigation, filtering, sorting, the responsive switch."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Input, Label

from sdsessions_tui.core.db import StoreError
from sdsessions_tui.tui import app as app_module
from sdsessions_tui.tui import query_runner
from sdsessions_tui.tui.app import SessionsApp, SortMenu
from sdsessions_tui.tui.details import DetailsPanel
from sdsessions_tui.tui.details_screen import DetailsScreen
from sdsessions_tui.tui.help import HelpScreen
from tests.tui.helpers import error_text, ready, screen_text, until


def count_text(app) -> str:
    return str(app.query_one("#count", Label).render())


async def test_opens_with_every_session_and_a_count(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        assert count_text(app) == "7 of 7"
        assert app.focused is table
        assert table.cursor_session_key is not None


async def test_keyboard_navigation_updates_the_details(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        panel = app.query_one("#details", DetailsPanel)
        await pilot.press("G")
        await until(pilot, lambda: table.cursor_row == 6)
        await until(pilot, lambda: panel.stats is not None and panel.stats.session_id == table.row_at(6).session_id)
        await pilot.press("g", "j", "j", "k")
        assert table.cursor_row == 1


async def test_typing_a_query_filters_and_a_bad_one_keeps_the_result(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"is:sweep")
        await until(pilot, lambda: table.row_count == 1)
        assert count_text(app) == "1 of 7"
        await pilot.press(*" steps:abc")
        await until(pilot, lambda: "steps" in str(app.query_one("#query-error", Label).render()))
        assert table.row_count == 1  # the last good result stays
        await pilot.press("escape")
        assert app.focused is table


async def test_controls_arrive_after_the_first_rows_then_on_started_runs_once(app_store, tmp_path):
    calls = []
    app = SessionsApp(app_store, [], thumbnail_cache=tmp_path / "thumbs", refresh_on_start=False,
                      on_started=lambda: calls.append(len(app.query(".chip"))))
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: calls)
        await pilot.pause(0.1)
        assert calls == [6]  # once, with the six chips mounted
        assert app.query_one("#chips").region.height == 1


class GatedStore:
    """The app's store, whose whole-list queries wait for ``release`` (their heads do not)."""

    def __init__(self, store, monkeypatch):
        self.release, self.waiting = threading.Event(), threading.Event()
        list_ids = store.list_ids

        def gated(*args, limit=None):
            if limit is None and threading.current_thread() is not threading.main_thread():
                self.waiting.set()
                assert self.release.wait(10)
            return list_ids(*args, limit=limit)

        monkeypatch.setattr(store, "list_ids", gated)


def shown_ids(table):
    return [table.row_at(index).session_key for index in range(table.row_count)]


@pytest.mark.parametrize(("cursor_row", "query", "head", "cursor_then", "whole", "cursor_after"), [
    (0, "-status:aborted", [7, 6], 7, [7, 6, 4, 3, 2, 1], 7),  # its session is in the head
    (1, "-status:completed", [7, 5], 7, [7, 5, 3, 1], 7),  # it left the result: to the top
    (4, "-status:aborted", None, 3, [7, 6, 4, 3, 2, 1], 3),  # further down the result: wait for all
    (1, "sort:name", None, 6, [1, 2, 3, 4, 5, 6, 7], 6),  # still listed, elsewhere: wait for all
])
async def test_a_result_shows_its_head_first_unless_the_cursor_would_jump(
        make_app, app_store, monkeypatch, cursor_row, query, head, cursor_then, whole, cursor_after):
    monkeypatch.setattr(query_runner, "RESULT_HEAD", 2)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        table.move_cursor(cursor_row)
        gate = GatedStore(app_store, monkeypatch)
        app.filter_bar.query_input.value = query
        await until(pilot, gate.waiting.is_set)
        await pilot.pause(0.1)
        if head is None:
            assert shown_ids(table) == [7, 6, 5, 4, 3, 2, 1] and count_text(app) == "7 of 7"
            assert table.cursor_row == cursor_row
        else:
            assert shown_ids(table) == head and count_text(app) == "2+ of 7"
        assert table.cursor_session_key == (cursor_then if head else table.row_at(cursor_row).session_key)
        gate.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown_ids(table) == whole and count_text(app) == f"{len(whole)} of 7"
        assert table.cursor_session_key == cursor_after


async def test_chip_toggles_its_term_in_the_text(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.click("#chip-liked")
        query = app.query_one("#query", Input)
        assert query.value.strip() == "is:liked"
        await until(pilot, lambda: table.row_count == 1)
        assert app.query_one("#chip-liked").has_class("-on")
        await pilot.click("#chip-liked")
        await until(pilot, lambda: table.row_count == 7)
        assert query.value.strip() == ""


async def test_sort_menu_and_the_cursor_stays_on_its_session(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("j", "j")
        key = table.cursor_session_key
        await pilot.press("s")
        assert isinstance(app.screen, SortMenu)
        await pilot.press("home", "down", "enter")  # date -> name
        await until(pilot, lambda: app.sort.column == "name")
        assert table.cursor_session_key == key
        assert [table.row_at(i).session_id for i in range(2)] == sorted(
            table.row_at(i).session_id for i in range(7))[:2]


async def test_narrow_terminal_opens_details_full_screen(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await ready(pilot)
        assert not app.query_one("#side").display
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailsScreen)
        assert app.focused is table


async def test_wide_terminal_shows_details_beside_the_table(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.details_panel is not None and app.details_panel.stats is not None)
        assert app.query_one("#side").display


async def test_placeholders_expand_with_enter_in_the_details(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None)
        await pilot.press("enter")
        assert app.focused is panel
        await pilot.press("enter")
        assert panel.expanded


async def test_a_database_that_stops_answering_is_reported_not_fatal(make_app, app_store, monkeypatch):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)

        def fail(*args, **kwargs):
            raise StoreError("disk I/O error (sessions.db)")

        for name in ("list_ids", "get_session", "recompute", "distinct_values"):
            monkeypatch.setattr(app_store, name, fail)
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **_options: notes.append(message))
        app.filter_bar.query_input.value = "is:sweep"
        await until(pilot, lambda: "could not be read" in str(app.query_one("#query-error", Label).render()))
        assert table.row_count == 7  # the last good result stays
        await pilot.press("j", "r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: len(notes) >= 2)  # the details of the next row, and the re-read
        assert all("disk I/O error" in note for note in notes)
        assert app.is_running


async def test_session_without_stats_shows_the_reason(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash", *"is:broken", "enter")
        await until(pilot, lambda: table.row_count == 1)
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None and panel.stats.stats_error is not None)
        assert "manifest.json" in panel.stats.stats_error


async def test_late_callbacks_after_the_screens_closed_do_nothing(make_app):
    """A ↓ or an edit just before quitting: the details debounce, or an edit's after-refresh redraw,
    can run once the app has closed its screens (seen after a burst of keys, and in CI); no raise."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.cursor_session_key
    assert not app.screen_stack
    assert app.details_panel is None
    app.show_details(key)  # what the timer calls
    app.editing.show_edited_metadata()  # what an edit schedules after the next refresh


async def test_help_lists_the_focused_widgets_keys(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_recompute_reads_the_session_again(make_app, app_store):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        key = table.cursor_session_key
        before = app_store.get_session(key)[0].stats_computed_at
        await pilot.press("r")
        await until(pilot, lambda: app_store.get_session(key)[0].stats_computed_at > before)


async def test_markup_and_control_characters_in_data_are_shown_literally(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash", *"odd", "enter")
        await until(pilot, lambda: table.row_count == 1)
        line = "".join(table.render_line(y).text for y in range(3))
        assert "[bold]odd name[i]" in line  # the display name, its markup literal
        app.query_one("#query", Input).value = "weird"  # a prompt with [/], [bold] and an ESC sequence
        await pilot.press("slash", "enter")
        await until(pilot, lambda: table.row_count == 1 and table.row_at(0).session_id.startswith("20251112_1815"))
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None and panel.stats.session_id.startswith("20251112_1815"))
        panel.scroll_end(animate=False)  # the prompt is the last section
        await pilot.pause()
        screen = app.export_screenshot()
        assert "closing&#160;[bold]x" in screen and "\\x1b[31m" in screen and "\x1b" not in screen


async def test_a_worker_result_arriving_while_the_app_closes_is_dropped(make_app):
    """A query or refresh finishing during exit must not reach widgets being removed."""
    import threading

    from sdsessions_tui.core.filters import ParsedQuery, SessionSort
    from sdsessions_tui.tui.messages import QueryMessage, QueryResult

    app = make_app()
    errors: list[BaseException] = []

    def late_result() -> None:
        try:
            query = QueryMessage(ParsedQuery(), SessionSort(), app.queries.latest, None, reload=False)
            app.post_message(QueryResult(query, [1], 1))
        except BaseException as error:  # noqa: BLE001 - what the worker thread would have died of
            errors.append(error)

    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.pause(0.3)  # the details have settled
        await app.table.remove()  # the list is gone, as during shutdown
        thread = threading.Thread(target=late_result)
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.01)
        await pilot.pause(0.05)  # its message handled
    assert not errors


async def test_resizing_switches_the_layout_both_ways(make_app):
    """The layout follows the terminal's width while the app runs, not only at start."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        side = app.query_one("#side")
        assert side.display
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not side.display)
        await pilot.press("j")  # moved while the panel is hidden
        await pilot.resize_terminal(160, 50)
        await until(pilot, lambda: side.display)
        panel = app.query_one("#details", DetailsPanel)
        await until(pilot, lambda: panel.stats is not None and panel.stats.session_id == table.row_at(1).session_id)
        await pilot.press("enter")  # wide: Enter focuses the panel beside the list
        assert app.focused is panel and not isinstance(app.screen, DetailsScreen)


async def test_narrowing_moves_the_details_full_screen_and_widening_brings_them_back(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("enter")
        panel = app.query_one("#details", DetailsPanel)
        assert app.focused is panel
        await pilot.resize_terminal(80, 24)  # the focused panel would vanish: it goes full-screen
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        assert app.screen.session_key == table.cursor_session_key
        await pilot.resize_terminal(160, 50)  # and comes back beside the list
        await until(pilot, lambda: not isinstance(app.screen, DetailsScreen))
        await until(pilot, lambda: app.focused is panel)


async def test_a_resize_under_a_dialog_lays_out_the_list_screen(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.screen_stack[0].has_class("-narrow"))
        assert not app.screen.has_class("-narrow")
        await pilot.press("escape")
        assert not app.query_one("#side").display


async def test_narrowing_while_editing_a_note_keeps_editing_full_screen(make_app):
    from sdsessions_tui.tui.metadata_editor import MetadataEditor, NoteArea

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = await ready(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.focused, NoteArea))
        await pilot.press(*"hi")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen) and isinstance(app.focused, NoteArea))
        editor = app.screen.query_one(MetadataEditor)
        assert editor.is_open and editor.session_keys == [table.cursor_session_key]
        assert app.focused.text == "hi"  # the typed note came along
        assert not app.screen_stack[0].query_one(MetadataEditor).is_open


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_a_bad_term_is_left_out_and_its_error_takes_the_chips_line(make_app, size):
    """Pasted in one go (no keystroke before it was good), a bad query still lists what its good
    terms match; the error shows in the chips' line, so the list does not move."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        table = await ready(pilot)
        top = table.region.y
        app.query_one("#query", Input).value = "steps:abc is:sweep"  # the bad term is not the one being typed
        await until(pilot, lambda: table.row_count == 1 and "steps" in error_text(app))
        assert table.region.y == top
        assert not app.query_one("#chips").display
        app.query_one("#query", Input).value = "is:sweep"
        await until(pilot, lambda: not error_text(app))
        assert app.query_one("#chips").display and table.region.y == top


async def test_a_half_typed_term_shows_no_error_and_keeps_the_list(make_app, monkeypatch):
    monkeypatch.setattr(app_module, "TYPING_ERROR_DELAY", 30.0)  # longer than the test: "while typing"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash", *"is:sweep")
        await until(pilot, lambda: table.row_count == 1)
        generation = app.queries.latest
        await pilot.press(*" steps:")  # a key still without a value: left out, never an error
        await until(pilot, lambda: app.queries.latest > generation)  # its query ran (the same result)
        await app.workers.wait_for_complete()
        assert table.row_count == 1 and not error_text(app) and not app.typing_error_pending
        await pilot.press(*"20-")  # a range being typed: no error yet, the list stays
        await until(pilot, lambda: app.typing_error_pending)
        assert table.row_count == 1 and not error_text(app)
        await pilot.press("enter")  # done typing: the error shows (the term left out)
        await until(pilot, lambda: "steps" in error_text(app))
        assert table.row_count == 1


async def test_the_error_of_the_term_being_typed_shows_after_a_pause(make_app, monkeypatch):
    monkeypatch.setattr(app_module, "TYPING_ERROR_DELAY", 0.2)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await ready(pilot)
        await pilot.press("slash", *"is:sweep date:7")
        await until(pilot, lambda: "date" in error_text(app) and table.row_count == 1)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_an_empty_result_says_no_sessions_match(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        table = await ready(pilot)
        table.move_cursor(6)  # (scrolled, at 80×24)
        await pilot.press("slash", *"nothing-matches-this")
        await until(pilot, lambda: table.row_count == 0)
        await pilot.pause()
        shown = [table.render_line(y).text for y in range(table.size.height)]
        assert sum("No sessions match this filter" in line for line in shown) == 1


# --- chips and pickers -----------------------------------------------------------------------------


async def controls(pilot):
    app = pilot.app
    table = await ready(pilot)
    await until(pilot, lambda: app.filter_bar._models is not None)  # the model picker is filled
    return table, app.query_one("#query", Input), app.query_one("#model-picker"), app.query_one("#date-picker")


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_the_pickers_always_show_what_the_text_says(make_app, size):
    from textual.widgets import Select

    app = make_app()
    async with app.run_test(size=size) as pilot:
        table, query, models, dates = await controls(pilot)
        name = next(value for _label, value in app.filter_bar._choices["model-picker"] if "pony" in value.lower())
        models.value = name  # picked
        await until(pilot, lambda: query.value.startswith("model:pony"))
        dates.value = "7d"
        await until(pilot, lambda: query.value.endswith(" date:7d"))  # relative, not a range of days
        await pilot.click("#chip-liked")
        await until(pilot, lambda: query.value.endswith(" is:liked"))
        assert models.value == name and dates.value == "7d"  # a chip changed the text: the pickers stay
        query.value = ""  # cleared by hand
        await until(pilot, lambda: models.value is Select.NULL and dates.value is Select.NULL)
        query.value = "cat model:Flux date:2025-11"  # typed by hand: what none of their choices says
        await until(pilot, lambda: models.value == dates.value == "\x00from the text")
        assert str(models.query_one("#label").render()) == "model:Flux"
        assert str(dates.query_one("#label").render()) == "date:2025-11"
        query.value = "date:1M"
        await until(pilot, lambda: dates.value == "1m" and models.value is Select.NULL)
        app.filter_bar.set_models(app.filter_bar._models)  # reloaded (a refresh): the text is left alone
        await pilot.pause()
        assert query.value == "date:1M" and models.value is Select.NULL


async def test_reloading_the_models_leaves_the_text_and_the_picker_alone(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table, query, models, _dates = await controls(pilot)
        name = next(value for _label, value in app.filter_bar._choices["model-picker"] if "pony" in value.lower())
        query.value = "cat model:" + name.split(" [")[0].lower()
        await until(pilot, lambda: models.value == name)
        before = app.filter_bar._models
        app.load_models()  # as after a refresh that found new sessions
        await until(pilot, lambda: app.filter_bar._models is not before)
        await pilot.pause()
        assert query.value.startswith("cat model:pony") and models.value == name


async def test_long_model_names_take_one_line_each_in_the_picker(make_app):
    from textual.widgets._select import SelectOverlay

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await controls(pilot)
        long = [("averyveryverylongmodelname_withoutanyspaces_v13_final_final2.safetensors [abcdef1234]", 12),
                ("a long model name with spaces in it that would wrap between words.safetensors", 3)]
        app.filter_bar.set_models(long)
        picker = app.query_one("#model-picker")
        picker.focus()
        await pilot.press("enter")  # open the list
        overlay = picker.query_one(SelectOverlay)
        await until(pilot, lambda: overlay.display and overlay.size.height > 0)
        await pilot.pause()
        lines = [overlay.render_line(y).text for y in range(overlay.size.height)]
        shown = [line for line in lines if line.strip()]
        assert len(shown) == 1 + len(long)  # the prompt, then one line per model
        assert any("12 averyvery" in line and line.rstrip().endswith("…") for line in shown)
        assert "abcdef1234" not in "".join(shown)  # the web UI's hash is not part of the name


async def test_a_chip_takes_its_value_out_of_a_list_term(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table, query, _models, _dates = await controls(pilot)
        query.value = "status:running,aborted"
        await until(pilot, lambda: app.query_one("#chip-running").has_class("-on"))
        assert app.query_one("#chip-aborted").has_class("-on")
        await pilot.click("#chip-running")  # lit: it turns off, the list keeps the rest
        await until(pilot, lambda: query.value == "status:aborted")
        await until(pilot, lambda: not app.query_one("#chip-running").has_class("-on"))
        assert app.query_one("#chip-aborted").has_class("-on")
        await pilot.click("#chip-running")
        await until(pilot, lambda: query.value == "status:aborted status:running")


async def test_a_chip_or_picker_on_an_unclosed_quote_says_so(make_app):

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table, query, models, _dates = await controls(pilot)
        query.value = 'model:"pony'
        await pilot.click("#chip-liked")
        await until(pilot, lambda: "unclosed quote" in error_text(app))
        assert query.value == 'model:"pony'
        models.value = app.filter_bar._choices["model-picker"][0][1]
        await pilot.pause()
        assert query.value == 'model:"pony' and "unclosed quote" in error_text(app)


# --- the palette and F1 ----------------------------------------------------------------------------


async def test_the_palette_shows_descriptions_and_keys_and_each_command_once(make_app):
    from textual.command import CommandList, CommandPalette

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 10)
        await pilot.pause()
        shown = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        text = "\n".join(shown)
        assert "app.help" not in text and "table.sort" not in text  # no command ids
        assert any("Help" in entry and "F1" in entry for entry in shown)
        assert any("Sort" in entry and "s" in entry.split() and "Session list" in entry for entry in shown)
        assert sum(entry.splitlines()[0].strip() == "Quit" for entry in shown) == 1
        assert not any(entry.splitlines()[0].strip() == "Keys" for entry in shown)  # (F1 is the help)
        assert any(entry.splitlines()[0].strip() == "Theme" for entry in shown)  # Textual's others stay


async def test_f1_has_the_query_language_the_status_marks_and_ctrl_p(make_app):
    from sdsessions_tui.core import query_terms
    from sdsessions_tui.tui.session_table import BADGES

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = " ".join(screen_text(app.screen).split())
        assert "Ctrl+p Command palette" in text
        for badge in BADGES.values():
            assert " ".join(badge.meaning.split()) in text
        for term, _meaning in query_terms.TERMS:
            assert " ".join(term.replace("`", "").split())[:30] in text
        for note in query_terms.NOTES:
            assert " ".join(note.replace("`", "").split())[:40] in text


async def test_a_query_timer_firing_as_the_app_exits_does_nothing(make_app):
    """A debounce or typed-error timer can fire while the app tears its widgets down (the filter
    bar goes first): it must not reach for them."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await app.filter_bar.remove()  # as at exit
        assert app.closing
        app.run_query("steps:20-", typing=True)
        app.run_query("is:sweep")
