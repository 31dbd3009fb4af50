"""What connectors yield: documents to index, and failures that name one item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from assistant.access import Access


@dataclass
class SourceDocument:
    """One item of a source, ready for ``ingest/``.

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
