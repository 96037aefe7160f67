"""Lenient conversions for manifest values.

Real manifests hold anything: numbers as strings, ``null`` where an object was
expected, objects where a string was expected.  Every reader goes through these
helpers so that a surprising type degrades to "unknown" (``None``) instead of
raising.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """The value if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string; else None.

    Booleans are rejected: ``true`` is never a seed or a step count.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = as_float(text)
            return as_int(number) if number is not None else None
    return None


def as_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_str(value: Any) -> str | None:
    """A string from a string or a number; None for anything else (or empty text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def value_text(value: Any) -> str:
    """Display text for a variation value, which may be a string, number, object or list.

    Multi-part variation values (upstream #56) are objects such as
    ``{"main": "red hair", "lora": "<lora:x:0.7>"}``; they read as their parts
    joined, main part first.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        parts = [value_text(value["main"])] if "main" in value else []
        parts += [value_text(v) for k, v in value.items() if k != "main"]
        return " ".join(part for part in parts if part)
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    return str(value)


def as_datetime(value: Any) -> datetime | None:
    """A naive local datetime from an ISO-like string (``T`` or space separated).

    The generator writes naive local times; an aware value is converted to local
    time and made naive so that all times in a session compare.
    """
    text = as_str(value)
    if text is None:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for pattern in ("%Y-%m-%d_%H-%M-%S", "%Y-%m-%d_%H%M%S", "%Y%m%d_%H%M%S"):
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone().replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    return moment
