"""One writer at a time on the embedded index.

Embedded Chroma is not safe for several processes: a second writer can corrupt
the index, and a long-running server would not see another process's writes.
The server and write commands (ingest, sync) take the index exclusively; read
commands share it. A process that cannot get its lock is told which other
process is in the way, instead of risking the index.

Within that one writer, ``IndexWrites`` lets a backup pause the writes: the
sink holds it while it changes the indexes, the backup while it copies them.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from assistant.errors import ConfigurationError

LockMode = Literal["shared", "exclusive"]
_held: dict[Path, int] = {}  # folder -> open descriptor holding its lock, for the life of the process


def lock_index(folder: Path, mode: LockMode) -> None:
    folder = folder.resolve()
    if folder in _held:
        return
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / "enclave.lock", os.O_RDWR | os.O_CREAT, 0o600)
    flag = fcntl.LOCK_EX if mode == "exclusive" else fcntl.LOCK_SH
    try:
        fcntl.flock(descriptor, flag | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ConfigurationError(
            f"the index in {folder} is in use by another Enclave process "
            "(`enclave serve`, or an `enclave ingest`/`sync` still running). "
            "While the server runs, add documents through its web UI or API; "
            "or run Chroma as a server (ENCLAVE_CHROMA_URL) so several processes can share it."
        ) from None
    _held[folder] = descriptor


class IndexWrites:
    """Writers hold it while they change the indexes; a backup holds it to see them standing still.

    A lock file (``flock``, opened anew on each hold) so that it pauses the
    writers of every process — the server's syncs and uploads, an
    ``enclave ingest`` — and every thread of one process alike.
    """

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def held(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock
