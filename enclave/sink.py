"""The ingestion sink: the one way into the index, for folder ingest, uploads and connector syncs alike.

Every item goes through the same steps: change detection (an unchanged
version is not fetched, unchanged bytes are not embedded again; a new title or
ACL is applied to the stored chunks in place), indexing, and a record of the
outcome. Every change to the indexes, their records and the originals
happens while holding the index-writes lock, so a backup that holds it copies
them standing still. An item that cannot be read is recorded as a failure with its reason,
cleared once it indexes, and never stops the rest. Removing and pruning forget
a document's chunks, record, original and failure together.

A container (a mail with attachments, a zip archive; ``ingest/containers.py``)
is unpacked here, so every way in gets it: each file inside is indexed as a
document of its own, with the container's permissions and an external id under
the container's. A new version of the container replaces its parts (a part no
longer in it goes); removing or pruning the container takes its parts with it.
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
from ingest import containers
from ingest.blobs import BlobStore, content_hash
from ingest.containers import Limits
from ingest.documents import SourceDocument, failure_reason
from ingest.index import Indexer, Source, document_id
from ingest.parse import read_by_an_earlier_reader

from .documents import READ, DocumentsRepository, source_details

Outcome = Literal["added", "updated", "unchanged", "failed"]

EMBEDDING_ROUND = 256  # chunks embedded together: large batches keep the embedder busy across small documents


@dataclass(frozen=True)
class IndexResult:
    outcome: Outcome
    document_id: str
    chunks: int = 0
    reason: str | None = None  # why it failed
    ocr_pages: int = 0  # pages (or image frames) read with OCR


@dataclass(frozen=True)
class _Parsed:
    """A document read and split, waiting for its vectors."""

    item: SourceDocument
    raw: bytes
    digest: str
    chunks: list[Chunk]
    report: dict  # how it was read, for its record


LOST = "chunks lost; the next full sync fetches it again"


def _stored_item(record, raw: bytes | None) -> SourceDocument:
    """A document as its record remembers it, with its stored original as the content."""
    return SourceDocument(
        external_id=record.external_id, title=record.title, uri=record.uri, content=raw or b"",
        filename=PurePath(record.external_id).name or record.title, mime_type=record.mime_type,
        modified_at=record.modified_at, version=record.version, access=Access.from_dict(record.access),
        metadata=source_details(record.details),
    )  # fmt: skip


class IngestionSink:
    def __init__(
        self,
        indexer: Indexer,
        documents: DocumentsRepository,
        blobs: BlobStore,
        writes: IndexWrites | None = None,
        limits: Limits = Limits(),
    ):
        self.indexer = indexer
        self.documents = documents
        self.blobs = blobs
        self.writes = writes
        self.limits = limits

    def _writing(self) -> AbstractContextManager:
        return self.writes.held() if self.writes else nullcontext()

    def index(self, source: Source, item: SourceDocument) -> IndexResult:
        """Bring one document up to date (and the files inside it); returns its own result."""
        return next(result for done, result in list(self.index_many(source, [item])) if done is item)

    def index_many(self, source: Source, items: Iterable[SourceDocument]) -> Iterator[tuple[SourceDocument, IndexResult]]:
        """Bring documents up to date, yielding each with its result, as soon as it has one; the parts of a
        container follow it, each with its own result.

        The chunks of several documents are embedded together, in large
        batches. A failing source (SourceFailure) stops the run; so does a
        failure to store what was indexed (a full disk).
        """
        waiting: list[_Parsed] = []
        for item in items:
            for each, parsed in self._prepare(source, item):
                if isinstance(parsed, IndexResult):
                    yield each, parsed
                    continue
                waiting.append(parsed)
                if sum(len(p.chunks) for p in waiting) >= EMBEDDING_ROUND:
                    yield from self._write(source, waiting)
                    waiting = []
        yield from self._write(source, waiting)

    def _prepare(self, source: Source, item: SourceDocument) -> Iterator[tuple[SourceDocument, IndexResult | _Parsed]]:
        """The item read, then, if it is a container read anew, its parts; a part no longer in it goes."""
        try:
            parsed, parts = self._read(source, item, unpack=True)
        except SourceFailure:
            raise
        except Exception as error:  # this one item: record it, retry it next time, go on
            yield item, self.fail(source, item.external_id, item.title, failure_reason(error))
            return
        yield item, parsed
        if parts is None:
            return
        current = {part.external_id for part in parts}
        self.remove(source, sorted(self.documents.parts_of(source.id, [item.external_id]) - current))
        for part in parts:
            try:
                yield part, self._read(source, part, unpack=False)[0]
            except SourceFailure:
                raise
            except Exception as error:
                yield part, self.fail(source, part.external_id, part.title, failure_reason(error))

    def fail(self, source: Source, external_id: str, title: str, reason: str) -> IndexResult:
        """Record that an item could not be indexed (a connector or a folder may know before reading it)."""
        self.documents.record_failure(source, external_id, title, reason)
        return IndexResult("failed", document_id(source.id, external_id), reason=reason)

    def remove(self, source: Source, external_ids: list[str]) -> int:
        """Forget these items of a source, the files inside them, and their failures; returns how many
        documents were removed."""
        external_ids = sorted(set(external_ids) | self.documents.parts_of(source.id, external_ids))
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
            read = self.indexer.read(origin, raw, item.filename, item.mime_type) if raw is not None else None
        except Exception:  # an original that is gone or no longer parses counts as none
            read = None
        if read is None:
            self.remove_documents([document_id])
            return self.fail(source, record.external_id, record.title, LOST)
        [(_, result)] = self._write(source, [_Parsed(item, raw, record.content_hash, read.chunks, read.report)])
        return result

    def prune(self, source: Source, still_there: Callable[[str], bool]) -> list[str]:
        """Forget the documents and failures of items that are gone from the source; returns the documents'
        external ids. A failure of an item that is gone would never clear by indexing, so it goes too. A part
        of a container is there as long as its container is (the source lists only the container)."""

        def gone_from_source(external_id: str) -> bool:
            return not any(still_there(e) for e in [external_id, *containers.holders(external_id)])

        gone = sorted(e for e in self.documents.external_ids(source.id) if gone_from_source(e))
        failed_and_gone = [e for e in self.documents.failed_ids(source.id) if gone_from_source(e)]
        self.documents.forget_failures(source.id, failed_and_gone)
        self.remove(source, gone)
        return gone

    def _read(
        self, source: Source, item: SourceDocument, unpack: bool
    ) -> tuple[IndexResult | _Parsed, list[SourceDocument] | None]:
        """The item read and split (or found unchanged), and, with ``unpack``, its parts when it is a container
        that was read anew or retagged (None when its parts stay as they are)."""
        doc_id = document_id(source.id, item.external_id)
        existing = self.documents.get(doc_id)
        if existing is not None and item.version is not None and existing.version == item.version:
            if not self._read_otherwise(existing):
                return self._unchanged(source, item, existing, unpack)
        content = item.fetch()
        raw = content.encode("utf-8") if isinstance(content, str) else content
        digest = content_hash(raw)
        if existing is not None and existing.content_hash == digest and not self._read_otherwise(existing):
            return self._unchanged(source, item, existing, unpack, raw)
        # Unpacked first: a container over a limit is refused before any of it is indexed.
        parts = self._parts(item, raw) if unpack else None
        origin = ChunkOrigin(doc_id, item.title, item.uri, source.id, source.type, item.access)
        read = self.indexer.read(origin, content, item.filename, item.mime_type)
        return _Parsed(item, raw, digest, read.chunks, read.report), parts

    def _read_otherwise(self, existing) -> bool:
        """Whether the document would be read differently now: by a newer revision of its format's reader
        (after an upgrade), or, where OCR read it, in other languages than the ``ocr_languages`` set today
        (a German scan first read as English is read again in German)."""
        read = (existing.details or {}).get(READ) or {}
        if read_by_an_earlier_reader(read):
            return True
        return bool(read.get("ocr_pages")) and read.get("ocr_languages") != self.indexer.ocr.languages

    def _unchanged(
        self, source: Source, item: SourceDocument, existing, unpack: bool, raw: bytes | None = None
    ) -> tuple[IndexResult, list[SourceDocument] | None]:
        was = (existing.title, existing.uri, Access.from_dict(existing.access))
        retagged = was != (item.title, item.uri, item.access)
        with self._writing():
            if retagged:
                self.indexer.retag(ChunkOrigin(existing.id, item.title, item.uri, source.id, source.type, item.access))
            self.documents.refresh(source, item, existing.id)
        # A retagged container's parts follow it: unpacked again from its original, they are retagged too.
        parts = None
        if unpack and retagged and containers.is_container(item.filename, item.mime_type):
            parts = self._parts(item, raw if raw is not None else self.blobs.read(existing.blob))
        return IndexResult("unchanged", existing.id, existing.chunk_count), parts

    def _parts(self, item: SourceDocument, raw: bytes) -> list[SourceDocument]:
        """The files inside a container, as documents with its permissions, cited by its address."""
        return [
            SourceDocument(
                external_id=f"{item.external_id}#{part.key}", title=part.title, uri=item.uri, content=part.content,
                filename=part.filename, modified_at=item.modified_at, access=item.access,
                metadata={"part_of": item.external_id},
            )  # fmt: skip
            for part in containers.unpack(raw, item.filename, item.mime_type, item.title, self.limits)
        ]

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
            document.report, document.chunks[0].language,
        )  # fmt: skip
        if old_blob and old_blob != blob and not self.documents.blob_used(old_blob):
            self.blobs.discard(old_blob)
        ocr_pages = document.report.get("ocr_pages", 0)
        return IndexResult("added" if new else "updated", doc_id, len(document.chunks), ocr_pages=ocr_pages)
