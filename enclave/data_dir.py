"""The data directory as storage: can Enclave write there, is there room, do its database and index open.

Every way in (``enclave serve``, the CLI commands) checks these before it
starts, so a full disk, a data directory that cannot be written or a corrupt
database or index ends in one sentence naming the path and a non-zero exit,
not in a traceback, a crash loop or an index half written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import EnclaveError, StorageFailure

MIN_FREE_TO_START = 64 * 2**20  # below this, a start would only fail halfway through its first write
LOW_FREE_BYTES = 2**30  # `enclave doctor` warns under 1 GiB free ...
LOW_FREE_SHARE = 0.05  # ... or under 5 % of the filesystem


@dataclass(frozen=True)
class FreeSpace:
    free: int
    total: int

    @property
    def low(self) -> bool:
        return self.free < LOW_FREE_BYTES or self.free < LOW_FREE_SHARE * self.total

    def __str__(self) -> str:
        share = self.free / self.total if self.total else 0
        return f"{self.free / 2**30:,.1f} GiB free of {self.total / 2**30:,.1f} GiB ({share:.0%})"


def free_space(folder: Path) -> FreeSpace:
    usage = shutil.disk_usage(folder)
    return FreeSpace(usage.free, usage.total)


def check_writable(settings: Settings) -> FreeSpace:
    """Raise StorageFailure unless the data directory is a folder Enclave can write, with room to work."""
    folder = settings.data_dir.resolve()
    if folder.exists() and not folder.is_dir():
        raise StorageFailure(f"the data directory {folder} is a file, not a folder; move it, or point ENCLAVE_DATA_DIR elsewhere")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as error:
        raise StorageFailure(
            f"the data directory {folder} cannot be written ({error.strerror or error}); "
            "make it a folder Enclave may write to, or point ENCLAVE_DATA_DIR elsewhere"
        ) from None
    space = free_space(folder)
    if space.free < MIN_FREE_TO_START:
        raise StorageFailure(
            f"the disk of the data directory {folder} is full ({space}); free some space before starting"
        )
    return space


def database_location(url: str) -> str:
    """The database file of a SQLite URL, else the URL without its password."""
    if url.startswith("sqlite"):
        return url.split("///", 1)[-1]
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def opening(what: str, path: Path | str) -> Iterator[None]:
    """Turn any failure to open ``what`` at ``path`` into a StorageFailure naming both."""
    try:
        yield
    except EnclaveError:
        raise
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StorageFailure(
            f"{what} at {path} cannot be opened ({reason}); if it is damaged, restore the data directory "
            "from a backup (`enclave restore`), or run `enclave doctor`"
        ) from error
