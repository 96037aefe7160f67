"""Metadata edits: tag and note rules, and saving bursts with per-field conflict detection."""

import pytest

from sdsessions_tui.core.edits import Edit, EditError, add_tag, normalize_tag, remove_tag
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store


@pytest.mark.parametrize(("typed", "tag"), [("  keep  ", "keep"), ("red   hair\tstyle", "red hair style"),
                                             ("Ünïcode ✓", "Ünïcode ✓"), ("x" * 50, "x" * 50)])
def test_tags_are_trimmed_and_collapsed(typed, tag):
    assert normalize_tag(typed) == tag


@pytest.mark.parametrize(("typed", "reason"), [("", "empty"), ("   ", "empty"), ("a,b", "comma"),
                                               ("bell\x07", "control"), ("zero\u200bwidth", "control"),
                                               ("x" * 51, "at most 50")])
def test_invalid_tags_are_refused_with_a_reason(typed, reason):
    with pytest.raises(EditError, match=reason):
        normalize_tag(typed)


def test_tag_lists_merge_case_insensitively_keeping_the_first_spelling():
    assert add_tag(("Keep", "red"), "keep") == ("Keep", "red")
    assert add_tag(("Keep",), "new") == ("Keep", "new")
    assert remove_tag(("Keep", "red"), "KEEP") == ("red",)


def _edit(store, session_key, **changes):
    meta = store.get_metadata(session_key)
    return Edit(session_key, meta.version, {name: getattr(meta, name) for name in changes}, changes)


def test_a_burst_is_saved_touching_only_its_fields(store, sample):
    store.update_metadata(sample["20251112_181502-Teasing"], {"user_note": "keep me", "is_test": True})
    result = store.apply_edits([
        _edit(store, sample["20251112_181502-Teasing"], is_favorite=True, tags=("cats", "Cats")),
        _edit(store, sample["20251114_093010-hair_test"], user_rating="like")])
    assert not result.conflicts
    teasing = store.get_metadata(sample["20251112_181502-Teasing"])
    assert (teasing.is_favorite, teasing.tags, teasing.user_note, teasing.is_test) == (True, ("cats",), "keep me", True)
    assert result.saved[sample["20251112_181502-Teasing"]] == teasing
    assert store.get_metadata(sample["20251114_093010-hair_test"]).user_rating == "like"
    assert store.list_ids(SessionFilter(tags_all=("cats",))) == [sample["20251112_181502-Teasing"]]
    assert store.list_ids(SessionFilter(text=("cats",))) == [sample["20251112_181502-Teasing"]]


def test_another_instance_changing_other_fields_is_merged(store, sample):
    name = sample["20251117_111757-donmain"]
    mine = _edit(store, name, is_favorite=True)
    store.update_metadata(name, {"user_note": "theirs"})  # the other instance, meanwhile
    result = store.apply_edits([mine])
    assert not result.conflicts
    meta = store.get_metadata(name)
    assert (meta.is_favorite, meta.user_note, meta.version) == (True, "theirs", 2)


def test_the_same_field_changed_elsewhere_is_a_conflict_not_an_overwrite(store, sample):
    name = sample["20251117_111757-donmain"]
    mine = _edit(store, name, user_note="mine", is_test=True)
    store.update_metadata(name, {"user_note": "theirs"})
    result = store.apply_edits([mine])
    (conflict,) = result.conflicts
    assert (conflict.mine, conflict.theirs) == ({"user_note": "mine"}, {"user_note": "theirs"})
    meta = store.get_metadata(name)
    assert (meta.user_note, meta.is_test) == ("theirs", True)  # the field without a clash was saved
    # Keeping mine: an edit against the version the conflict reported.
    again = store.apply_edits([Edit(name, conflict.version, conflict.theirs, conflict.mine)])
    assert not again.conflicts and store.get_metadata(name).user_note == "mine"


def test_the_same_value_on_both_sides_is_no_conflict(store, sample):
    name = sample["20251117_111757-donmain"]
    mine = _edit(store, name, user_rating="like")
    store.update_metadata(name, {"user_rating": "like"})
    assert not store.apply_edits([mine]).conflicts


def test_bulk_flags_over_a_filter(store, sample):
    store.update_metadata(sample["20251112_181502-Teasing"], {"user_note": "kept", "is_favorite": False})
    ids = store.list_ids()
    assert store.set_metadata_many(ids, {"is_favorite": True, "user_rating": "dislike"}) == len(ids)
    assert store.list_ids(SessionFilter(liked=True)) == ids
    teasing = store.get_metadata(sample["20251112_181502-Teasing"])
    assert (teasing.user_note, teasing.user_rating, teasing.version) == ("kept", "dislike", 2)
    assert store.get_metadata(sample["20251114_093010-hair_test"]).version == 1
    with pytest.raises(ValueError, match="in bulk"):
        store.set_metadata_many(ids, {"tags": ["x"]})


def test_bulk_gives_each_sessions_previous_values_for_an_undo(store, sample):
    teasing, hair = sample["20251112_181502-Teasing"], sample["20251114_093010-hair_test"]
    store.update_metadata(teasing, {"is_favorite": True, "user_rating": "like"})
    ids = store.list_ids()
    previous: dict = {}
    store.set_metadata_many(ids, {"is_favorite": False, "user_rating": "dislike"}, previous=previous)
    assert set(previous) == set(ids)
    assert previous[teasing] == {"is_favorite": True, "user_rating": "like"}
    assert previous[hair] == {"is_favorite": False, "user_rating": None}  # no metadata row before


def test_two_stores_on_one_file_see_each_others_edits(store, sample, tmp_path):
    other = Store(store.path)
    try:
        other.apply_edits([_edit(other, sample["20251117_111757-donmain"], tags=("from-other",))])
        assert store.get_metadata(sample["20251117_111757-donmain"]).tags == ("from-other",)
    finally:
        other.close()


def test_a_save_on_the_way_out_waits_only_its_own_short_time_for_a_lock(store, sample):
    import sqlite3

    from sdsessions_tui.core.db import StoreError

    name = sample["20251117_111757-donmain"]
    mine = _edit(store, name, is_favorite=True)
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"locked by another program \(waited 0.2 s\)"):
            store.apply_edits([mine], busy_timeout=0.2)
    finally:
        locker.close()
    assert store.apply_edits([mine]).saved[name].is_favorite  # the usual wait again afterwards
