"""The query runner without a terminal: its messages collected, its worker run on this thread."""

from __future__ import annotations

from sdsessions_tui.core.db import StoreError
from sdsessions_tui.core.query import parse_query
from sdsessions_tui.tui import query_runner
from sdsessions_tui.tui.messages import QueryFailed, QueryHead, QueryResult
from sdsessions_tui.tui.query_runner import QueryRunner


def runner_on(store):
    posted: list[object] = []

    def post(message: object) -> None:
        posted.append(message)
        if isinstance(message, QueryHead):
            message.painted.set()  # as the app does once the head is on screen

    return QueryRunner(store, post), posted


def test_a_result_carries_its_ids_and_the_total(app_store):
    runner, posted = runner_on(app_store)
    runner.run(runner.start(parse_query("steps:28"), None))
    (result,) = posted
    assert isinstance(result, QueryResult)
    assert result.ids == app_store.list_ids(parse_query("steps:28").filter) and result.total == 7
    assert runner.accept(result) and runner.shown == parse_query("steps:28") and runner.total == 7


def test_only_the_latest_querys_result_is_accepted(app_store):
    runner, posted = runner_on(app_store)
    older = runner.start(parse_query("steps:28"), None)
    newer = runner.start(parse_query("steps:20"), None)
    runner.run(newer)
    runner.run(older)  # finishing late
    late, latest = posted[1], posted[0]
    assert not runner.accept(late)
    assert runner.accept(latest) and runner.shown == parse_query("steps:20")


def test_a_reload_runs_the_last_query_again_and_counts_again(app_store):
    """Not the input's text (the runner never sees it): what was run last, with the sort chosen."""
    runner, posted = runner_on(app_store)
    runner.accept(_run(runner, posted, runner.start(parse_query("steps:28"), None)))
    reload = runner.reload(anchor=3)
    assert reload.parsed == parse_query("steps:28") and reload.reload and reload.anchor == 3
    assert runner.total == 0 and reload.generation == runner.latest


def test_the_head_comes_first_when_the_cursor_cannot_jump(app_store, monkeypatch):
    monkeypatch.setattr(query_runner, "RESULT_HEAD", 2)
    runner, posted = runner_on(app_store)
    everything = app_store.list_ids()
    runner.run(runner.start(parse_query(""), everything[0]))
    head, result = posted
    assert isinstance(head, QueryHead) and head.ids == everything[:2]
    assert runner.wants_head(head, everything[0]) and not runner.wants_head(head, everything[1])  # (it moved)
    assert isinstance(result, QueryResult) and result.ids == everything


def test_no_head_on_a_reload_nor_when_the_cursors_session_is_further_down(app_store, monkeypatch):
    monkeypatch.setattr(query_runner, "RESULT_HEAD", 2)
    runner, posted = runner_on(app_store)
    everything = app_store.list_ids()
    runner.run(runner.start(parse_query(""), everything[4]))
    runner.run(runner.reload(everything[0]))
    assert [type(message) for message in posted] == [QueryResult, QueryResult]


def test_the_worker_waits_for_the_heads_frame_a_bounded_time(app_store, monkeypatch):
    """The head's painting is waited for, but never longer than HEAD_PAINT_WAIT."""
    monkeypatch.setattr(query_runner, "RESULT_HEAD", 2)
    monkeypatch.setattr(query_runner, "HEAD_PAINT_WAIT", 0.01)
    posted: list[object] = []
    runner = QueryRunner(app_store, posted.append)  # nobody paints
    runner.run(runner.start(parse_query(""), None))
    head, result = posted
    assert isinstance(head, QueryHead) and not head.painted.is_set() and isinstance(result, QueryResult)


def test_a_database_error_is_posted_and_nothing_else(app_store, monkeypatch):
    runner, posted = runner_on(app_store)

    def refuse(*_args: object, **_kwargs: object) -> list[int]:
        raise StoreError("disk I/O error")

    monkeypatch.setattr(app_store, "list_ids", refuse)
    runner.run(runner.start(parse_query(""), None))
    (failed,) = posted
    assert isinstance(failed, QueryFailed) and "disk I/O error" in failed.error


def _run(runner: QueryRunner, posted: list[object], query) -> QueryResult:
    runner.run(query)
    result = posted[-1]
    assert isinstance(result, QueryResult)
    return result

