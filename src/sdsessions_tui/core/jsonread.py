"""Reading a JSON file that another process may be rewriting right now.

The generator rewrites ``manifest.json`` in place (``open("w")``, no temp file,
spec §9), so a read can catch it empty or truncated.  Such a read is retried a
few times, but only when the file was written in the last few seconds: a file
that has been broken for longer is not being written, and pausing for it at
every refresh cost 0.5 s per broken session.  A file that stays broken is
reported with its reason and never mistaken for "no manifest".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

#: Pauses before each re-read of a torn file; the generator's rewrite of a
#: 2 MB manifest takes a few milliseconds.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.15, 0.3)

#: A manifest of 3 576 images is ~2 MB; anything this large is not one.
MAX_JSON_BYTES = 64 * 1024 * 1024
#: A broken file written longer ago than this is not being written: it is not re-read.  The
#: generator's rewrite takes milliseconds; the margin covers a slow disk and a network mount's clock.
RECENT_WRITE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class JsonRead:
    """The object read from a JSON file, or why there is none."""

    data: dict[str, Any] | None
    error: str | None = None
    mtime: float | None = None
    size: int | None = None
    """The file's time and size when it was opened (before reading: a rewrite after that changes
    them), for an object or a content error; None when the file could not be opened."""
    lasting: bool = False
    """A content error (empty, not JSON, not an object, too large) of a file that was not being
    written: it stays true until the file's time or size changes, so it may be remembered."""


def parse_json_bytes(raw: bytes) -> Any:
    """Parse JSON bytes leniently: a UTF-8 BOM, invalid UTF-8 and ``NaN`` are tolerated.

    orjson handles the common case fast; the standard library takes what orjson
    refuses (``NaN``/``Infinity`` as Python's ``json.dump`` writes them, text that
    needed replacement characters).  Raises ``ValueError`` for anything else.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw.decode("utf-8", errors="replace"))
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error


def read_json_object(path: Path, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> JsonRead:
    """Read a JSON object from ``path``, re-reading while it looks half-written.

    Never raises: every failure comes back as ``JsonRead.error``.  Torn reads are
    retried (after each of ``retry_delays``) only while the file's mtime is within
    :data:`RECENT_WRITE_SECONDS` of now.
    """
    error = "not read"
    reads = 0
    for delay in (0.0, *retry_delays):
        if reads and delay > 0:
            time.sleep(delay)
        reads += 1
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_size > MAX_JSON_BYTES:
                    return _failed(f"{path.name} is too large ({info.st_size} bytes)", info)
                raw = handle.read(MAX_JSON_BYTES + 1)
        except FileNotFoundError:
            return JsonRead(None, f"{path.name} disappeared")
        except OSError as exc:
            return JsonRead(None, f"cannot read {path.name}: {exc.strerror or exc}")
        if not raw.strip():
            error = f"{path.name} is empty"
        else:
            try:
                data = parse_json_bytes(raw)
            except ValueError as exc:
                error = f"{path.name} is not valid JSON ({_first_line(exc)})"
            else:
                if not isinstance(data, dict):
                    return _failed(f"{path.name} holds a JSON {type(data).__name__}, not an object", info)
                return JsonRead(data, None, info.st_mtime, info.st_size)
        if not _recent(info):
            break  # broken for a while: not being written, a re-read would find the same bytes
    return _failed(f"{error} after {reads} reads" if reads > 1 else error, info)


def _recent(info: os.stat_result) -> bool:
    return time.time() - info.st_mtime <= RECENT_WRITE_SECONDS


def _failed(error: str, info: os.stat_result) -> JsonRead:
    """A content error, lasting unless the file was being written when it was read."""
    return JsonRead(None, error, info.st_mtime, info.st_size, lasting=not _recent(info))


def _first_line(error: Exception) -> str:
    text = str(error).splitlines()
    return text[0][:120] if text else type(error).__name__
