"""Refresh: incremental re-reads, user metadata never touched, unavailable and renamed sessions."""

import json
import os
import shutil
import sqlite3

import pytest

from sdsessions_tui.core import refresh as refresh_module
from sdsessions_tui.core.filters import SessionFilter
from tests.conftest import OLD, image_names, write_session
from tests.core import spec_examples as ex
from tests.core.helpers import refresh


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    write_session(root, "20251112_181502-Teasing", manifest=ex.example_b(), images=image_names(ex.example_b()))
    write_session(root, "20251114_093010-hair_test", manifest=ex.example_c(), images=image_names(ex.example_c()))
    write_session(root, "20251117_111757-donmain", manifest=ex.example_d(), images=image_names(ex.example_d()))
    write_session(root, "20251104_220100-torn", manifest=b'{"snapshot": {', images=["torn_0000.png"])
    write_session(root / "dryrun", "20251114_100000-hair_test", manifest=ex.example_f(),
                  files={"hair_test_0000_seed-1000.json": "{}"})
    return root


def by_name(store, **filter_args):
    ids = store.list_ids(SessionFilter(**filter_args))
    rows = store.fetch_rows(ids)
    return {rows[i].session_id: rows[i] for i in ids}


def key_of(store, name):
    """The key of the one stored session of this folder name."""
    (key,) = [row.session_key for row in by_name(store, unavailable=None).values() if row.session_id == name]
    return key


def test_first_run_then_unchanged(store, tree):
    first = refresh(store, [tree])
    assert (first.found, first.new, first.updated, first.unchanged) == (5, 5, 0, 0)
    assert [path.endswith("20251104_220100-torn") for path, _ in first.unreadable] == [True]
    second = refresh(store, [tree])
    # the torn manifest is a day old: it stays broken, remembered with its time and size, still listed
    assert (second.new, second.updated, second.unchanged) == (0, 0, 5)
    assert [path.endswith("20251104_220100-torn") for path, _ in second.unreadable] == [True]
    assert by_name(store)["20251114_100000-hair_test"].is_dry_run is True


def test_changed_manifest_is_reread(store, tree):
    refresh(store, [tree])
    manifest = ex.example_c()
    manifest["status"] = "aborted"
    (tree / "20251114_093010-hair_test" / "manifest.json").write_text(json.dumps(manifest, indent=1))
    summary = refresh(store, [tree])
    assert summary.updated == 1
    assert by_name(store)["20251114_093010-hair_test"].status == "aborted"


def test_new_image_changes_the_folder(store, tree):
    refresh(store, [tree])
    (tree / "20251112_181502-Teasing" / "extra_0009.png").write_bytes(b"x")
    os.utime(tree / "20251112_181502-Teasing", (1, 1))
    assert refresh(store, [tree]).updated == 1


def test_force_rereads_all_and_keeps_user_metadata(store, tree):
    refresh(store, [tree])
    key = key_of(store, "20251114_093010-hair_test")
    store.update_metadata(key, {"is_favorite": True, "tags": ["keep"], "user_note": "n"})
    before = store.get_metadata(key)
    summary = refresh(store, [tree], force=True)
    assert summary.updated == 5
    assert store.get_metadata(key) == before


def test_vanished_folder_becomes_unavailable_and_keeps_everything(store, tree):
    refresh(store, [tree])
    store.update_metadata(key_of(store, "20251112_181502-Teasing"), {"user_rating": "like"})
    shutil.rmtree(tree / "20251112_181502-Teasing")
    summary = refresh(store, [tree])
    assert summary.unavailable == 1
    assert "20251112_181502-Teasing" not in by_name(store)
    gone = by_name(store, unavailable=True)["20251112_181502-Teasing"]
    assert gone.images_actual == 3 and gone.metadata.user_rating == "like"
    assert refresh(store, [tree]).unavailable == 0  # already marked


def test_folder_coming_back_is_available_again(store, tree):
    refresh(store, [tree])
    shutil.move(tree / "20251112_181502-Teasing", tree.parent / "aside")
    refresh(store, [tree])
    shutil.move(tree.parent / "aside", tree / "20251112_181502-Teasing")
    refresh(store, [tree])
    assert "20251112_181502-Teasing" in by_name(store)


def test_renamed_folder_gets_its_metadata_back(store, tree):
    refresh(store, [tree])
    old_id = by_name(store)["20251114_093010-hair_test"].session_key
    store.update_metadata(old_id, {"is_favorite": True, "tags": ["keep"]})
    (tree / "20251114_093010-hair_test").rename(tree / "20251114_093010-hair_test_renamed")
    summary = refresh(store, [tree])
    assert (summary.relinked, summary.new, summary.unavailable) == (1, 0, 0)
    row = by_name(store)["20251114_093010-hair_test_renamed"]
    assert row.session_key == old_id
    assert row.metadata.is_favorite is True and row.metadata.tags == ("keep",)
    assert by_name(store, tags_all=("keep",)).keys() == {"20251114_093010-hair_test_renamed"}


def test_moved_to_another_root_after_being_marked_unavailable(store, tree, tmp_path):
    refresh(store, [tree])
    store.update_metadata(key_of(store, "20251112_181502-Teasing"), {"user_note": "moved"})
    other = tmp_path / "other"
    other.mkdir()
    shutil.move(tree / "20251112_181502-Teasing", other / "20251112_181502-Teasing")
    refresh(store, [tree])  # marked unavailable
    summary = refresh(store, [other])
    assert summary.relinked == 1
    row = by_name(store)["20251112_181502-Teasing"]
    assert row.session_path == str(other.resolve() / "20251112_181502-Teasing")
    assert row.metadata.user_note == "moved"


def test_unlisted_root_marks_nothing_unavailable(store, tree, monkeypatch):
    refresh(store, [tree])
    import sdsessions_tui.core.discovery as discovery

    real = discovery.os.scandir

    def failing(path):
        if str(path) == str(tree.resolve()):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", failing)
    summary = refresh(store, [tree])
    assert summary.unavailable == 0 and summary.problems


def test_running_session_is_reread_until_it_stops(store, tree):
    manifest = ex.example_d()
    write_session(tree, "20251120_115920-live", manifest=manifest, images=image_names(manifest), mtime=None)
    refresh(store, [tree])
    assert by_name(store)["20251120_115920-live"].status == "running"
    assert refresh(store, [tree]).updated == 1


def test_interrupted_refresh_leaves_a_consistent_db_and_resumes(store, tmp_path):
    root = tmp_path / "many"
    for index in range(30):
        write_session(root, f"20251114_0930{index:02d}-s{index}", manifest=ex.example_b(),
                      images=image_names(ex.example_b()))
    def stop(done, total):
        if done == 20:
            raise KeyboardInterrupt

    refresh_module.BATCH_SIZE, saved = 7, refresh_module.BATCH_SIZE
    try:
        with pytest.raises(KeyboardInterrupt):
            refresh(store, [root], progress=stop)
    finally:
        refresh_module.BATCH_SIZE = saved
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = raw.execute("SELECT count(*) FROM session_stats").fetchone()[0]
    assert stored == 14  # two full batches were committed
    summary = refresh(store, [root])
    assert (summary.new, summary.unchanged) == (16, 14)


def test_a_manifest_that_stays_broken_is_not_reread_until_it_changes(store, tree, monkeypatch):
    """Issue 14 #15: a broken manifest was re-read, with pauses, at every refresh."""
    refresh(store, [tree])
    reads = []
    real = refresh_module.read_session
    monkeypatch.setattr(refresh_module, "read_session", lambda folder, **kw: reads.append(folder) or real(folder, **kw))
    again = refresh(store, [tree])
    assert reads == [] and again.unchanged == 5
    torn = tree / "20251104_220100-torn" / "manifest.json"
    torn.write_text(json.dumps(ex.example_b()))
    os.utime(torn, (1_000_000, 1_000_000))  # fixed, at an old time: read again because time and size changed
    fixed = refresh(store, [tree])
    assert [folder.path.name for folder in reads] == ["20251104_220100-torn"]
    assert fixed.updated == 1 and not fixed.unreadable
    assert by_name(store)["20251104_220100-torn"].stats_error is None


@pytest.mark.parametrize("case", ["being_written", "permission"])
def test_failures_that_may_pass_unseen_are_reread(store, tmp_path, case, monkeypatch):
    """A manifest written seconds ago may be caught mid-write; a permission may be fixed without
    changing the file's time: both are read again at the next refresh."""
    root = tmp_path / "root"
    folder = write_session(root, "20251104_220100-x", manifest=b'{"snapshot": {', images=["x_0000.png"],
                           mtime=None if case == "being_written" else OLD)
    if case == "permission":
        import sdsessions_tui.core.jsonread as jsonread

        def refuse(path, mode="r", *args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(jsonread, "open", refuse, raising=False)
    first = refresh(store, [root])
    assert first.unreadable
    assert refresh(store, [root]).updated == 1
    assert (folder / "manifest.json").exists()


def test_one_session_with_a_value_sqlite_cannot_store_does_not_stop_the_batch(store, tree):
    """Issue 14 #1: ``--refresh-all`` (and the watcher, the app's refresh) died with an OverflowError."""
    manifest = ex.example_b()
    manifest["snapshot"]["generation_params"]["base_seed"] = 2**70
    write_session(tree, "20251112_190000-huge_seed", manifest=manifest, images=image_names(manifest))
    summary = refresh(store, [tree])
    assert summary.new == 6
    row = by_name(store)["20251112_190000-huge_seed"]
    stats, _ = store.get_session(row.session_key)
    assert stats.seed_base is None and stats.status == "completed"
    assert stats.warnings == ["seed_base: a number too large for the database was dropped"]


def rename_while_reading(monkeypatch, module, old, new):
    """Make ``module.read_session`` find ``old`` renamed to ``new`` just before it reads it."""
    real = module.read_session

    def read(folder, **kwargs):
        if str(getattr(folder, "path", folder)) == str(old) and old.exists():
            old.rename(new)
        return real(folder, **kwargs)

    monkeypatch.setattr(module, "read_session", read)


def test_a_folder_renamed_mid_refresh_is_gone_then_relinked(store, tree, monkeypatch):
    refresh(store, [tree])
    old, new = tree / "20251114_093010-hair_test", tree / "20251114_093010-hair_final"
    key = by_name(store)["20251114_093010-hair_test"].session_key
    store.update_metadata(key, {"tags": ["keep"], "is_favorite": True})
    (old / "manifest.json").write_bytes((old / "manifest.json").read_bytes() + b" ")  # changed: to be re-read
    rename_while_reading(monkeypatch, refresh_module, old, new)
    summary = refresh(store, [tree], force=True)
    assert summary.unavailable == 1 and str(old) not in dict(summary.unreadable)  # gone, not broken
    gone = store.get_session(key)[0]
    assert gone.stats_error is None and gone.fingerprint is not None  # what the relink needs, kept
    monkeypatch.undo()
    summary = refresh(store, [tree])
    assert (summary.relinked, summary.new) == (1, 0)
    row = by_name(store)["20251114_093010-hair_final"]
    assert row.session_key == key and row.metadata.tags == ("keep",) and row.metadata.is_favorite
    assert len(store.list_ids(SessionFilter(unavailable=None))) == 5  # no extra row for the old name


def test_a_folder_gone_mid_recompute_is_unavailable_not_broken(store, tree, monkeypatch):
    from sdsessions_tui.core import stats as stats_module

    refresh(store, [tree])
    old = tree / "20251114_093010-hair_test"
    key = by_name(store)["20251114_093010-hair_test"].session_key
    rename_while_reading(monkeypatch, stats_module, old, tree / "20251114_093010-hair_final")
    stats = store.recompute(key)
    assert stats is not None and stats.stats_error is None and stats.fingerprint is not None
    assert store.known_paths([str(old)])[str(old)].is_unavailable
