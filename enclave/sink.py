"""The ingestion sink: the one way into the index, for folder ingest, uploads and connector syncs alike.

Every item goes through the same steps: change detection (an unchanged
version is not fetched, unchanged bytes are not embedded again; a new title or
ACL is applied to the stored chunks in place), indexing, and a record of the
outcome. Every change to the indexes, their records and the originals
happens while holding the index-writes lock, so a backup that holds it copies
them standing still. An item that cannot be read is recorded as a failure with its reason,
cleared once it indexes, and never stops the rest. Removing and pruning forget
a document's chunks, record, original and failure together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from assistant.access import Access
from assistant.errors import SourceFailure
from assistant.store import Chunk, ChunkOrigin
from assistant.store.lock import IndexWrites
from ingest.blobs import BlobStore, content_hash
from ingest.documents import SourceDocument, failure_reason
from ingest.index import Indexer, Source, document_id

from .documents import DocumentsRepository

Outcome = Literal["added", "updated", "unchanged", "failed"]

EMBEDDING_ROUND = 256  # chunks embedded together: large batches keep the embedder busy across small documents


@dataclass(frozen=True)
class IndexResult:
    outcome: Outcome
    document_id: str
    chunks: int = 0
    reason: str | None = None  # why it failed


@dataclass(frozen=True)
class _Parsed:
    """A document read and split, waiting for its vectors."""

    item: SourceDocument
    raw: bytes
    digest: str
    chunks: list[Chunk]


LOST = "chunks lost; the next full sync fetches it again"


def _stored_item(record, raw: bytes | None) -> SourceDocument:
    """A document as its record remembers it, with its stored original as the content."""
    return SourceDocument(
        external_id=record.external_id, title=record.title, uri=record.uri, content=raw or b"",
        filename=PurePath(record.external_id).name or record.title, mime_type=record.mime_type,
        modified_at=record.modified_at, version=record.version, access=Access.from_dict(record.access),
        metadata=record.details or {},
    )  # fmt: skip


class IngestionSink:
    def __init__(
        self, indexer: Indexer, documents: DocumentsRepository, blobs: BlobStore, writes: IndexWrites | None = None
    ):
        self.indexer = indexer
        self.documents = documents
        self.blobs = blobs
        self.writes = writes

    def _writing(self) -> AbstractContextManager:
        return self.writes.held() if self.writes else nullcontext()

    def index(self, source: Source, item: SourceDocument) -> IndexResult:
        """Bring one document up to date."""
        [(_, result)] = self.index_many(source, [item])
        return result

    def index_many(self, source: Source, items: Iterable[SourceDocument]) -> Iterator[tuple[SourceDocument, IndexResult]]:
        """Bring documents up to date, yielding each with its result, as soon as it has one.

        The chunks of several documents are embedded together, in large
        batches. A failing source (SourceFailure) stops the run; so does a
        failure to store what was indexed (a full disk).
        """
        waiting: list[_Parsed] = []
        for item in items:
            try:
                parsed = self._read(source, item)
            except SourceFailure:
                raise
            except Exception as error:  # this one item: record it, retry it next time, go on
                yield item, self.fail(source, item.external_id, item.title, failure_reason(error))
                continue
            if isinstance(parsed, IndexResult):
                yield item, parsed
                continue
            waiting.append(parsed)
            if sum(len(p.chunks) for p in waiting) >= EMBEDDING_ROUND:
                yield from self._write(source, waiting)
                waiting = []
        yield from self._write(source, waiting)

    def fail(self, source: Source, external_id: str, title: str, reason: str) -> IndexResult:
        """Record that an item could not be indexed (a connector or a folder may know before reading it)."""
        self.documents.record_failure(source, external_id, title, reason)
        return IndexResult("failed", document_id(source.id, external_id), reason=reason)

    def remove(self, source: Source, external_ids: list[str]) -> int:
        """Forget these items of a source, and their failures; returns how many documents were removed."""
        self.documents.forget_failures(source.id, external_ids)
        return self.remove_documents([document_id(source.id, e) for e in external_ids])

    def remove_source(self, source_id: str) -> int:
        """Forget everything a source indexed, and its failures."""
        self.documents.forget_failures(source_id)
        return self.remove_documents(self.documents.document_ids(source_id))

    def remove_documents(self, document_ids: list[str]) -> int:
        if not document_ids:
            return 0
        with self._writing():
            self.indexer.delete(document_ids)
            removed, unused = self.documents.delete(document_ids)
            for blob in unused:
                self.blobs.discard(blob)
        return removed

    def reindex(self, document_id: str) -> IndexResult:
        """Index a document again from its stored original (its chunks were lost). Without a readable
        original, its record goes and a failure says so: the next full sync of its source fetches it again."""
        record = self.documents.get(document_id)
        source = Source(record.source, record.source_type)
        try:
            raw = self.blobs.read(record.blob) if record.blob else None
            item = _stored_item(record, raw)
            origin = ChunkOrigin(record.id, item.title, item.uri, source.id, source.type, item.access)
            chunks = self.indexer.chunks(origin, raw, item.filename, item.mime_type) if raw is not None else []
        except Exception:  # an original that is gone or no longer parses counts as none
            chunks = []
        if not chunks:
            self.remove_documents([document_id])
            return self.fail(source, record.external_id, record.title, LOST)
        [(_, result)] = self._write(source, [_Parsed(item, raw, record.content_hash, chunks)])
        return result

    def prune(self, source: Source, still_there: Callable[[str], bool]) -> list[str]:
        """Forget the documents and failures of items that are gone from the source; returns the documents'
        external ids. A failure of an item that is gone would never clear by indexing, so it goes too."""
        gone = sorted(e for e in self.documents.external_ids(source.id) if not still_there(e))
        failed_and_gone = [e for e in self.documents.failed_ids(source.id) if not still_there(e)]
        self.documents.forget_failures(source.id, failed_and_gone)
        self.remove(source, gone)
        return gone

    def _read(self, source: Source, item: SourceDocument) -> IndexResult | _Parsed:
        doc_id = document_id(source.id, item.external_id)
        existing = self.documents.get(doc_id)
        if existing is not None and item.version is not None and existing.version == item.version:
            return self._unchanged(source, item, existing)
        content = item.fetch()
        raw = content.encode("utf-8") if isinstance(content, str) else content
        digest = content_hash(raw)
        if existing is not None and existing.content_hash == digest:
            return self._unchanged(source, item, existing)
        origin = ChunkOrigin(doc_id, item.title, item.uri, source.id, source.type, item.access)
        return _Parsed(item, raw, digest, self.indexer.chunks(origin, content, item.filename, item.mime_type))

    def _unchanged(self, source: Source, item: SourceDocument, existing) -> IndexResult:
        with self._writing():
            if (existing.title, existing.uri, Access.from_dict(existing.access)) != (item.title, item.uri, item.access):
                self.indexer.retag(ChunkOrigin(existing.id, item.title, item.uri, source.id, source.type, item.access))
            self.documents.refresh(source, item, existing.id)
        return IndexResult("unchanged", existing.id, existing.chunk_count)

    def _write(self, source: Source, documents: list[_Parsed]) -> Iterator[tuple[SourceDocument, IndexResult]]:
        if not documents:
            return
        ids = [d.chunks[0].origin.document_id for d in documents]
        chunks = self.indexer.embedded([chunk for document in documents for chunk in document.chunks])
        results, failure = [], None
        with self._writing():  # embedded first: a backup waits for the writes only
            self.indexer.replace(chunks)
            for position, document in enumerate(documents):
                try:
                    results.append(self._record(source, document, ids[position]))
                except Exception as error:
                    # No chunks without their document record: the ones not yet recorded go, and the next run
                    # indexes them again; the documents already recorded keep theirs.
                    self.indexer.delete(ids[position:])
                    failure = error
                    break
        for document, result in zip(documents, results):
            yield document.item, result
        if failure:
            raise failure

    def _record(self, source: Source, document: _Parsed, doc_id: str) -> IndexResult:
        blob = self.blobs.put(document.raw)
        new, old_blob = self.documents.save(
            source, document.item, doc_id, document.digest, len(document.raw), len(document.chunks), blob,
            document.chunks[0].language,
        )
        if old_blob and old_blob != blob and not self.documents.blob_used(old_blob):
            self.blobs.discard(old_blob)
        return IndexResult("added" if new else "updated", doc_id, len(document.chunks))
