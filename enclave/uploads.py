"""Files uploaded by admins, as documents of the built-in "upload" source."""

from __future__ import annotations

from pathlib import PurePath

from assistant.access import Access
from ingest.documents import SourceDocument
from ingest.index import Source, document_id

UPLOADS = Source(id="upload", type="upload")


def as_upload(filename: str | None, content: bytes, content_type: str | None, access: Access) -> SourceDocument:
    """An uploaded file as a document: keyed by its name (uploading it again replaces it), cited by the
    URL that serves its original."""
    name = PurePath(filename or "unnamed").name or "unnamed"
    return SourceDocument(
        external_id=name,
        title=name,
        uri=f"/api/v1/documents/{document_id(UPLOADS.id, name)}/content",
        content=content,
        filename=name,
        mime_type=content_type if content_type != "application/octet-stream" else None,
        access=access,
    )
