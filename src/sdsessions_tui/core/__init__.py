"""The app's core: discovery, manifest reading, stats and (later) the SQLite store.

Nothing in this package may import Textual: the headless commands
(``--refresh-all``, ``--watch``, ``export``) and the tests run it without a
terminal UI, and a test enforces it.
"""
