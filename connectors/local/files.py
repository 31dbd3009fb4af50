"""Files on local disk as documents: discovery and reading, shared by `enclave ingest` and the local connector."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.access import Access
from ingest.documents import SourceDocument
from ingest.parse import SUPPORTED_EXTENSIONS


@dataclass(frozen=True)
class Found:
    """A file to index, or one named on the command line that cannot be."""

    path: Path
    problem: str | None = None


def discover(paths: Iterable[Path]) -> Iterator[Found]:
    """Files under ``paths``, recursively, in a stable order.

    Inside folders, hidden entries and unsupported types are passed over, and
    symlinks leading outside the folder are not followed. A file named
    explicitly is always reported, with the problem if it cannot be indexed.
    """
    for path in paths:
        path = Path(path).expanduser().absolute()
        if path.is_dir():
            yield from (Found(p) for p in walk(path))
        elif not path.exists() and not path.is_symlink():
            yield Found(path, "no such file or folder")
        elif path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            yield Found(path, f"unsupported file type {path.suffix or '(none)'!r}")
        else:
            yield Found(path)


def walk(root: Path) -> Iterator[Path]:
    real_root = root.resolve()
    for folder, subfolders, names in os.walk(root, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and _inside(Path(folder, d), real_root))
        for name in sorted(names):
            path = Path(folder, name)
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                continue
            if _inside(path, real_root):
                yield path


def _inside(path: Path, real_root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def as_document(path: Path, access: Access, root: Path | None = None) -> SourceDocument:
    """A file as a document, read only if its size or modification time changed.

    Raises OSError when it is gone; reading it later may raise too.
    """
    stat = path.stat()
    return SourceDocument(
        external_id=str(path),
        title=str(path.relative_to(root)) if root else path.name,
        uri=path.as_uri(),
        content=path.read_bytes,
        filename=path.name,
        mime_type=mimetypes.guess_type(path.name)[0],
        modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        version=f"{stat.st_mtime_ns}:{stat.st_size}",
        access=access,
    )

