"""The typed messages by which background work reaches the UI.

One path for every worker result: a worker thread posts one of these (``App.post_message`` is
thread-safe) and the app, or the screen it concerns, handles it on the UI thread.  One module,
so a reader finds every such message here.
"""

from __future__ import annotations
