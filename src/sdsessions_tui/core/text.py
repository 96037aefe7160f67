"""Making text from session data safe to show in a terminal.

Folder names, prompts and tags come from disk and may hold terminal control
characters (ESC sequences, carriage returns, bells) or bytes that are not UTF-8
(surrogate escapes from ``os.scandir``).  Shown raw, they would move the cursor
or recolour the screen, or fail to encode at all; every display path goes through
:func:`clean_text`.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters and undecodable bytes shown as ``\\xNN``/``\\uNNNN``.

    Tabs become spaces; newlines are kept only when asked (wrapped prompts).
    """
    text = escape_undecodable(text).replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ")
    return _CONTROL.sub(_escape, text)


def escape_undecodable(text: str) -> str:
    """``text`` with each byte that was not UTF-8 (a surrogate escape, PEP 383) written ``\\xNN``:
    ``os.fsdecode(b"bad\\xff")`` reads ``bad\\xff``, as ``ls -b`` shows it, never as ``�``."""
    return _SURROGATE.sub(_escape_surrogate, text) if not text.isascii() else text


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return " "
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_MODEL_HASH = re.compile(r"\s*\[[0-9a-fA-F]{6,64}\]\s*$")
_ISO_MINUTE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")


def format_date(value: str | None) -> str:
    """``2025-11-17T11:17:05`` → ``2025-11-17 11:17``; ``—`` when unknown (the list and ``sdsessions list``)."""
    if not value:
        return "—"
    match = _ISO_MINUTE.match(value)
    return f"{match[1]} {match[2]}" if match else clean_text(value)


def display_model(model: str | None) -> str:
    """The model name without the web UI's `` [hash]`` suffix."""
    return _MODEL_HASH.sub("", model) if model else ""
