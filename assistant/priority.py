"""Questions before background work: on a two-core box, a long ingest must not make people wait.

While a question is being answered (``interactive``), background embedding (ingest, uploads, syncs) waits
before its next batch (``background_turn``). A wait is bounded, so a steady stream of questions slows an
ingest down but never stops it.

Web and worker roles may run as separate processes on the same cores, so the priority also holds between
processes that ``share`` one lock file (the data directory's): each process answering holds a shared lock on
it, and a background turn waits until it could take the lock alone. Processes with a data directory of their
own do not wait for each other; on a data directory shared between hosts (a network file system with
locking), background work also yields to other hosts' questions, which costs it time but nothing else.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_PAUSE_SECONDS = 30.0
POLL_SECONDS = 0.05  # how often a waiting background turn looks whether other processes still answer


class Priority:
    def __init__(self, max_pause: float = MAX_PAUSE_SECONDS):
        self.max_pause = max_pause
        self._answering = 0
        self._changed = threading.Condition()
        self._lock_file: Path | None = None
        self._held: int | None = None  # the descriptor holding the shared lock while this process answers

    def share(self, lock_file: Path | None) -> None:
        """Also keep the priority with the other processes that share ``lock_file`` (None: with none)."""
        self._lock_file = lock_file

    @contextmanager
    def interactive(self) -> Iterator[None]:
        with self._changed:
            self._answering += 1
            if self._answering == 1:
                self._held = self._hold_shared()
        try:
            yield
        finally:
            with self._changed:
                self._answering -= 1
                if self._answering == 0 and self._held is not None:
                    os.close(self._held)  # releases the shared lock
                    self._held = None
                self._changed.notify_all()

    @property
    def answering(self) -> int:
        return self._answering

    def background_turn(self) -> bool:
        """Wait while questions are being answered here or in a process sharing the lock file (at most
        ``max_pause`` in all); False when the wait ran out."""
        deadline = time.monotonic() + self.max_pause
        with self._changed:
            if not self._changed.wait_for(lambda: self._answering == 0, timeout=self.max_pause):
                return False
        while self._others_answering():
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def _others_answering(self) -> bool:
        descriptor = self._opened()
        if descriptor is None:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)  # also releases the lock when it was taken
        return False

    def _hold_shared(self) -> int | None:
        descriptor = self._opened()
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_SH)  # waits only while a background turn looks (an instant)
        return descriptor

    def _opened(self) -> int | None:
        if self._lock_file is None:
            return None
        try:
            return os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # no data directory yet, or a read-only one: the priority holds within this process
            return None


PRIORITY = Priority()
