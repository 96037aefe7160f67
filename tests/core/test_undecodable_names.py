"""Folder and file names that are not UTF-8: stored exactly, found again, shown escaped, never a crash."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from sdsessions_tui.cli import main
from sdsessions_tui.core.export import columns, iter_records, write_csv, write_json
from sdsessions_tui.core.query import parse_query
from sdsessions_tui.core.store import Store
from tests.conftest import png_bytes, write_session
from tests.core import spec_examples as ex
from tests.core.helpers import refresh

#: Latin-1 "café" and a stray 0xff: what a folder copied from an old Windows share can be called.
CAFE = os.fsdecode(b"20251114_093010-caf\xe9")
IMAGE = os.fsdecode(b"img_\xff_0001.png")
DRY = os.fsdecode(b"20251114_100000-caf\xe9 dry")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    write_session(folder, CAFE, manifest=ex.example_c(), images=[i["filename"] for i in ex.example_c()["images"]])
    loose = write_session(folder, "20251115_120000-loose")  # no manifest: its images are what it has
    (loose / IMAGE).write_bytes(png_bytes())
    write_session(folder / "dryrun", DRY, manifest=ex.example_f())
    return folder


def session(store: Store, name: str, dry_run: bool = False):
    for key in store.list_ids():
        stats, metadata = store.get_session(key)  # type: ignore[misc]
        if stats.session_id == name and stats.is_dry_run == dry_run:
            return key, stats, metadata
    raise AssertionError(f"{name!r} not stored")


def test_a_second_refresh_finds_the_same_sessions_unchanged(store, root):
    first = refresh(store, [root])
    assert (first.found, first.new, first.unreadable) == (3, 3, [])
    second = refresh(store, [root])  # with U+FFFD stored, the folder was "new" again, its row "gone"
    assert (second.new, second.updated, second.unchanged, second.unavailable) == (0, 0, 3, 0)
    assert len(store.list_ids()) == 3


def test_paths_come_back_out_exactly(store, root):
    refresh(store, [root])
    key, stats, _ = session(store, CAFE)
    assert stats.session_path == str(root / CAFE) and os.path.isdir(stats.session_path)
    assert store.fetch_rows([key])[key].session_path == str(root / CAFE)
    assert store.known_roots() == [str(root)]
    assert store.recompute(key).session_path == str(root / CAFE)  # type: ignore[union-attr]
    assert session(store, DRY, dry_run=True)[1].session_path == str(root / "dryrun" / DRY)
    _, loose, _ = session(store, "20251115_120000-loose")
    assert loose.image_files == [IMAGE]
    assert (Path(loose.session_path) / loose.image_files[0]).is_file()  # what the thumbnail opens


def test_metadata_and_search_work_on_such_a_session(store, root):
    refresh(store, [root])
    key, stats, _ = session(store, CAFE)
    store.update_metadata(key, {"tags": ["keep"], "is_favorite": True})
    assert store.get_session(key)[1].tags == ("keep",)  # type: ignore[index]
    assert store.list_ids(parse_query("tag:keep").filter) == [key]
    dry_run = session(store, DRY, dry_run=True)[0]
    assert set(store.list_ids(parse_query('"caf\\\\xe9"').filter)) == {key, dry_run}  # searched as shown


def test_export_writes_such_names_escaped(store, root):
    refresh(store, [root])
    records = list(iter_records(store))
    out = io.StringIO()
    write_json(iter(records), out)
    out.getvalue().encode("utf-8")  # valid UTF-8 throughout
    paths = {record["session_path"] for record in json.loads(out.getvalue())}
    assert str(root / CAFE) in paths  # JSON's \udce9 escape: json.load gives os's own str back
    out = io.StringIO()
    write_csv(iter(list(iter_records(store))), out, columns(store))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert str(root).encode().decode() + os.sep + "20251114_093010-caf\\xe9" in {row["session_path"] for row in rows}
    assert any("img_\\xff_0001.png" in row["image_files"] for row in rows)


def test_the_commands_show_such_names_escaped(tmp_path, root, capsys):
    db = str(tmp_path / "cli.db")
    assert main(["list", str(root)]) == 0
    assert "caf\\xe9" in capsys.readouterr().out
    assert main(["--refresh-all", str(root), "--db", db, "--json"]) == 0
    capsys.readouterr()
    assert main(["--refresh-all", str(root), "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 3
    assert main(["export", "--db", db, "--format", "csv"]) == 0
    assert "caf\\xe9" in capsys.readouterr().out
