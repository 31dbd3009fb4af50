"""Index documents: turn one into chunks (parse, split), embed them, write them to the stores.

This is the adapter between documents and the two indexes (the vector store
and the keyword index). It knows nothing of document records, change
detection or failures: the application's ingestion sink decides what to
index and remembers what was indexed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from assistant import language
from assistant.embeddings import Embedder
from assistant.priority import PRIORITY
from assistant.store import Chunk, ChunkOrigin, VectorStore
from assistant.store.keywords import KeywordIndex

from .chunk import split
from .ocr import OcrOptions
from .parse import ParseError, Reading, Section, read

# Chunks embedded between two looks at whether a question is waiting (about a third of a second on two cores).
EMBED_BATCH = 32


@dataclass(frozen=True)
class Source:
    """Where documents come from: ``id`` keys them, ``type`` labels them for people."""

    id: str
    type: str


@dataclass(frozen=True)
class ReadDocument:
    """A document's text in chunks, not yet embedded, and how it was read (``reading.report``)."""

    chunks: list[Chunk]
    report: dict


def document_id(source_id: str, external_id: str) -> str:
    return "d" + hashlib.sha256(f"{source_id}\0{external_id}".encode()).hexdigest()[:31]


class Indexer:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        keywords: KeywordIndex,
        chunk_size: int = 1000,
        chunk_overlap: int = 150,
        ocr: OcrOptions = OcrOptions(),
    ):
        self.embedder = embedder
        self.store = store
        self.keywords = keywords
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.ocr = ocr

    def read(self, origin: ChunkOrigin, content: bytes | str, filename: str, mime_type: str | None) -> ReadDocument:
        """The document's text in chunks, each knowing the document's language, and how it was read. Raises
        ParseError when it has no usable text."""
        if isinstance(content, str):  # a record a connector rendered as text
            found = Reading([Section(content)], {"format": "text"})
        else:
            found = read(content, filename, mime_type, self.ocr)
        pieces = split(found.sections, self.chunk_size, self.chunk_overlap)
        if not pieces:
            raise ParseError("no text left after splitting")
        written_in = language.of_document("\n".join(p.text for p in pieces[:4]))
        chunks = [
            Chunk(f"{origin.document_id}:{n}", p.text, n, origin, heading=p.heading, page=p.page, language=written_in)
            for n, p in enumerate(pieces)
        ]
        return ReadDocument(chunks, found.report)

    def embedded(self, chunks: list[Chunk]) -> list[Chunk]:
        """The chunks with their embeddings, a batch at a time, each after any question being answered."""
        done: list[Chunk] = []
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            PRIORITY.background_turn()
            vectors = self.embedder.embed_documents([c.searchable_text for c in batch])
            done += [replace(chunk, embedding=vector) for chunk, vector in zip(batch, vectors)]
        return done

    def replace(self, chunks: list[Chunk]) -> None:
        """Make these embedded chunks the whole indexed text of their documents."""
        # Old chunks go first, so a shorter new version leaves no stale tail behind.
        self.delete(sorted({c.origin.document_id for c in chunks}))
        self.store.upsert(chunks)
        self.keywords.add(chunks)

    def delete(self, document_ids: list[str]) -> None:
        self.store.delete_documents(document_ids)
        self.keywords.delete_documents(document_ids)

    def retag(self, origin: ChunkOrigin) -> None:
        """A renamed, moved or re-shared document keeps its vectors; its citation and ACL follow it."""
        self.store.set_origin(origin)
        self.keywords.set_access(origin.document_id, origin.access)
