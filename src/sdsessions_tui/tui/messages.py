"""The typed messages by which background work reaches the UI.

One path for every worker result: a worker thread posts one of these (``App.post_message`` is
thread-safe) and the app, or the screen it concerns, handles it on the UI thread.  One module,
so a reader finds every such message here.
"""

from __future__ import annotations

from textual.message import Message

from ..core.edits import SaveResult


class SaveEnded(Message):
    """A background save of the pending edits ended: the store's result, or the error that
    stopped it (any error: the save queue keeps the edits and retries)."""

    def __init__(self, outcome: SaveResult | BaseException) -> None:
        super().__init__()
        self.outcome = outcome
