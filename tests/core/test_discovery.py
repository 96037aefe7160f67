import os
from pathlib import Path

import pytest

from sdsessions_tui.core import discovery
from sdsessions_tui.core.discovery import discover
from sdsessions_tui.core.stats import read_session


def _ids(result):
    return sorted((s.session_id, s.is_dry_run) for s in result.sessions)


def test_children_and_dryrun_sessions(tmp_path):
    root = tmp_path / "results"
    for name in ("20251114_093010-hair_test", "2025-10-01_215220_faces", "my random folder"):
        (root / name).mkdir(parents=True)
    (root / "dryrun" / "20251114_100000-hair_test").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "dryrun" / ".cache").mkdir()
    (root / "notes.txt").write_text("not a session")
    result = discover([root])
    assert _ids(result) == [
        ("2025-10-01_215220_faces", False),
        ("20251114_093010-hair_test", False),
        ("20251114_100000-hair_test", True),
        ("my random folder", False),
    ]
    unknown = next(s for s in result.sessions if s.session_id == "my random folder")
    assert unknown.folder.created_at is None
    assert result.problems == []


def test_several_roots_and_the_same_root_twice(tmp_path):
    (tmp_path / "a" / "20251114_093010-one").mkdir(parents=True)
    (tmp_path / "b" / "20251114_093011-two").mkdir(parents=True)
    result = discover([tmp_path / "a", tmp_path / "b", tmp_path / "a" / ".." / "a"])
    assert [s.session_id for s in result.sessions] == ["20251114_093010-one", "20251114_093011-two"]


def test_missing_root_and_file_root_are_reported(tmp_path):
    (tmp_path / "file").write_text("x")
    result = discover([tmp_path / "missing", tmp_path / "file"])
    assert result.sessions == []
    assert [reason for _, reason in result.problems] == ["root does not exist", "root not a folder"]


def test_symlinks_never_lead_out_of_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "20251114_093010-real").mkdir(parents=True)
    outside = tmp_path / "outside" / "20251114_093011-elsewhere"
    outside.mkdir(parents=True)
    os.symlink(outside, root / "20251114_093011-elsewhere")
    os.symlink(root / "20251114_093010-real", root / "20251114_093012-alias")
    os.symlink(root, root / "loop-to-root")
    os.symlink(root / "self-loop", root / "self-loop")
    result = discover([root])
    assert sorted(s.session_id for s in result.sessions) == ["20251114_093010-real", "20251114_093012-alias"]
    reported = {path.name for path, _ in result.problems}
    assert {"20251114_093011-elsewhere", "loop-to-root"} <= reported


def test_unreadable_folders_are_reported_not_fatal(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "20251114_093010-ok").mkdir(parents=True)
    (root / "dryrun").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "dryrun":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = discover([root])
    assert [s.session_id for s in result.sessions] == ["20251114_093010-ok"]
    assert result.problems == [(root / "dryrun", "cannot list folder: Permission denied")]


def test_folder_vanishing_mid_scan(tmp_path):
    root = tmp_path / "root"
    gone = root / "20251114_093010-gone"
    gone.mkdir(parents=True)
    result = discover([root])
    gone.rmdir()
    stats = read_session(result.sessions[0], retry_delays=())
    assert stats.stats_error is not None and "cannot list" in stats.stats_error
    assert stats.session_created_at is not None  # still known from the name


@pytest.mark.parametrize("error", [FileNotFoundError(2, "No such file"), OSError(40, "Too many levels")])
def test_entry_errors_skip_only_that_entry(tmp_path, monkeypatch, error):
    root = tmp_path / "root"
    (root / "20251114_093010-a").mkdir(parents=True)
    (root / "20251114_093011-b").mkdir()
    real_scandir = os.scandir

    class Entry:
        def __init__(self, entry):
            self._entry, self.name, self.path = entry, entry.name, entry.path

        def is_dir(self, follow_symlinks=True):
            if self.name.endswith("-a"):
                raise error
            return self._entry.is_dir(follow_symlinks=follow_symlinks)

        def is_symlink(self):
            return self._entry.is_symlink()

    class Listing:
        def __init__(self, path):
            self._it = real_scandir(path)

        def __enter__(self):
            return [Entry(e) for e in self._it]

        def __exit__(self, *exc):
            self._it.close()

    monkeypatch.setattr(discovery.os, "scandir", Listing)
    result = discover([root])
    assert [s.session_id for s in result.sessions] == ["20251114_093011-b"]
    assert len(result.problems) == 1
