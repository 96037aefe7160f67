"""Metadata belongs to one session, not to a folder name: same-named folders, renames and moves,
end to end through a refresh and through the watcher's batches (``watch.apply_changes``)."""

import json
import shutil
import sqlite3

import pytest

from sdsessions_tui.core import refresh as refresh_module
from sdsessions_tui.core import watch
from sdsessions_tui.core.filters import SessionFilter
from sdsessions_tui.core.store import tombstone_path
from tests.conftest import image_names, write_session
from tests.core import spec_examples as ex
from tests.core.helpers import by_path

X, Y, W = "20251114_093010-hair_test", "20251117_111757-donmain", "20251114_093010-hair_final"


def apply(store, roots, via, *changed):
    """Bring the store up to date after a change: a refresh of the roots, or a watcher batch of these folders;
    what it did (both have ``new``, ``updated``, ``relinked`` and ``unavailable``)."""
    if via == "refresh":
        return refresh_module.refresh(store, roots, retry_delays=())
    return watch.apply_changes(store, [str(root) for root in roots], {str(path) for path in changed})


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
    one, two = by_path(store)[str(gpu1 / X)].session_key, by_path(store)[str(gpu2 / X)].session_key
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
    one, two = by_path(store)[str(gpu1 / X)].session_key, by_path(store)[str(gpu2 / X)].session_key
    store.update_metadata(one, {"tags": ["gpu1"], "user_rating": "like"})
    store.update_metadata(two, {"tags": ["gpu2"], "is_favorite": True})
    (gpu1 / X).rename(gpu1 / W)
    apply(store, roots, via, gpu1 / X, gpu1 / W)
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / W), str(gpu2 / X)}  # relinked, nothing unavailable or new
    renamed, other = rows[str(gpu1 / W)], rows[str(gpu2 / X)]
    assert renamed.session_key == one and other.session_key == two
    assert (renamed.metadata.tags, renamed.metadata.user_rating, renamed.metadata.is_favorite) == (
        ("gpu1",), "like", False)
    assert (other.metadata.tags, other.metadata.user_rating, other.metadata.is_favorite) == (("gpu2",), None, True)
    assert stored_names(store) == {one: (W, str(gpu1 / W)), two: (X, str(gpu2 / X))}


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_folder_moved_onto_a_name_another_session_has_keeps_its_own_metadata(store, roots, via):
    gpu1, gpu2 = roots
    (gpu2 / X).rename(gpu2.parent / "aside")  # gpu2 holds another session, B, as Y
    write_session(gpu2, Y, manifest=ex.example_d(), images=image_names(ex.example_d()))
    apply(store, roots, "refresh")
    a, b = by_path(store)[str(gpu1 / X)].session_key, by_path(store)[str(gpu2 / Y)].session_key
    store.update_metadata(a, {"tags": ["a"], "user_note": "A's note"})
    store.update_metadata(b, {"tags": ["b"], "is_test": True})
    (gpu2 / Y).rename(gpu2 / X)  # B now has A's folder name
    apply(store, roots, via, gpu2 / Y, gpu2 / X)
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / X), str(gpu2 / X)}
    moved = rows[str(gpu2 / X)]
    assert moved.session_key == b
    assert (moved.metadata.tags, moved.metadata.is_test, moved.metadata.user_note) == (("b",), True, None)
    assert rows[str(gpu1 / X)].metadata.tags == ("a",)
    assert store.list_ids(SessionFilter(tags_all=("a",))) == [a]
    assert store.list_ids(SessionFilter(text=("A's note",))) == [a]
    assert stored_names(store)[b] == (X, str(gpu2 / X))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_folder_renamed_to_the_name_another_session_had_shows_only_its_own_metadata(store, roots, via):
    gpu1, gpu2 = roots
    write_session(gpu1, Y, manifest=ex.example_d(), images=image_names(ex.example_d()))
    apply(store, roots, "refresh")
    a, b = by_path(store)[str(gpu1 / X)].session_key, by_path(store)[str(gpu1 / Y)].session_key
    store.update_metadata(a, {"tags": ["a"]})
    store.update_metadata(b, {"tags": ["b"]})
    (gpu1 / X).rename(gpu1 / W)  # A leaves the name X…
    apply(store, roots, via, gpu1 / X, gpu1 / W)
    (gpu1 / Y).rename(gpu1 / X)  # …and B takes it
    apply(store, roots, via, gpu1 / Y, gpu1 / X)
    rows = by_path(store)
    assert (rows[str(gpu1 / W)].session_key, rows[str(gpu1 / W)].metadata.tags) == (a, ("a",))
    assert (rows[str(gpu1 / X)].session_key, rows[str(gpu1 / X)].metadata.tags) == (b, ("b",))
    assert rows[str(gpu2 / X)].metadata.version == 0  # the other root's copy never had any


@pytest.mark.parametrize("renamed", [0, 1])
def test_a_rename_of_one_copy_seen_by_half_relinks_that_copy(store, roots, renamed):
    """The watcher may report only the new name: its content matches both copies (same manifest);
    the one whose folder is gone was renamed, whichever the store lists first."""
    apply(store, roots, "refresh")
    keys = [by_path(store)[str(root / X)].session_key for root in roots]
    for root, key in zip(roots, keys, strict=True):
        store.update_metadata(key, {"tags": [root.name]})
    (roots[renamed] / X).rename(roots[renamed] / W)
    apply(store, roots, "watch", roots[renamed] / W)
    rows = by_path(store)
    kept = roots[1 - renamed]
    assert (rows[str(roots[renamed] / W)].session_key, rows[str(roots[renamed] / W)].metadata.tags) == (
        keys[renamed], (roots[renamed].name,))
    assert (rows[str(kept / X)].session_key, rows[str(kept / X)].metadata.tags) == (keys[1 - renamed], (kept.name,))


def test_both_copies_renamed_in_one_refresh_each_keep_their_own(store, roots):
    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one, two = by_path(store)[str(gpu1 / X)].session_key, by_path(store)[str(gpu2 / X)].session_key
    store.update_metadata(one, {"tags": ["gpu1"]})
    store.update_metadata(two, {"tags": ["gpu2"]})
    (gpu1 / X).rename(gpu1 / W)
    (gpu2 / X).rename(gpu2 / Y)
    apply(store, roots, "refresh")
    rows = by_path(store)
    assert set(rows) == {str(gpu1 / W), str(gpu2 / Y)}
    assert (rows[str(gpu1 / W)].session_key, rows[str(gpu1 / W)].metadata.tags) == (one, ("gpu1",))
    assert (rows[str(gpu2 / Y)].session_key, rows[str(gpu2 / Y)].metadata.tags) == (two, ("gpu2",))


def test_an_export_tells_same_named_sessions_apart(store, roots):
    from sdsessions_tui.core.export import columns, iter_records

    gpu1, gpu2 = roots
    apply(store, roots, "refresh")
    one = by_path(store)[str(gpu1 / X)].session_key
    store.update_metadata(one, {"tags": ["gpu1"]})
    records = {record["session_path"]: record for record in iter_records(store)}
    first, second = records[str(gpu1 / X)], records[str(gpu2 / X)]
    assert first["session_id"] == second["session_id"] == X  # the web UI's key
    assert (first["id"], first["tags"]) == (one, ["gpu1"])
    assert second["id"] != one and second["tags"] == []
    assert {"id", "session_id", "session_path", "tags", "version"} <= set(columns(store))
    assert "session_key" not in columns(store)  # it is the id


# --- a folder arriving at the exact path of another known session (issue 14, item 11's last case) ------------


@pytest.fixture
def pair(tmp_path):
    """One root holding session A (as X) and session B (as Y), stored, each with its own tags."""
    root = (tmp_path / "root").resolve()
    write_session(root, X, manifest=ex.example_c(), images=image_names(ex.example_c()))
    write_session(root, Y, manifest=ex.example_d(), images=image_names(ex.example_d()))
    return root


def tagged(store, root):
    """Refresh the root, tag A (at X) "a" and B (at Y) "b"; their keys."""
    apply(store, [root], "refresh")
    a, b = by_path(store)[str(root / X)].session_key, by_path(store)[str(root / Y)].session_key
    store.update_metadata(a, {"tags": ["a"], "user_note": "A's note", "user_rating": "like"})
    store.update_metadata(b, {"tags": ["b"], "is_test": True})
    return a, b


def listed(store, **filter_args):
    return set(store.list_ids(SessionFilter(**filter_args)))


@pytest.mark.parametrize("via", ["refresh", "watch"])
@pytest.mark.parametrize("seen", ["before", "with"])
def test_a_folder_renamed_onto_a_deleted_sessions_path_keeps_its_own_metadata(store, pair, via, seen):
    """A is deleted (the deletion seen before the rename, or in the same refresh or batch), then B's
    folder is renamed to A's name: B keeps its tags at the path, A's are not shown on B."""
    a, b = tagged(store, pair)
    shutil.rmtree(pair / X)
    if seen == "before":
        apply(store, [pair], via, pair / X)
        assert by_path(store)[str(pair / X)].is_unavailable
    (pair / Y).rename(pair / X)
    done = apply(store, [pair], via, pair / Y, pair / X)
    assert (done.new, done.updated, done.relinked, done.unavailable) == (0, 0, 1, int(seen == "with"))
    rows = by_path(store)
    assert set(rows) == {str(pair / X)}  # A is listed nowhere, not even with the gone sessions
    row = rows[str(pair / X)]
    assert (row.session_key, row.metadata.tags, row.metadata.is_test) == (
        b, ("b",), True)
    assert listed(store, unavailable=True) == set() and listed(store) == {b}
    assert listed(store, tags_all=("a",), unavailable=None) == set()
    assert listed(store, text=("A's note",), unavailable=None) == set()
    assert store.get_session(a)[0].session_path == tombstone_path(a)
    kept = store.get_metadata(a)  # A's metadata is kept, waiting for its folder
    assert (kept.tags, kept.user_note, kept.user_rating) == (("a",), "A's note", "like")
    assert store.known_paths([str(pair / X)])[str(pair / X)].session_key == b
    assert stored_names(store)[b] == (X, str(pair / X))


def test_a_rename_onto_a_deleted_sessions_path_seen_by_half_keeps_its_own_metadata(store, pair):
    """The watcher reports only the new name X: B's old folder is found gone by its fingerprint."""
    a, b = tagged(store, pair)
    shutil.rmtree(pair / X)
    apply(store, [pair], "watch", pair / X)
    (pair / Y).rename(pair / X)
    batch = watch.apply_changes(store, [str(pair)], {str(pair / X)})
    assert (batch.new, batch.updated, batch.relinked, batch.unavailable) == (0, 0, 1, 0)
    rows = by_path(store)
    assert set(rows) == {str(pair / X)}
    assert (rows[str(pair / X)].session_key, rows[str(pair / X)].metadata.tags) == (b, ("b",))
    assert store.get_metadata(a).tags == ("a",)


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_two_folders_renamed_along_in_one_go_each_keep_their_own(store, pair, via):
    """A is renamed X → W and B Y → X in the same refresh (or watcher batch)."""
    a, b = tagged(store, pair)
    (pair / X).rename(pair / W)
    (pair / Y).rename(pair / X)
    done = apply(store, [pair], via, pair / X, pair / Y, pair / W)
    assert (done.new, done.updated, done.relinked, done.unavailable) == (0, 0, 2, 0)
    rows = by_path(store)
    assert set(rows) == {str(pair / W), str(pair / X)}
    assert (rows[str(pair / W)].session_key, rows[str(pair / W)].metadata.tags) == (a, ("a",))
    assert (rows[str(pair / X)].session_key, rows[str(pair / X)].metadata.tags) == (b, ("b",))
    assert not any(row.is_unavailable for row in rows.values())
    assert stored_names(store) == {a: (W, str(pair / W)), b: (X, str(pair / X))}


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_two_folders_that_swap_names_each_keep_their_own(store, pair, via):
    a, b = tagged(store, pair)
    (pair / X).rename(pair / "swap")
    (pair / Y).rename(pair / X)
    (pair / "swap").rename(pair / Y)
    done = apply(store, [pair], via, pair / X, pair / Y)
    assert (done.new, done.updated, done.relinked, done.unavailable) == (0, 0, 2, 0)
    rows = by_path(store)
    assert (rows[str(pair / X)].session_key, rows[str(pair / X)].metadata.tags) == (b, ("b",))
    assert (rows[str(pair / Y)].session_key, rows[str(pair / Y)].metadata.tags) == (a, ("a",))
    assert len(rows) == 2


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_session_that_gave_its_path_up_is_relinked_when_its_folder_turns_up(store, pair, tmp_path, via):
    """A's folder is moved out of the root and B's takes its name; later A's folder comes back as W."""
    a, b = tagged(store, pair)
    (pair / X).rename(tmp_path / "aside")
    (pair / Y).rename(pair / X)
    apply(store, [pair], via, pair / X, pair / Y)
    (tmp_path / "aside").rename(pair / W)
    apply(store, [pair], via, pair / W)
    rows = by_path(store)
    assert set(rows) == {str(pair / W), str(pair / X)}
    assert (rows[str(pair / W)].session_key, rows[str(pair / W)].metadata.tags) == (a, ("a",))
    assert (rows[str(pair / X)].session_key, rows[str(pair / X)].metadata.tags) == (b, ("b",))
    assert stored_names(store)[a] == (W, str(pair / W))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_another_run_written_at_a_sessions_path_is_a_new_session(store, pair, via):
    """X's manifest now describes another run (not one seen before): a new session, without A's metadata;
    A's waits for its folder, and comes back with it."""
    a, _b = tagged(store, pair)
    other = ex.example_b()
    write_session(pair, X, manifest=other, images=image_names(other))
    done = apply(store, [pair], via, pair / X)
    assert (done.new, done.updated, done.relinked, done.unavailable) == (1, 0, 0, 1)  # A is gone from there
    rows = by_path(store)
    fresh = rows[str(pair / X)]
    assert fresh.session_key != a and fresh.metadata.version == 0 and fresh.metadata.tags == ()
    assert a not in listed(store, unavailable=None)
    assert store.get_metadata(a).tags == ("a",)
    write_session(pair, "20251114_093010-hair_again", manifest=ex.example_c(), images=image_names(ex.example_c()))
    apply(store, [pair], via, pair / "20251114_093010-hair_again")
    assert by_path(store)[str(pair / "20251114_093010-hair_again")].session_key == a


# --- an ordinary re-read of the same session keeps it, even when its fingerprint cannot tell ----------------


def rewrite(folder, manifest):
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_running_sessions_rewritten_manifest_keeps_its_metadata(store, pair, via):
    """A run's manifest is rewritten per image (spec §9): the same session, its metadata kept."""
    running = ex.example_d()
    _a, b = tagged(store, pair)
    running["images"].append(dict(running["images"][0], filename="20251117_111757-donmain_test_nightclub_0001.png"))
    write_session(pair, Y, images=["20251117_111757-donmain_test_nightclub_0001.png"])
    rewrite(pair / Y, running)
    apply(store, [pair], via, pair / Y)
    row = by_path(store)[str(pair / Y)]
    assert (row.session_key, row.images_actual, row.metadata.tags) == (b, 2, ("b",))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_snapshot_reset_by_the_new_orchestrator_keeps_the_session(store, pair, via):
    """A torn read makes the new orchestrator recreate the manifest without its snapshot (spec §9): no
    fingerprint to compare, the same session; and when the snapshot is back, it still is."""
    _a, b = tagged(store, pair)
    reset = ex.example_d()
    reset["snapshot"] = {}
    rewrite(pair / Y, reset)
    apply(store, [pair], via, pair / Y)
    assert (by_path(store)[str(pair / Y)].session_key, by_path(store)[str(pair / Y)].metadata.tags) == (b, ("b",))
    rewrite(pair / Y, ex.example_d())
    apply(store, [pair], via, pair / Y)
    assert (by_path(store)[str(pair / Y)].session_key, by_path(store)[str(pair / Y)].metadata.tags) == (b, ("b",))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_fingerprint_stored_by_an_older_stats_version_proves_nothing(store, pair, via):
    """Rows written by an older stats version may hold a fingerprint computed otherwise."""
    a, _b = tagged(store, pair)
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE session_stats SET fingerprint = 'computed otherwise', stats_version = stats_version - 1 "
                    "WHERE id = ?", (a,))
    raw.close()
    apply(store, [pair], via, pair / X)
    row = by_path(store)[str(pair / X)]
    assert (row.session_key, row.metadata.tags) == (a, ("a",))


@pytest.mark.parametrize("via", ["refresh", "watch"])
def test_a_v0_run_that_writes_its_metadata_json_at_the_end_is_the_same_session(store, tmp_path, via):
    """A V0 run has only its session_config.txt while it runs, and metadata.json (another start time,
    the template as prompt: another fingerprint) once done (spec §6)."""
    from tests.core.legacy_v0_examples import CONFIG, METADATA, v0_images

    root = (tmp_path / "root").resolve()
    folder = write_session(root, "2025-10-01_215220_faces", images=v0_images(4), files={"session_config.txt": CONFIG})
    apply(store, [root], "refresh")
    (key,) = listed(store)
    store.update_metadata(key, {"tags": ["faces"]})
    write_session(root, folder.name, images=v0_images(15), files={"metadata.json": json.dumps(METADATA)})
    apply(store, [root], via, folder)
    row = by_path(store)[str(folder)]
    assert (row.session_key, row.images_actual, row.metadata.tags) == (key, 15, ("faces",))


def test_recompute_of_a_session_whose_path_another_took_stores_the_other(store, pair):
    """The details' re-read of A (gone) after B's folder took A's name: B gets the path, A does not get B's stats."""
    a, b = tagged(store, pair)
    shutil.rmtree(pair / X)
    apply(store, [pair], "refresh")
    (pair / Y).rename(pair / X)
    stats = store.recompute(a)
    rows = by_path(store)
    assert set(rows) == {str(pair / X)}
    assert (rows[str(pair / X)].session_key, rows[str(pair / X)].metadata.tags) == (b, ("b",))
    assert stats == store.get_session(a)[0] and stats.sd_model != rows[str(pair / X)].sd_model  # A's own


def test_recompute_of_a_tombstone_reads_no_folder(store, pair, tmp_path, monkeypatch):
    """A tombstone's path is relative: a folder of that name in the working directory is not it."""
    a, _b = tombstoned(store, pair)
    monkeypatch.chdir(tmp_path)
    write_session(tmp_path, tombstone_path(a), manifest=ex.example_b(), images=image_names(ex.example_b()))
    before = store.get_session(a)
    assert store.recompute(a) == before[0] and store.get_session(a) == before


# --- what reads the store: lists, export, the web UI import -------------------------------------------------


def tombstoned(store, pair):
    """A deleted, then B renamed onto its name: A is a tombstone; the keys."""
    a, b = tagged(store, pair)
    shutil.rmtree(pair / X)
    (pair / Y).rename(pair / X)
    apply(store, [pair], "refresh")
    return a, b


def test_a_tombstone_is_not_exported(store, pair):
    from sdsessions_tui.core.export import iter_records

    a, b = tombstoned(store, pair)
    records = list(iter_records(store))
    assert [(record["id"], record["session_path"], record["tags"]) for record in records] == [
        (b, str(pair / X), ["b"])]


def test_queries_do_not_list_a_tombstone(store, pair):
    from sdsessions_tui.core.query import parse_query

    a, b = tombstoned(store, pair)
    for text in ("show:all", "is:unavailable", "show:all tag:a", "show:all A's note", ""):
        assert a not in listed_by_query(store, parse_query(text)), text
    assert not store.matches(a, parse_query("show:all").filter)
    assert store.known_roots() == [str(pair)]


def listed_by_query(store, query):
    return set(store.list_ids(query.filter, query.sort))


def test_the_web_ui_import_leaves_a_tombstone_alone(store, pair, tmp_path):
    """A web UI row for the folder name X is about the session now named X (B), not the one that gave the name up."""
    from sdsessions_tui.core.webui_import import import_webui_db

    a, b = tombstoned(store, pair)
    webui = tmp_path / "webui.db"
    with sqlite3.connect(webui) as raw:
        raw.execute("CREATE TABLE session_metadata (session_id TEXT PRIMARY KEY, is_test INTEGER, is_complete INTEGER, "
                    "is_favorite INTEGER, user_rating TEXT, user_note TEXT, tags TEXT)")
        raw.execute("INSERT INTO session_metadata VALUES (?, 0, 1, 1, NULL, NULL, '[\"webui\"]')", (X,))
    raw.close()
    report = import_webui_db(store, webui)
    assert (report.rows, report.changed, report.pending, report.shared) == (1, 1, 0, [])
    assert store.get_metadata(b).tags == ("b", "webui") and store.get_metadata(b).is_favorite
    assert store.get_metadata(a).tags == ("a",) and not store.get_metadata(a).is_favorite
