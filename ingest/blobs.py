"""Originals of indexed files, kept by content hash so a citation can open them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class BlobStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, content: bytes) -> str:
        digest = content_hash(content)
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{digest}.{os.getpid()}")
            tmp.write_bytes(content)
            tmp.replace(path)
        return digest

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def discard(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)
