"""Metadata belongs to one session, not to a folder name: same-named folders, renames and moves,
end to end through a refresh and through the watcher's batches (``watch.apply_changes``)."""

import sqlite3

import pytest

from sdsessions_tui.core import refresh as refresh_module
from sdsessions_tui.core import watch
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import Store
from tests.conftest import write_session
from tests.core import spec_examples as ex

X, Y, W = "20251114_093010-hair_test", "20251117_111757-donmain", "20251114_093010-hair_final"


def images(manifest):
    return [image["filename"] for image in manifest["images"]]


@pytest.fixture
def roots(tmp_path):
    """Two roots (two GPU boxes' results gathered in one place) holding the same folder X, a copy."""
    gpu1, gpu2 = (tmp_path / "gpu1").resolve(), (tmp_path / "gpu2").resolve()
    for root in (gpu1, gpu2):
        write_session(root, X, manifest=ex.example_c(), images=images(ex.example_c()))
    return gpu1, gpu2


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "sessions.db") as opened:
        yield opened


def apply(store, roots, via, *changed):
    """Bring the store up to date after a change: a refresh of the roots, or a watcher batch of these folders."""
    if via == "refresh":
        refresh_module.refresh(store, roots, retry_delays=())
    else:
        watch.apply_changes(store, [str(root) for root in roots], {str(path) for path in changed})


def by_path(store):
    rows = store.fetch_rows(store.list_ids(SessionFilter(unavailable=None)))
    return {row.session_path: row for row in rows.values()}


def stored_names(store):
    """session_metadata's own folder name and path (information kept beside the key)."""
    with sqlite3.connect(store.path) as raw:
        found = {key: (name, path) for key, name, path in raw.execute(
            "SELECT session_key, session_id, session_path FROM session_metadata")}
    raw.close()
    return found


def test_same_named_folders_in_two_roots_have_their_own_metadata(store, roots):
    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one, two = by_path(store)[str(gpu1 / X)].id, by_path(store)[str(gpu2 / X)].id
    store.update_metadata(one, {"tags": ["gpu1"]})
    store.update_metadata(two, {"is_favorite": True, "user_note": "the other box"})
    first, second = store.get_metadata(one), store.get_metadata(two)
    assert (first.tags, first.is_favorite, first.user_note) == (("gpu1",), False, None)
    assert (second.tags, second.is_favorite, second.user_note) == ((), True, "the other box")
    assert store.list_ids(SessionFilter(tags_all=("gpu1",))) == [one]
    assert store.list_ids(SessionFilter(liked=True)) == [two]
    assert store.list_ids(SessionFilter(text=("the other box",))) == [two]
    assert store.set_metadata_many([one], {"is_test": True}) == 1
    assert not store.get_metadata(two).is_test


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_renaming_one_of_two_same_named_copies_leaves_the_other_alone(store, roots, via):
    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one, two = by_path(store)[str(gpu1 / X)].id, by_path(store)[str(gpu2 / X)].id
    store.update_metadata(one, {"tags": ["gpu1"], "user_rating": "like"})
    store.update_metadata(two, {"tags": ["gpu2"], "is_favorite": True})
    (gpu1 / X).rename(gpu1 / W)
    apply(store, roots, via, gpu1 / X, gpu1 / W)
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / W), str(gpu2 / X)}  # relinked, nothing unavailable or new
    renamed, other = rows[str(gpu1 / W)], rows[str(gpu2 / X)]
    assert renamed.id == one and other.id == two
    assert (renamed.metadata.tags, renamed.metadata.user_rating, renamed.metadata.is_favorite) == (
        ("gpu1",), "like", False)
    assert (other.metadata.tags, other.metadata.user_rating, other.metadata.is_favorite) == (("gpu2",), None, True)
    assert stored_names(store) == {one: (W, str(gpu1 / W)), two: (X, str(gpu2 / X))}


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_folder_moved_onto_a_name_another_session_has_keeps_its_own_metadata(store, roots, via):
    gpu1, gpu2 = roots
    (gpu2 / X).rename(gpu2.parent / "aside")  # gpu2 holds another session, B, as Y
    write_session(gpu2, Y, manifest=ex.example_d(), images=images(ex.example_d()))
    apply(store, roots, "refresh")
    a, b = by_path(store)[str(gpu1 / X)].id, by_path(store)[str(gpu2 / Y)].id
    store.update_metadata(a, {"tags": ["a"], "user_note": "A's note"})
    store.update_metadata(b, {"tags": ["b"], "is_test": True})
    (gpu2 / Y).rename(gpu2 / X)  # B now has A's folder name
    apply(store, roots, via, gpu2 / Y, gpu2 / X)
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / X), str(gpu2 / X)}
    moved = rows[str(gpu2 / X)]
    assert moved.id == b
    assert (moved.metadata.tags, moved.metadata.is_test, moved.metadata.user_note) == (("b",), True, None)
    assert rows[str(gpu1 / X)].metadata.tags == ("a",)
    assert store.list_ids(SessionFilter(tags_all=("a",))) == [a]
    assert store.list_ids(SessionFilter(text=("A's note",))) == [a]
    assert stored_names(store)[b] == (X, str(gpu2 / X))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_folder_renamed_to_the_name_another_session_had_shows_only_its_own_metadata(store, roots, via):
    gpu1, gpu2 = roots
    write_session(gpu1, Y, manifest=ex.example_d(), images=images(ex.example_d()))
    apply(store, roots, "refresh")
    a, b = by_path(store)[str(gpu1 / X)].id, by_path(store)[str(gpu1 / Y)].id
    store.update_metadata(a, {"tags": ["a"]})
    store.update_metadata(b, {"tags": ["b"]})
    (gpu1 / X).rename(gpu1 / W)  # A leaves the name X…
    apply(store, roots, via, gpu1 / X, gpu1 / W)
    (gpu1 / Y).rename(gpu1 / X)  # …and B takes it
    apply(store, roots, via, gpu1 / Y, gpu1 / X)
    rows = by_path(store)
    assert (rows[str(gpu1 / W)].id, rows[str(gpu1 / W)].metadata.tags) == (a, ("a",))
    assert (rows[str(gpu1 / X)].id, rows[str(gpu1 / X)].metadata.tags) == (b, ("b",))
    assert rows[str(gpu2 / X)].metadata.version == 0  # the other root's copy never had any


@pytest.mark.parametrize("renamed", [0, 1])
def test_a_rename_of_one_copy_seen_by_half_relinks_that_copy(store, roots, renamed):
    """The watcher may report only the new name: its content matches both copies (same manifest);
    the one whose folder is gone was renamed, whichever the store lists first."""
    apply(store, roots, "refresh")
    keys = [by_path(store)[str(root / X)].id for root in roots]
    for root, key in zip(roots, keys):
        store.update_metadata(key, {"tags": [root.name]})
    (roots[renamed] / X).rename(roots[renamed] / W)
    apply(store, roots, "watch", roots[renamed] / W)
    rows = by_path(store)
    kept = roots[1 - renamed]
    assert (rows[str(roots[renamed] / W)].id, rows[str(roots[renamed] / W)].metadata.tags) == (
        keys[renamed], (roots[renamed].name,))
    assert (rows[str(kept / X)].id, rows[str(kept / X)].metadata.tags) == (keys[1 - renamed], (kept.name,))


def test_both_copies_renamed_in_one_refresh_each_keep_their_own(store, roots):
    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one, two = by_path(store)[str(gpu1 / X)].id, by_path(store)[str(gpu2 / X)].id
    store.update_metadata(one, {"tags": ["gpu1"]})
    store.update_metadata(two, {"tags": ["gpu2"]})
    (gpu1 / X).rename(gpu1 / W)
    (gpu2 / X).rename(gpu2 / Y)
    apply(store, roots, "refresh")
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / W), str(gpu2 / Y)}
    assert (rows[str(gpu1 / W)].id, rows[str(gpu1 / W)].metadata.tags) == (one, ("gpu1",))
    assert (rows[str(gpu2 / Y)].id, rows[str(gpu2 / Y)].metadata.tags) == (two, ("gpu2",))


def test_an_export_tells_same_named_sessions_apart(store, roots):
    from sdsessions_tui.core.export import columns, iter_records

    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one = by_path(store)[str(gpu1 / X)].id
    store.update_metadata(one, {"tags": ["gpu1"]})
    records = {record["session_path"]: record for record in iter_records(store)}
    first, second = records[str(gpu1 / X)], records[str(gpu2 / X)]
    assert first["session_id"] == second["session_id"] == X  # the web UI's key
    assert (first["id"], first["tags"]) == (one, ["gpu1"])
    assert second["id"] != one and second["tags"] == []
    assert {"id", "session_id", "session_path", "tags", "version"} <= set(columns(store))
    assert "session_key" not in columns(store)  # it is the id
