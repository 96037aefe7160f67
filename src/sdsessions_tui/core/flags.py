"""The user's flags, declared once: what each is called in the database, on screen, in a query and on a key.

"liked" is the web UI's ``is_favorite`` column.  Every view of a flag (the list's marks, the
details, the filter chips, the query language and its help, the dialogs, the editing keys and
the "apply to filtered" menu) reads :data:`FLAGS`, so a flag renamed or added here is renamed or
added everywhere; a test checks each is reachable by its query word, its key and its menu entries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Flag:
    field: str
    """The metadata column (and :class:`~.store.SessionMetadata` attribute): ``is_favorite``."""
    label: str
    """What people read: ``liked``.  Also the query word (``is:liked``) and the
    :class:`~.filters.SessionFilter` field."""
    aliases: tuple[str, ...]
    """Other query words for it (``is:fav``)."""
    glyph: str
    """Its mark in the list's flags column (one cell wide in every terminal)."""
    style: str
    """The mark's Rich style."""
    key: str
    """The editing key that toggles it (Textual key name)."""
    chip: str
    """The filter bar's chip label."""

    @property
    def term(self) -> str:
        """The query term that requires it: ``is:liked``."""
        return f"is:{self.label}"

    @property
    def bulk_labels(self) -> tuple[str, str]:
        """The "apply to filtered" menu's entries that set and clear it."""
        return f"Mark {self.label}", f"Unmark {self.label}"


LIKED = Flag("is_favorite", "liked", ("favorite", "fav"), "♥", "bold red", "f", "♥ liked")
TEST = Flag("is_test", "test", (), "T", "yellow", "t", "test")
COMPLETE = Flag("is_complete", "complete", (), "✓", "green", "c", "complete")
#: In display order (the list's column, the details, the menus).
FLAGS: tuple[Flag, ...] = (LIKED, TEST, COMPLETE)
