"""The documents repository: every read and write of document and ingest-failure records.

One row per indexed document (its content hash and version for change
detection, its ACL, where its original is kept) and one per item that could
not be indexed (with the reason, for the admin). Nothing else builds queries
on these tables; the chunks themselves live in the indexes (``ingest/index.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.access import Access, Viewer
from assistant.db.models import Document, IngestFailure
from ingest.containers import PART_MARKERS
from ingest.documents import SourceDocument
from ingest.index import Source

READ = "read"  # the key of a document's details that says how it was read (ingest/reading.py)


def source_details(details: dict | None) -> dict:
    """A document's details as its source gave them, without what Enclave noted on reading it."""
    return {key: value for key, value in (details or {}).items() if key != READ}


PARTS_QUERY_BATCH = 200  # containers looked up at once: a few hundred LIKE terms keep a query small


@dataclass(frozen=True)
class SourceSize:
    source: str
    source_type: str
    documents: int
    chunks: int


@dataclass(frozen=True)
class DocumentPage:
    items: list[Document]
    total: int


class DocumentsRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    # -- documents

    def get(self, document_id: str) -> Document | None:
        with self.sessions() as session:
            return session.get(Document, document_id)

    def readable(self, document_ids: set[str], viewer: Viewer) -> set[str]:
        """Those of ``document_ids`` that still exist and ``viewer`` may read now."""
        if not document_ids:
            return set()
        with self.sessions() as session:
            rows = session.execute(select(Document.id, Document.access).where(Document.id.in_(document_ids))).all()
        return {document_id for document_id, access in rows if Access.from_dict(access).allows(viewer)}

    def save(self, source: Source, item: SourceDocument, document_id: str, digest: str, size: int, chunks: int,
             blob: str, read: dict, language: str) -> tuple[bool, str | None]:  # fmt: skip
        """Record a document as indexed now, with how it was read and the language it is written in; returns
        whether it is new, and the blob its old version had."""
        with self.sessions() as session:
            document = session.get(Document, document_id)
            new, old_blob = document is None, document.blob if document else None
            if document is None:
                document = Document(id=document_id, source=source.id, source_type=source.type,
                                    external_id=item.external_id)  # fmt: skip
                session.add(document)
            _describe(document, item, read)
            document.details = {**document.details, "language": language}
            document.content_hash, document.size, document.chunk_count, document.blob = digest, size, chunks, blob
            document.indexed_at = datetime.now(UTC)
            _forget_failures(session, source.id, [item.external_id])
            session.commit()
        return new, old_blob

    def refresh(self, source: Source, item: SourceDocument, document_id: str) -> None:
        """An unchanged document's details (title, URI, ACL, version) as the source has them now."""
        with self.sessions() as session:
            document = session.get(Document, document_id)
            _describe(document, item, (document.details or {}).get(READ))
            _forget_failures(session, source.id, [item.external_id])
            session.commit()

    def delete(self, document_ids: list[str]) -> tuple[int, set[str]]:
        """Forget these documents; returns how many there were and the blobs no document uses any more."""
        with self.sessions() as session:
            documents = session.scalars(select(Document).where(Document.id.in_(document_ids))).all()
            blobs = {d.blob for d in documents if d.blob}
            for document in documents:
                session.delete(document)
            session.commit()
            return len(documents), {blob for blob in blobs if not _blob_used(session, blob)}

    def blob_used(self, blob: str) -> bool:
        with self.sessions() as session:
            return _blob_used(session, blob)

    def external_ids(self, source_id: str) -> set[str]:
        with self.sessions() as session:
            return set(session.scalars(select(Document.external_id).where(Document.source == source_id)))

    def parts_of(self, source_id: str, external_ids: list[str]) -> set[str]:
        """External ids of the documents and failures inside these containers (attachments, archive members)."""
        found: set[str] = set()
        with self.sessions() as session:
            for start in range(0, len(external_ids), PARTS_QUERY_BATCH):
                batch = external_ids[start : start + PARTS_QUERY_BATCH]
                for table in (Document, IngestFailure):
                    column = table.external_id
                    under = or_(*(column.startswith(e + m, autoescape=True) for e in batch for m in PART_MARKERS))
                    found |= set(session.scalars(select(column).where(table.source == source_id, under)))
        return found

    def document_ids(self, source_id: str) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(Document.id).where(Document.source == source_id)))

    def content_hashes(self, source_id: str) -> dict[str, str]:
        """Each document's content hash by external id: finds the unchanged ones of a source in one query."""
        with self.sessions() as session:
            rows = session.execute(
                select(Document.external_id, Document.content_hash).where(Document.source == source_id)
            )
            return dict(rows.all())

    def keys(self) -> list[tuple[str, str, str]]:
        """(id, external id, URI) of every document: the names an evaluation's gold answers may use."""
        with self.sessions() as session:
            return [tuple(row) for row in session.execute(select(Document.id, Document.external_id, Document.uri))]

    def count(self, source_id: str | None = None) -> int:
        query = select(func.count()).select_from(Document)
        if source_id is not None:
            query = query.where(Document.source == source_id)
        with self.sessions() as session:
            return session.scalar(query) or 0

    def sizes(self) -> list[SourceSize]:
        """Documents and chunks per source."""
        chunks = func.coalesce(func.sum(Document.chunk_count), 0)
        query = (
            select(Document.source, Document.source_type, func.count(), chunks)
            .group_by(Document.source, Document.source_type)
            .order_by(Document.source)
        )
        with self.sessions() as session:
            return [SourceSize(*row) for row in session.execute(query)]

    def page(self, source: str | None, title: str | None, page: int, page_size: int) -> DocumentPage:
        """Documents, newest first, optionally of one source or with a title containing ``title``."""
        query = select(Document)
        if source:
            query = query.where(Document.source == source)
        if title:
            query = query.where(Document.title.ilike(f"%{title}%"))
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            newest = query.order_by(Document.indexed_at.desc()).offset((page - 1) * page_size).limit(page_size)
            return DocumentPage(list(session.scalars(newest)), total)

    # -- failures

    def record_failure(self, source: Source, external_id: str, title: str, reason: str) -> None:
        with self.sessions() as session:
            failure = session.scalar(
                select(IngestFailure).where(IngestFailure.source == source.id, IngestFailure.external_id == external_id)
            )
            if failure is None:
                session.add(IngestFailure(source=source.id, external_id=external_id, title=title, reason=reason))
            else:
                # A retry that failed before learning the item's name keeps the name already known.
                failure.title = failure.title if title == external_id else title
                failure.reason, failure.last_failed_at = reason, datetime.now(UTC)
                failure.attempts += 1
            session.commit()

    def forget_failures(self, source_id: str, external_ids: list[str] | None = None) -> None:
        """Forget these items' failures, or every failure of the source."""
        with self.sessions() as session:
            _forget_failures(session, source_id, external_ids)
            session.commit()

    def failed_ids(self, source_id: str) -> set[str]:
        with self.sessions() as session:
            return set(session.scalars(select(IngestFailure.external_id).where(IngestFailure.source == source_id)))

    def failures(self, limit: int | None = None) -> list[IngestFailure]:
        """Items that could not be indexed, all sources, the latest first."""
        with self.sessions() as session:
            return list(session.scalars(select(IngestFailure).order_by(IngestFailure.last_failed_at.desc()).limit(limit)))

    def failure_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(IngestFailure)) or 0


def _describe(document: Document, item: SourceDocument, read: dict | None) -> None:
    document.title, document.uri, document.mime_type = item.title, item.uri, item.mime_type
    document.access = item.access.to_dict()
    # The source's metadata, how the text was read, and the language detected when it was last indexed.
    detected = {"language": document.details["language"]} if "language" in (document.details or {}) else {}
    document.details = {**source_details(item.metadata), **({READ: read} if read is not None else {}), **detected}
    document.version = item.version
    document.modified_at = item.modified_at


def _forget_failures(session: Session, source_id: str, external_ids: list[str] | None) -> None:
    query = delete(IngestFailure).where(IngestFailure.source == source_id)
    if external_ids is not None:
        query = query.where(IngestFailure.external_id.in_(external_ids))
    session.execute(query)


def _blob_used(session: Session, blob: str) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Document).where(Document.blob == blob)))
