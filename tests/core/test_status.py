"""The status table of spec §11, row by row."""

import pytest

from sdsessions_tui.core.status import completion_label, completion_percentage, decide_status

NOW = 1_800_000_000.0
RECENT, OLD = NOW - 60, NOW - 3600


@pytest.mark.parametrize(
    ("manifest_status", "readable", "done", "expected", "dry", "newest", "status"),
    [
        ("completed", False, 3, 3, False, OLD, "unknown"),
        ("ongoing", True, 1, 5, False, RECENT, "running"),
        ("ongoing", True, 1, 5, False, OLD, "stale"),
        ("in_progress", True, 1, 5, False, RECENT, "running"),
        ("ongoing", True, 0, 5, False, None, "stale"),
        ("aborted", True, 5, 5, False, RECENT, "aborted"),
        ("completed", True, 5, 5, False, OLD, "completed"),
        ("completed", True, 6, 5, False, OLD, "completed"),
        ("completed", True, 4, 5, False, OLD, "completed_with_failures"),
        ("completed", True, 0, 5, False, OLD, "completed_with_failures"),
        ("completed", True, 0, 5, True, OLD, "completed"),
        ("completed", True, 2, None, False, OLD, "completed"),
        (None, True, 5, 5, False, OLD, "completed"),
        (None, True, 4, 5, False, RECENT, "running"),
        (None, True, 4, 5, False, OLD, "incomplete"),
        (None, True, 4, None, False, OLD, "unknown"),
        ("weird", True, 4, 5, False, OLD, "incomplete"),
    ],
)
def test_status_table(manifest_status, readable, done, expected, dry, newest, status):
    assert decide_status(manifest_status, readable=readable, done=done, expected=expected, is_dry_run=dry,
                         newest_mtime=newest, now=NOW) == status


@pytest.mark.parametrize(("done", "expected", "percent"),
                         [(0, 4, 0.0), (1, 3, 33.33), (3, 3, 100.0), (9, 3, 100.0), (3, 0, None), (3, None, None)])
def test_completion_is_clamped_and_unknown_without_expected(done, expected, percent):
    assert completion_percentage(done, expected) == percent


def test_an_unfinished_run_never_reaches_100_percent() -> None:
    assert completion_percentage(99_999, 100_000) == 99.99
    assert completion_label(completion_percentage(99_999, 100_000)) == "99%"


@pytest.mark.parametrize(("percent", "label"), [(None, "—"), (0.0, "0%"), (66.67, "66%"), (99.99, "99%"),
                                                (100.0, "100%")])
def test_one_completion_label_rounds_down(percent, label) -> None:
    assert completion_label(percent) == label


def test_combinations_never_generated():
    from sdsessions_tui.core.status import combinations_never_generated as never

    assert never("combinatorial", True, 120, 0, 100) == 20
    assert never("Combinatorial", True, 40, 3, 100) == 20  # a sweep: combinations × seeds
    assert never("combinatorial", True, 120, 0, 120) is None
    assert never("combinatorial", True, 100, 0, 120) is None  # more planned than combinations: not a cap
    assert never("random", True, 120, 0, 100) is None  # random mode samples by design
    assert never("combinatorial", False, 1, 3, 1) is None  # no placeholders: one prompt whatever the seeds
    assert never(None, True, 120, 0, 100) is None and never("combinatorial", True, None, 0, 100) is None
    assert never("combinatorial", True, 120, 0, None) is None
