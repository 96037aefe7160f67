"""Progress for long headless work: a Rich bar on a terminal, sparse plain lines otherwise.

Plain lines keep logs readable when the output is piped or runs under CI/systemd.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

#: Seconds between two plain progress lines.
PLAIN_INTERVAL = 2.0


@contextmanager
def progress_reporter(label: str) -> Iterator[Callable[..., None]]:
    """Yield a ``report(done, total, phase=None)`` callback that shows progress on stderr;
    a ``phase`` replaces ``label`` for this and later reports (a new step of the work)."""
    console = Console(stderr=True)
    if console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(label, total=None)

            def report(done: int, total: int, phase: str | None = None) -> None:
                bar.update(task, completed=done, total=total, description=phase)

            yield report
        return

    last, current = 0.0, label

    def report_plain(done: int, total: int, phase: str | None = None) -> None:
        nonlocal last, current
        now = time.monotonic()
        if phase is not None and phase != current:
            current, last = phase, 0.0
        if done == total or now - last >= PLAIN_INTERVAL:
            last = now
            print(f"{current}: {done}/{total}", file=sys.stderr, flush=True)

    yield report_plain
