"""Reading a JSON file that another process may be rewriting right now.

The generator rewrites ``manifest.json`` in place (``open("w")``, no temp file,
spec §9), so a read can catch it empty or truncated.  Such a read is retried a
few times; a file that stays broken is reported with its reason and never
mistaken for "no manifest".
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


@dataclass(frozen=True, slots=True)
class JsonRead:
    """The object read from a JSON file, or why there is none."""

    data: dict[str, Any] | None
    error: str | None = None
    mtime: float | None = None
    size: int | None = None


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

    Never raises: every failure comes back as ``JsonRead.error``.
    """
    error = "not read"
    for attempt, delay in enumerate((0.0, *retry_delays)):
        if attempt and delay > 0:
            time.sleep(delay)
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_size > MAX_JSON_BYTES:
                    return JsonRead(None, f"{path.name} is too large ({info.st_size} bytes)")
                raw = handle.read(MAX_JSON_BYTES + 1)
        except FileNotFoundError:
            return JsonRead(None, f"{path.name} disappeared")
        except OSError as exc:
            return JsonRead(None, f"cannot read {path.name}: {exc.strerror or exc}")
        if not raw.strip():
            error = f"{path.name} is empty"
            continue
        try:
            data = parse_json_bytes(raw)
        except ValueError as exc:
            error = f"{path.name} is not valid JSON ({_first_line(exc)})"
            continue
        if not isinstance(data, dict):
            return JsonRead(None, f"{path.name} holds a JSON {type(data).__name__}, not an object")
        return JsonRead(data, None, info.st_mtime, info.st_size)
    tries = len(retry_delays) + 1
    return JsonRead(None, f"{error} after {tries} reads" if tries > 1 else error)


def _first_line(error: Exception) -> str:
    text = str(error).splitlines()
    return text[0][:120] if text else type(error).__name__
