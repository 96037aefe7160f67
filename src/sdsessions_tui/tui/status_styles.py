"""How a session's status and completion look: one look in the list, the details and F1.

The list's Done column (:data:`.session_table.BADGES`) and the details' status line read
their colours here, so a status never has two colours on one screen.
"""

from __future__ import annotations

from typing import Final

from rich.text import Text

from ..core.status import completion_label, completion_style

#: A generation status's Rich style.
STATUS_STYLES: Final = {
    "completed": "bold green",
    "completed_with_failures": "bold yellow",
    "running": "bold cyan",
    "aborted": "bold red",
    "stale": "magenta",  # not yellow: "incomplete" is
    "incomplete": "yellow",
    "unknown": "dim",
}


def completion_text(percentage: float | None) -> Text:
    """Green from 95 %, yellow from 70 %, red below (:func:`~..core.status.completion_style`, the
    list's colours), bold; a dim dash when unknown."""
    if percentage is None:
        return Text("—", style="dim")
    return Text(completion_label(percentage), style=f"bold {completion_style(percentage)}")
