"""A1111's generation text (infotext) in a session's PNG files: what older eras' manifests lack.

Every image the API returns carries a ``parameters`` text chunk (spec §5): the
prompt, ``Negative prompt: …``, then one line of ``Key: value`` pairs (steps,
sampler, schedule type, CFG, seed, size, model, model hash…).  The mid-October
and V0 manifests record no model, and some no sampler or CFG; this text does.

Reading it is cheap by design: one image per session, and of that image only
the chunk headers (skipped with ``seek``) and the text chunk itself, never the
pixel data.  A file that is not a PNG (JPEG bytes under a ``.png`` name), has no
such chunk (annotation rewrote it), or is damaged gives ``None``, never an error.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from .coerce import as_float, as_int, as_str

_PNG = b"\x89PNG\r\n\x1a\n"
_KEYWORD = b"parameters"
#: The text of a real image is a few KiB; a chunk this large is not it.
MAX_TEXT_BYTES = 256 * 1024
#: A PNG of a few MB has a few hundred chunks (IDAT in 8-64 KiB pieces); stop looking after this many.
MAX_CHUNKS = 4096
_NEGATIVE = "Negative prompt:"
# "Key: value" pairs of the last line; a value holding commas is quoted (A1111 writes LoRA hashes so).
_PAIR = re.compile(r'\s*([A-Za-z][\w \-/()]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"(\d+)\s*x\s*(\d+)")


def png_parameters(path: str) -> str | None:
    """The ``parameters`` text of a PNG file, or None (not a PNG, no such chunk, unreadable)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(8) != _PNG:
                return None
            for _ in range(MAX_CHUNKS):
                header = handle.read(8)
                if len(header) < 8:
                    return None
                length, kind = struct.unpack(">I4s", header)
                if kind == b"IEND":
                    return None
                if kind in (b"tEXt", b"zTXt", b"iTXt") and length <= MAX_TEXT_BYTES:
                    data = handle.read(length)
                    handle.seek(4, 1)  # the CRC
                    text = _chunk_text(kind, data)
                    if text is not None:
                        return text
                else:
                    handle.seek(length + 4, 1)
    except OSError:
        return None
    return None


def _chunk_text(kind: bytes, data: bytes) -> str | None:
    """The text of a ``parameters`` text chunk; None for another keyword or a damaged chunk."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or keyword != _KEYWORD:
        return None
    try:
        if kind == b"tEXt":
            return rest.decode("latin-1")
        if kind == b"zTXt":
            return _inflate(rest[1:]).decode("latin-1")
        compressed, rest = rest[:1] == b"\x01", rest[2:]  # flag, method
        _language, _, rest = rest.partition(b"\0")
        _translated, _, rest = rest.partition(b"\0")
        return (_inflate(rest) if compressed else rest).decode("utf-8", errors="replace")
    except zlib.error:
        return None


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, MAX_TEXT_BYTES)


@dataclass(slots=True)
class Infotext:
    """The parts of one image's generation text."""

    prompt: str | None = None
    negative_prompt: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    """The ``Key: value`` pairs of the last line, keys as written (``Schedule type``, ``CFG scale``)."""


def parse_infotext(text: str) -> Infotext:
    """Split A1111's infotext into prompt, negative prompt and parameters.

    The parameters are the last line when it reads as ``Key: value`` pairs (three
    at least, as A1111 checks); everything before ``Negative prompt:`` is the prompt.
    """
    lines = text.strip().splitlines()
    out = Infotext()
    if lines:
        pairs = _PAIR.findall(lines[-1])
        if len(pairs) >= 3:
            out.params = {key.strip(): _unquote(value.strip()) for key, value in pairs}
            lines = lines[:-1]
    prompt: list[str] = []
    negative: list[str] | None = None
    for line in lines:
        if negative is None and line.startswith(_NEGATIVE):
            negative = [line[len(_NEGATIVE):].strip()]
        elif negative is not None:
            negative.append(line)
        else:
            prompt.append(line)
    out.prompt = "\n".join(prompt).strip() or None
    out.negative_prompt = ("\n".join(negative).strip() or None) if negative is not None else None
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def session_fields(info: Infotext) -> dict[str, Any]:
    """The session fields this text gives (names of :class:`~.session_stats.SessionStats`), only
    those it has: the model as ``name [hash]``, sampler, schedule type, steps, CFG, size, prompts."""
    params = info.params
    model, model_hash = as_str(params.get("Model")), as_str(params.get("Model hash"))
    size = _SIZE.fullmatch(params.get("Size", "").strip())
    found: dict[str, Any] = {
        "sd_model": f"{model} [{model_hash}]" if model and model_hash else model,
        "sampler_name": as_str(params.get("Sampler")),
        "scheduler": as_str(params.get("Schedule type")),
        "steps": as_int(params.get("Steps")),
        "cfg_scale": as_float(params.get("CFG scale")),
        "width": int(size.group(1)) if size else None,
        "height": int(size.group(2)) if size else None,
        "resolved_prompt": info.prompt,
        "negative_prompt": info.negative_prompt,
    }
    return {name: value for name, value in found.items() if value is not None}
