"""Small cached copies of session images, for the details panel.

A thumbnail is at most ``size`` pixels on its longer side, stored in a cache
folder outside every session folder (the user cache dir by default), named
after the image's absolute path, modification time and size: a rewritten image
gets a new thumbnail, the old one is left for :func:`prune_cache`.

Image files are named ``.png`` but may hold JPEG or WebP bytes (spec §5); Pillow
sniffs the content.  :func:`make_thumbnail` says why an image has no thumbnail
(missing, empty, not an image, truncated, too large, outside the root...) as a
:class:`Thumbnail` whose ``reason`` the gallery shows in the cell: a user must see
why an image is blank, and no bad file may raise.  No Textual here: the headless
commands import ``core``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from .files import leaves_root

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

APP_NAME = "sdsessions"
DEFAULT_SIZE = 256
#: Default cap for :func:`prune_cache` (about 20 000 WebP thumbnails).
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_TEMP_PREFIX = ".tmp-"
#: A temp file older than this is a leftover of a crashed write; prune removes it.
_STALE_TEMP_SECONDS = 3600.0



@dataclass(frozen=True, slots=True)
class Thumbnail:
    """The outcome for one image: the cached thumbnail's ``path``, or the ``reason`` there is none.

    Exactly one of the two is set.  ``reason`` is a short English phrase for a gallery
    cell or a ``thumbs`` error line (file names from disk in it: clean it before printing).
    """

    image: Path
    path: Path | None = None
    reason: str | None = None


class _Refused(Exception):
    """An image this module will not decode (the message is the reason)."""


@cache
def _cache_format() -> tuple[str, str, dict[str, Any]]:
    """(Pillow format, suffix, save options) of cached thumbnails: WebP when Pillow has it.

    Pillow is imported here, not with the module: the TUI's first paint does not need it.
    """
    from PIL import features

    if features.check("webp"):
        return "WEBP", ".webp", {"quality": 82, "method": 4}
    return "PNG", ".png", {"optimize": False}  # pragma: no cover - Pillow built without libwebp


def default_cache_dir() -> Path:
    """``thumbnails`` in the user cache folder of the app (e.g. ``~/.cache/sdsessions/thumbnails``)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "thumbnails"


def thumbnail_path(image: Path, cache_dir: Path, size: int = DEFAULT_SIZE) -> Path:
    """Where the thumbnail of ``image`` (as it is on disk now) is cached.

    The name hashes the absolute path, ``st_mtime_ns``, the file size and ``size``.
    Raises :class:`OSError` when the image cannot be stat'ed (e.g. it is missing).
    """
    absolute = os.path.abspath(image)
    info = os.stat(absolute)
    key = f"{absolute}\0{info.st_mtime_ns}\0{info.st_size}\0{size}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return Path(cache_dir) / f"{digest}{_cache_format()[1]}"


def get_thumbnail(image: Path, cache_dir: Path, size: int = DEFAULT_SIZE, *,
                  root: Path | None = None) -> Path | None:
    """The cached thumbnail of ``image``, made now if missing; ``None`` if there can be none.

    :func:`make_thumbnail` without the reason, for callers that only show a picture or nothing.
    """
    return make_thumbnail(image, cache_dir, size, root=root).path


def cached_thumbnail(image: Path, cache_dir: Path, size: int = DEFAULT_SIZE) -> Path | None:
    """The thumbnail of ``image`` if it is cached already, without decoding anything.

    Two ``stat`` calls: cheap enough for a gallery to ask for a whole screen of cells
    before it queues the missing ones for the pool.
    """
    try:
        target = thumbnail_path(image, cache_dir, size)
    except OSError:
        return None
    return target if target.is_file() else None


def make_thumbnail(image: Path, cache_dir: Path, size: int = DEFAULT_SIZE, *,
                   root: Path | None = None) -> Thumbnail:
    """The cached thumbnail of ``image``, made now if missing, or why there is none.

    With ``root`` (the sessions root the image was found under), an image whose real
    path leaves the root (a symbolic link, a ``..`` in the path) is refused unread: the
    listing already refused such a link, but the file may have been replaced by one
    since the refresh.

    Safe to call from worker threads: the thumbnail is written to a temp file in
    ``cache_dir`` and moved into place with :func:`os.replace`, so a reader never
    sees half a file.  Raises :class:`ValueError` only for a cache folder inside the
    image's own folder (nothing may be written into session folders).
    """
    image = Path(image)
    cache_dir = Path(cache_dir)
    if root is not None and leaves_root(image, os.path.realpath(root)):
        log.debug("no thumbnail for %s: outside %s", image, root)
        return Thumbnail(image, reason="outside the sessions folder (a symbolic link?): not read")
    _check_cache_dir(image, cache_dir)
    try:
        target = thumbnail_path(image, cache_dir, size)
    except OSError as error:
        return Thumbnail(image, reason=_os_reason(error))
    if target.is_file():
        try:
            os.utime(target)  # recently used: prune_cache removes the oldest first
        except OSError:
            pass
        return Thumbnail(image, target)
    try:
        thumb = _make_thumbnail(image, size)
        if thumbnail_path(image, cache_dir, size) != target:  # rewritten while read: its key is stale
            return Thumbnail(image, reason="changed while being read; try again")
    except _Refused as error:
        return Thumbnail(image, reason=str(error))
    except OSError as error:
        return Thumbnail(image, reason=_os_reason(error))
    except Exception as error:  # Pillow raises many types for bad data (ValueError, SyntaxError…)
        log.debug("cannot read image %s: %s: %s", image, type(error).__name__, error)
        return Thumbnail(image, reason=f"cannot decode: {type(error).__name__}")
    try:
        _write_atomic(thumb, target)
    except OSError as error:
        log.debug("cannot write thumbnail %s: %s", target, error)
        return Thumbnail(image, reason=f"cannot write the thumbnail cache: {error.strerror or error}")
    return Thumbnail(image, target)


def prune_cache(cache_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """Delete the least recently used thumbnails until the cache holds at most ``max_bytes``.

    Returns the number of files deleted.  Also removes temp files left by a crash.
    Never raises for file-system errors (a file deleted meanwhile is fine).
    """
    now = time.time()
    entries: list[tuple[float, int, str]] = []
    deleted = 0
    try:
        scan = os.scandir(cache_dir)
    except OSError:
        return 0
    with scan:
        for entry in scan:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.name.startswith(_TEMP_PREFIX):
                if now - info.st_mtime > _STALE_TEMP_SECONDS and _unlink(entry.path):
                    deleted += 1
                continue
            entries.append((info.st_mtime, info.st_size, entry.path))
    entries.sort(reverse=True)  # newest first
    total = 0
    for _mtime, size, path in entries:
        total += size
        if total > max_bytes and _unlink(path):
            deleted += 1
    return deleted


def _check_cache_dir(image: Path, cache_dir: Path) -> None:
    folder = os.path.abspath(image.parent)
    cache = os.path.abspath(cache_dir)
    if cache == folder or cache.startswith(folder.rstrip(os.sep) + os.sep):
        raise ValueError(f"the thumbnail cache {cache_dir} is inside the image folder {image.parent}")


def _os_reason(error: OSError) -> str:
    """A reason for a file-system error, or for Pillow's OSErrors about the data."""
    if isinstance(error, FileNotFoundError):
        return "file not found (deleted?)"
    if isinstance(error, IsADirectoryError):
        return "a folder, not an image"
    if isinstance(error, PermissionError):
        return "permission denied"
    if error.errno is None:  # Pillow's "image file is truncated", "broken data stream"…
        return f"truncated or corrupt: {error}"[:200]
    return f"cannot read: {error.strerror or error}"[:200]


def _too_large(size: str) -> str:
    from PIL import Image

    return (f"too large to decode safely ({size}; the limit is {Image.MAX_IMAGE_PIXELS or 0:,} pixels, "
            "Pillow's decompression-bomb guard)")


@cache
def _quiet_bomb_warning() -> None:
    """Silence Pillow's DecompressionBombWarning, once: :func:`_make_thumbnail` refuses those images
    itself, and a warning printed from a worker thread would scribble over the TUI.  (A filter set
    once, not ``catch_warnings`` around each open: that is not thread-safe.)"""
    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _make_thumbnail(image: Path, size: int) -> Image.Image:
    """Decode ``image`` at about ``size`` pixels; raise :class:`_Refused` for what must not be decoded.

    Pillow refuses images above twice ``Image.MAX_IMAGE_PIXELS`` (DecompressionBombError) but only
    warns between one and two times it: here anything above the limit is refused before its data is
    read, so a 20 000 × 20 000 "PNG" never allocates 1.2 GB.
    """
    from PIL import Image, UnidentifiedImageError

    if os.path.getsize(image) == 0:
        raise _Refused("empty file (0 bytes)")
    _quiet_bomb_warning()
    try:
        source = Image.open(image)
    except UnidentifiedImageError:
        raise _Refused("not an image Pillow can read (unknown format)") from None
    except Image.DecompressionBombError as error:  # its message holds the size
        pixels = str(error).removeprefix("Image size (").split(" ", 1)[0]
        raise _Refused(_too_large(f"{int(pixels):,} pixels" if pixels.isdigit() else "size unknown")) from None
    with source:
        if Image.MAX_IMAGE_PIXELS is not None and source.width * source.height > Image.MAX_IMAGE_PIXELS:
            raise _Refused(_too_large(f"{source.width} × {source.height} pixels"))
        if source.format == "JPEG":
            source.draft("RGB", (size, size))  # decode at 1/2…1/8 scale: much faster for big JPEGs
        source.thumbnail((size, size))  # loads the data: truncated/corrupt files raise here
        return _displayable(source)


def _displayable(picture: Image.Image) -> Image.Image:
    """``picture`` in RGB, or RGBA when it has transparency (what the cache format stores)."""
    has_alpha = picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        picture.mode == "P" and "transparency" in picture.info)
    wanted = "RGBA" if has_alpha else "RGB"
    if picture.mode == wanted:
        return picture.copy()
    if picture.mode.startswith("I;16"):
        picture = picture.convert("I")
    if picture.mode in ("I", "F"):
        picture = picture.point(lambda value: value / 256).convert("L")  # 16-bit greys to 8-bit
    return picture.convert(wanted)


def _write_atomic(picture: Image.Image, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    image_format, suffix, options = _cache_format()
    handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=suffix, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            picture.save(stream, image_format, **options)
        os.replace(temp, target)
    except BaseException:
        _unlink(temp)
        raise


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
