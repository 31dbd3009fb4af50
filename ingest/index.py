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
from assistant.store import Chunk, ChunkOrigin, VectorStore
from assistant.store.keywords import KeywordIndex

from .chunk import split
from .parse import ParseError, Section, parse


@dataclass(frozen=True)
class Source:
    """Where documents come from: ``id`` keys them, ``type`` labels them for people."""

    id: str
    type: str


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
    ):
        self.embedder = embedder
        self.store = store
        self.keywords = keywords
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    def chunks(self, origin: ChunkOrigin, content: bytes | str, filename: str, mime_type: str | None) -> list[Chunk]:
        """The document's text in chunks, not yet embedded, each knowing the document's language. Raises
        ParseError when it has no usable text."""
        sections = [Section(content)] if isinstance(content, str) else parse(content, filename, mime_type)
        pieces = split(sections, self.chunk_size, self.chunk_overlap)
        if not pieces:
            raise ParseError("no text left after splitting")
        written_in = language.of_document("\n".join(p.text for p in pieces[:4]))
        return [
            Chunk(id=f"{origin.document_id}:{n}", text=p.text, position=n, origin=origin, heading=p.heading,
                  language=written_in)
            for n, p in enumerate(pieces)
        ]  # fmt: skip

    def embedded(self, chunks: list[Chunk]) -> list[Chunk]:
        vectors = self.embedder.embed_documents([c.searchable_text for c in chunks])
        return [replace(chunk, embedding=vector) for chunk, vector in zip(chunks, vectors)]

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
