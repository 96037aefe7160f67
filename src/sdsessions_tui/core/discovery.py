"""Finding session folders under one or more roots.

Sessions are the direct children of a root, plus ``<root>/dryrun/*`` (spec §2).
The scan reads directory entries only; it never opens a manifest, so listing a
root of 10 000 sessions stays cheap.  Whatever cannot be listed is reported as a
problem instead of stopping the scan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .names import FolderName, parse_folder_name

DRYRUN_DIR = "dryrun"


@dataclass(frozen=True, slots=True)
class SessionFolder:
    """A session folder found by discovery."""

    path: Path
    root: Path
    folder: FolderName
    is_dry_run: bool = False

    @property
    def session_id(self) -> str:
        return self.folder.raw


@dataclass(slots=True)
class Discovery:
    """The folders found under some roots, and what could not be scanned (path, reason)."""

    sessions: list[SessionFolder] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def child_dirs(directory: Path, real_root: str, problems: list[tuple[Path, str]]) -> Iterator[os.DirEntry[str]]:
    """Visible sub-folders of ``directory``; symlinks only when they stay inside the root.

    The one rule of what is a session folder: discovery, the watcher and its polling
    fallback all list folders through it, so none of them reaches outside a root.
    """
    try:
        with os.scandir(directory) as entries:
            children = sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        problems.append((directory, f"cannot list folder: {error.strerror or error}"))
        return
    for entry in children:
        if entry.name.startswith("."):
            continue
        try:
            if not entry.is_dir(follow_symlinks=True):
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not _is_within(target, real_root) or target == real_root:
                    problems.append((Path(entry.path), "symlink leads outside the root; not followed"))
                    continue
        except OSError as error:  # vanished mid-scan, symlink loop, permission
            problems.append((Path(entry.path), f"skipped: {error.strerror or error}"))
            continue
        yield entry


def discover(roots: Iterable[str | os.PathLike[str]]) -> Discovery:
    """Find every session folder under ``roots`` (each root scanned once)."""
    result = Discovery()
    seen_roots: set[str] = set()
    for given in roots:
        root = Path(given).expanduser()
        real_root = os.path.realpath(root)
        if real_root in seen_roots:
            continue
        seen_roots.add(real_root)
        if not os.path.isdir(real_root):
            reason = "not a folder" if os.path.exists(real_root) else "does not exist"
            result.problems.append((root, f"root {reason}"))
            continue
        for entry in child_dirs(root, real_root, result.problems):
            if entry.name == DRYRUN_DIR:
                for dry in child_dirs(Path(entry.path), real_root, result.problems):
                    result.sessions.append(SessionFolder(Path(dry.path), root, parse_folder_name(dry.name), True))
                continue
            result.sessions.append(SessionFolder(Path(entry.path), root, parse_folder_name(entry.name)))
    return result
