"""Questions before background work: on a two-core box, a long ingest must not make people wait.

While a question is being answered (``interactive``), background embedding (ingest, uploads, syncs) waits
before its next batch (``background_turn``). A wait is bounded, so a steady stream of questions slows an
ingest down but never stops it. The priority holds within one process; with separate web and worker
processes, the operating system's scheduler shares the cores (run workers with ``nice``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_SECONDS = 30.0


class Priority:
    def __init__(self, max_pause: float = MAX_PAUSE_SECONDS):
        self.max_pause = max_pause
        self._answering = 0
        self._changed = threading.Condition()

    @contextmanager
    def interactive(self) -> Iterator[None]:
        with self._changed:
            self._answering += 1
        try:
            yield
        finally:
            with self._changed:
                self._answering -= 1
                self._changed.notify_all()

    @property
    def answering(self) -> int:
        return self._answering

    def background_turn(self) -> bool:
        """Wait while questions are being answered (at most ``max_pause``); False when the wait ran out."""
        with self._changed:
            return self._changed.wait_for(lambda: self._answering == 0, timeout=self.max_pause)


PRIORITY = Priority()
