"""Index documents: parse, chunk, embed, store; skip what has not changed.

The application database holds one row per document (with its content hash,
for change detection); the vector store and the keyword index hold its chunks
under the same id. A
document is re-embedded only when its bytes change; a new title or ACL is
applied to the stored chunks in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.access import Access
from assistant.db.models import Document, IngestFailure
from assistant.embeddings import Embedder
from assistant.store import Chunk, ChunkOrigin, VectorStore
from assistant.store.keywords import KeywordIndex
from connectors.models import SourceDocument

from .blobs import BlobStore, content_hash
from .chunk import split
from .parse import ParseError, Section, parse

Outcome = Literal["added", "updated", "unchanged"]


@dataclass(frozen=True)
class Source:
    """Where documents come from: ``id`` keys them, ``type`` labels them for people."""

    id: str
    type: str


@dataclass(frozen=True)
class IndexResult:
    outcome: Outcome
    document_id: str
    chunks: int


def document_id(source_id: str, external_id: str) -> str:
    return "d" + hashlib.sha256(f"{source_id}\0{external_id}".encode()).hexdigest()[:31]


EMBEDDING_ROUND = 256  # chunks embedded together: large batches keep the embedder busy across small documents


@dataclass(frozen=True)
class _Parsed:
    """A document read and split, waiting for its vectors."""

    item: SourceDocument
    document_id: str
    raw: bytes
    digest: str
    chunks: list[Chunk]


class Indexer:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        keywords: KeywordIndex,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        chunk_size: int = 1000,
        chunk_overlap: int = 150,
    ):
        self.embedder = embedder
        self.store = store
        self.keywords = keywords
        self.sessions = sessions
        self.blobs = blobs
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    def index(self, source: Source, item: SourceDocument) -> IndexResult:
        """Bring one document up to date. Raises ParseError when it has no usable text."""
        [(_, result)] = self.index_many(source, [item])
        if isinstance(result, Exception):
            raise result
        return result

    def index_many(
        self, source: Source, items: Iterable[SourceDocument]
    ) -> Iterator[tuple[SourceDocument, IndexResult | ParseError | OSError]]:
        """Bring documents up to date, yielding each with its result, or the error that stopped it
        (one unreadable file never stops the rest).

        An item whose version, or else whose bytes, match what is indexed is
        not fetched, or not re-embedded; only its title, URI and ACL are refreshed.
        The chunks of several documents are embedded together, in large batches.
        """
        waiting: list[_Parsed] = []
        for item in items:
            try:
                parsed = self._parse(source, item)
            except (ParseError, OSError) as error:
                yield item, error
                continue
            if isinstance(parsed, IndexResult):
                yield item, parsed
                continue
            waiting.append(parsed)
            if sum(len(p.chunks) for p in waiting) >= EMBEDDING_ROUND:
                yield from self._write(source, waiting)
                waiting = []
        yield from self._write(source, waiting)

    def _parse(self, source: Source, item: SourceDocument) -> IndexResult | _Parsed:
        doc_id = document_id(source.id, item.external_id)
        with self.sessions() as session:
            existing = session.get(Document, doc_id)
            if existing is not None and item.version is not None and existing.version == item.version:
                return self._unchanged(session, existing, source, item)
            content = item.fetch()
            raw = content.encode("utf-8") if isinstance(content, str) else content
            digest = content_hash(raw)
            if existing is not None and existing.content_hash == digest:
                return self._unchanged(session, existing, source, item)

        sections = [Section(content)] if isinstance(content, str) else parse(raw, item.filename, item.mime_type)
        pieces = split(sections, self.chunk_size, self.chunk_overlap)
        if not pieces:
            raise ParseError("no text left after splitting")
        origin = ChunkOrigin(doc_id, item.title, item.uri, source.id, source.type, item.access)
        chunks = [
            Chunk(id=f"{doc_id}:{n}", text=p.text, position=n, origin=origin, heading=p.heading)
            for n, p in enumerate(pieces)
        ]
        return _Parsed(item, doc_id, raw, digest, chunks)

    def _write(self, source: Source, documents: list[_Parsed]) -> Iterator[tuple[SourceDocument, IndexResult]]:
        if not documents:
            return
        chunks = [chunk for document in documents for chunk in document.chunks]
        vectors = self.embedder.embed_documents([c.searchable_text for c in chunks])
        chunks = [replace(chunk, embedding=vector) for chunk, vector in zip(chunks, vectors)]
        ids = [d.document_id for d in documents]
        # Old chunks go first, so a shorter new version leaves no stale tail behind.
        self._delete_chunks(ids)
        self.store.upsert(chunks)
        self.keywords.add(chunks)
        for position, document in enumerate(documents):
            try:
                blob = self.blobs.put(document.raw)
                result = self._record(source, document.item, document.document_id, document.digest,
                                      len(document.raw), len(document.chunks), blob)  # fmt: skip
            except Exception:
                # No chunks without their document row: the ones not yet recorded go, and the next run
                # indexes them again; the documents already recorded keep theirs.
                self._delete_chunks(ids[position:])
                raise
            yield document.item, result

    def _delete_chunks(self, document_ids: list[str]) -> None:
        self.store.delete_documents(document_ids)
        self.keywords.delete_documents(document_ids)

    def _record(
        self, source: Source, item: SourceDocument, doc_id: str, digest: str, size: int, chunks: int, blob: str
    ) -> IndexResult:
        with self.sessions() as session:
            document = session.get(Document, doc_id)
            outcome: Outcome = "updated" if document else "added"
            old_blob = document.blob if document else None
            if document is None:
                document = Document(id=doc_id, source=source.id, source_type=source.type, external_id=item.external_id)
                session.add(document)
            self._fill(document, item, digest, size, chunks, blob)
            self._forget_failure(session, source, item.external_id)
            session.commit()
            if old_blob and old_blob != blob:
                self._discard_blob_if_unused(session, old_blob)
        return IndexResult(outcome, doc_id, chunks)

    def remove(self, source: Source, external_ids: list[str]) -> int:
        """Forget these items of a source, and their failures; returns how many documents were removed."""
        with self.sessions() as session:
            session.execute(
                delete(IngestFailure).where(IngestFailure.source == source.id, IngestFailure.external_id.in_(external_ids))
            )
            session.commit()
        return self.remove_documents([document_id(source.id, e) for e in external_ids])

    def remove_documents(self, document_ids: list[str]) -> int:
        if not document_ids:
            return 0
        self._delete_chunks(document_ids)
        with self.sessions() as session:
            documents = session.scalars(select(Document).where(Document.id.in_(document_ids))).all()
            blobs = {d.blob for d in documents if d.blob}
            for document in documents:
                session.delete(document)
            session.commit()
            for blob in blobs:
                self._discard_blob_if_unused(session, blob)
        return len(documents)

    def record_failure(self, source: Source, external_id: str, title: str, reason: str) -> None:
        with self.sessions() as session:
            failure = session.scalar(
                select(IngestFailure).where(IngestFailure.source == source.id, IngestFailure.external_id == external_id)
            )
            now = datetime.now(UTC)
            if failure is None:
                session.add(IngestFailure(source=source.id, external_id=external_id, title=title, reason=reason))
            else:
                # A retry that failed before learning the item's name keeps the name already known.
                failure.title = failure.title if title == external_id else title
                failure.reason, failure.last_failed_at = reason, now
                failure.attempts += 1
            session.commit()

    def _unchanged(self, session: Session, document: Document, source: Source, item: SourceDocument) -> IndexResult:
        self._refresh_metadata(document, item)
        self._forget_failure(session, source, item.external_id)
        session.commit()
        return IndexResult("unchanged", document.id, document.chunk_count)

    def _fill(self, document: Document, item: SourceDocument, digest: str, size: int, chunks: int, blob: str) -> None:
        document.title = item.title
        document.uri = item.uri
        document.mime_type = item.mime_type
        document.content_hash = digest
        document.version = item.version
        document.size = size
        document.access = item.access.to_dict()
        document.details = item.metadata
        document.chunk_count = chunks
        document.blob = blob
        document.modified_at = item.modified_at
        document.indexed_at = datetime.now(UTC)

    def _refresh_metadata(self, document: Document, item: SourceDocument) -> None:
        # A renamed, moved or re-shared item keeps its vectors; its citation and ACL follow it.
        if (document.title, document.uri, Access.from_dict(document.access)) != (item.title, item.uri, item.access):
            self.store.set_origin(
                ChunkOrigin(document.id, item.title, item.uri, document.source, document.source_type, item.access)
            )
            self.keywords.set_access(document.id, item.access)
            document.title, document.uri, document.access = item.title, item.uri, item.access.to_dict()
        document.details = item.metadata
        document.modified_at = item.modified_at
        document.version = item.version

    def _forget_failure(self, session: Session, source: Source, external_id: str) -> None:
        session.execute(
            delete(IngestFailure).where(IngestFailure.source == source.id, IngestFailure.external_id == external_id)
        )

    def _discard_blob_if_unused(self, session: Session, blob: str) -> None:
        if not session.scalar(select(func.count()).select_from(Document).where(Document.blob == blob)):
            self.blobs.discard(blob)
