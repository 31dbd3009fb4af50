"""How a run reports its progress: start(label, total) returns advance(n). The CLI draws progress bars."""

from __future__ import annotations

from collections.abc import Callable

Tracker = Callable[[str, int], Callable[[int], None]]


def no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda n: None
