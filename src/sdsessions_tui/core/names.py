"""Session folder names: the creation timestamp and the display name of every naming era.

The folder-name time is the session's creation time (spec §3); a name that
matches no era is still a session, with an unknown date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_OLD = re.compile(r"(\d{4})-(\d{2})-(\d{2})_(\d{2})(\d{2})(\d{2})(?:_(.+))?", re.S)
_NEW = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:-(.+))?", re.S)
_DOCS = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(.+)", re.S)

# Era tags, in the order the patterns are tried (NEW before DOCS, per the spec).
_ERAS = (("old", _OLD), ("new", _NEW), ("docs", _DOCS))


@dataclass(frozen=True, slots=True)
class FolderName:
    """What a session folder's name says about the session."""

    raw: str
    created_at: datetime | None
    name: str
    """The name part as written (may contain ``-``, spaces and ``.``); empty when absent."""
    era: str
    """``old`` (``YYYY-MM-DD_HHMMSS_name``), ``new`` (``YYYYMMDD_HHMMSS-name``),
    ``docs`` (``YYYYMMDD_HHMMSS_name``) or ``unknown``."""

    @property
    def display_name(self) -> str:
        """The name as upstream shows it: ``.prompt`` stripped, ``-`` shown as spaces.

        Falls back to the raw folder name for folders that match no era, or whose name part is empty.
        """
        if self.era == "unknown":
            return self.raw
        return self._shown_part() or self.raw

    @property
    def untitled(self) -> bool:
        """Named by its timestamp alone (V0's default, or a name part that shows as nothing): its
        display name is the whole folder name, the date again, so a list must name it otherwise."""
        return self.era != "unknown" and not self._shown_part()

    def _shown_part(self) -> str:
        return self.name.removesuffix(".prompt").replace("-", " ").strip()


def parse_folder_name(folder: str) -> FolderName:
    """Parse a session folder name of any era; never raises."""
    for era, pattern in _ERAS:
        match = pattern.fullmatch(folder)
        if match is None:
            continue
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        try:
            created = datetime(year, month, day, hour, minute, second)
        except ValueError:
            continue
        return FolderName(folder, created, match.group(7) or "", era)
    return FolderName(folder, None, "", "unknown")
