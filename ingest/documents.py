"""The document contract: what every source (a connector, a folder, an upload) hands to ingestion.

A source yields SourceDocuments to index and ItemFailures naming one item it
could not read; ``failure_reason`` words any error that stopped one item the
same way, wherever it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from assistant.access import Access
from assistant.errors import EnclaveError


@dataclass
class SourceDocument:
    """One item of a source, ready to index.

    ``content`` is text (a record rendered readable), the raw bytes of a file,
    or a function that fetches those bytes: the indexer calls it only when
    ``version`` (an eTag, a modification stamp) differs from the indexed one,
    so an unchanged item is never downloaded again. ``filename`` (and
    ``mime_type``) tell the parser what the bytes are.
    """

    external_id: str
    title: str
    uri: str
    content: bytes | str | Callable[[], bytes]
    filename: str
    mime_type: str | None = None
    modified_at: datetime | None = None
    version: str | None = None
    access: Access = field(default_factory=Access.everyone)
    metadata: dict = field(default_factory=dict)

    def fetch(self) -> bytes | str:
        """The content, fetched now if it is lazy (and kept, so it is fetched once)."""
        if callable(self.content):
            self.content = self.content()
        return self.content


@dataclass(frozen=True)
class ItemFailure:
    """An item that could not be fetched or read; the rest of the run goes on."""

    external_id: str
    title: str
    reason: str


def failure_reason(error: Exception) -> str:
    """Why one item could not be indexed, in words for the admin."""
    if isinstance(error, OSError):
        return _describe_os_error(error)
    text = str(error).strip()
    return text if isinstance(error, (EnclaveError, ValueError)) and text else f"{type(error).__name__}: {text}"


def _describe_os_error(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "the file disappeared before it could be read"
    if isinstance(error, PermissionError):
        return "permission denied: Enclave's user cannot read this file"
    if isinstance(error, IsADirectoryError):
        return "this is a folder, not a file"
    return f"could not read the file: {error.strerror or error}"
