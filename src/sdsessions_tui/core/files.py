"""One listing of a session folder, and what its file names mean.

A session folder is listed once (``os.scandir`` + one ``stat`` per file) and
everything else — image lookups, first/last image times, staleness — is
answered from that listing, so a 2 000-image session costs one directory read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})

_V2_IMAGE = re.compile(
    r"(?P<prefix>.+)_(?P<index>\d{4,})(?:_seed-(?P<seed>-?\d+))?"
    r"(?P<multi>_\d{3})?(?P<annotated>_annotated)?\.(?P<ext>png|jpe?g|webp|json)",
    re.I | re.S,
)
_V0_INDEX = re.compile(r"_(\d{3,})(?:_|\.png$)", re.I)
_ANY_INDEX = re.compile(r"_(\d{3,})(?=[_.])")


@dataclass(frozen=True, slots=True)
class FileInfo:
    mtime: float
    size: int


@dataclass(slots=True)
class FolderListing:
    """The regular files of a session folder, or why it could not be listed.

    Names come from one directory read; a file is only ``stat``-ed when its time
    or size is asked for (the manifest, the first and last image), which keeps a
    refresh of 10 000 × 20-image sessions from stat-ing 200 000 files.
    """

    path: Path
    names: set[str] = field(default_factory=set)
    images: list[str] = field(default_factory=list)
    """Every file with an image extension (the raw image count), in listing order."""
    error: str | None = None
    mtime: float | None = None
    warnings: list[str] = field(default_factory=list)
    """Files left out, and why (a symbolic link leading outside the root)."""
    outside: set[str] = field(default_factory=set)
    """Names left out as links leading outside the root: the gallery says so for a manifest entry naming one."""
    _infos: dict[str, FileInfo | None] = field(default_factory=dict)

    def exists(self, name: str) -> bool:
        return name in self.names

    def info(self, name: str) -> FileInfo | None:
        """Time and size of a listed file; None if it vanished since the listing."""
        if name not in self._infos:
            try:
                stat = os.stat(self.path / name)
                self._infos[name] = FileInfo(stat.st_mtime, stat.st_size)
            except OSError:
                self._infos[name] = None
        return self._infos[name]

    def mtime_of(self, name: str | None) -> float | None:
        info = self.info(name) if name is not None else None
        return info.mtime if info else None

    def oldest_mtime(self) -> float | None:
        """The oldest file time (stats every file: only for folders without any recorded date)."""
        return min((m for m in map(self.mtime_of, self.names) if m is not None), default=None)


def list_folder(path: Path, root: Path | None = None) -> FolderListing:
    """List a session folder's regular files; never raises.

    A symbolic link whose real path leaves ``root`` (default: the folder's parent) is left out
    with a warning, so nothing outside the roots is ever read: no manifest, image or text file.
    Only links pay for the real path (the directory entry says whether it is one).
    """
    listing = FolderListing(path)
    real_root: str | None = None
    try:
        listing.mtime = os.stat(path).st_mtime
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    if not entry.is_file():  # the directory entry's type: no stat
                        continue
                    if entry.is_symlink():
                        real_root = real_root or os.path.realpath(root if root is not None else path.parent)
                        if leaves_root(entry.path, real_root):
                            why = f"{entry.name} is a symbolic link leading outside the root; not read"
                            listing.warnings.append(why[:300])
                            listing.outside.add(entry.name)
                            continue
                except OSError:
                    continue
                listing.names.add(entry.name)
                if is_image_name(entry.name):
                    listing.images.append(entry.name)
    except OSError as error:
        listing.error = f"cannot list the session folder: {error.strerror or error}"
    return listing


def leaves_root(path: str | os.PathLike[str], real_root: str) -> bool:
    """Whether the real path of ``path`` (links followed) is outside ``real_root`` (itself a real path)."""
    return not os.path.realpath(path).startswith(real_root.rstrip(os.sep) + os.sep)


def is_image_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def is_annotated(name: str) -> bool:
    """``*_annotated.png`` copies made by upstream's annotate script are not results."""
    return os.path.splitext(name)[0].endswith("_annotated")


def image_index(name: str, prefix: str | None = None) -> int | None:
    """The planned index in an image file name of any era, if it has one.

    V2 names end in ``_<NNNN>[_seed-N][_NNN]``; V0 names are ``<prefix>_<NNN>_…``
    with free text after the index, so the known prefix is stripped first.
    """
    if prefix and name.startswith(prefix):
        match = _V0_INDEX.match(name[len(prefix):])
        if match:
            return int(match.group(1))
    match = _V2_IMAGE.fullmatch(name)
    if match:
        return int(match.group("index"))
    match = _ANY_INDEX.search(name)
    return int(match.group(1)) if match else None


def sort_by_index(names: list[str], prefix: str | None = None) -> list[str]:
    """Sort image names by their numeric index (string order breaks past 9999), then by name."""

    def key(name: str) -> tuple[int, int, str]:
        index = image_index(name, prefix)
        return (0, index, name) if index is not None else (1, 0, name)

    return sorted(names, key=key)


def unsafe_filename_reason(name: object) -> str | None:
    """Why a manifest ``images[].filename`` cannot be used, or None if it is a plain file name.

    The manifest is data from disk: a name that climbs out of the session folder
    (``../``), is absolute, or names a sub-path is never opened.
    """
    if not isinstance(name, str) or not name.strip():
        return "missing or not a string"
    if "/" not in name and "\\" not in name and "\x00" not in name and name[1:2] != ":" and name not in (".", ".."):
        return None  # the common case, without the regexes below
    if "\x00" in name:
        return "contains a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "absolute path outside the session folder"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "points outside the session folder"
    if len(parts) > 1 or name in (".", ".."):
        return "not a plain file name"
    return None


def multi_image_fallback(name: str, listing: FolderListing) -> str | None:
    """The ``<stem>_001<ext>`` file the new orchestrator writes instead of ``<stem><ext>``
    when a response held several images (spec §4)."""
    stem, ext = os.path.splitext(name)
    candidate = f"{stem}_001{ext}"
    return candidate if listing.exists(candidate) else None
