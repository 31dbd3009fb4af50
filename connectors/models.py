"""What connectors yield: documents to index, and failures that name one item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assistant.access import Access


@dataclass
class SourceDocument:
    """One item of a source, ready for ``ingest/``.

    ``content`` is text (a record rendered readable) or the raw bytes of a file;
    ``filename`` (and ``mime_type``) tell the parser what the bytes are.
    """

    external_id: str
    title: str
    uri: str
    content: bytes | str
    filename: str
    mime_type: str | None = None
    modified_at: datetime | None = None
    access: Access = field(default_factory=Access.everyone)
    metadata: dict = field(default_factory=dict)

    @property
    def content_bytes(self) -> bytes:
        return self.content.encode("utf-8") if isinstance(self.content, str) else self.content


@dataclass(frozen=True)
class ItemFailure:
    """An item that could not be fetched or read; the rest of the run goes on."""

    external_id: str
    title: str
    reason: str
