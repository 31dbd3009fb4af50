"""The vector-store seam: chunks with their ACL in, permission-filtered hits out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from assistant.access import Access, Viewer
from assistant.embeddings import Vector


@dataclass(frozen=True)
class ChunkOrigin:
    """What a chunk needs to know about its document to be cited and filtered."""

    document_id: str
    title: str
    uri: str
    source: str  # the source id: "files", "upload", "connector-3", ...
    source_type: str  # "local", "upload", "sharepoint", "salesforce"
    access: Access = field(default_factory=Access.everyone)


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    position: int
    origin: ChunkOrigin
    embedding: Vector = field(default_factory=list, repr=False)
    heading: str = ""  # the section it comes from, where the document has sections (a spreadsheet's: its sheet)
    page: int | None = None  # the page (of a PDF) or slide it is on, where the document has them
    language: str = ""  # its document's (assistant.language), which sets how its words are stemmed

    @property
    def searchable_text(self) -> str:
        """What is embedded and keyword-indexed: the text under its document title and section heading,
        so "the travel policy" finds its pages even where they never name it."""
        heading = "" if self.text.startswith(self.heading) else self.heading
        return "\n".join(filter(None, (self.origin.title, heading))) + "\n\n" + self.text


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    text: str
    position: int
    score: float  # cosine similarity, higher is closer
    origin: ChunkOrigin
    heading: str = ""
    page: int | None = None
    fused: float | None = None  # the hybrid ranking's score (meaning and words together), from hybrid search


class VectorStore(ABC):
    """Chunks and their vectors. Every query is filtered by the viewer inside the store."""

    @abstractmethod
    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Add or replace chunks (by id)."""

    @abstractmethod
    def delete_documents(self, document_ids: Iterable[str]) -> None:
        """Remove every chunk of these documents."""

    @abstractmethod
    def set_origin(self, origin: ChunkOrigin) -> None:
        """Give all chunks of ``origin.document_id`` a new title, URI or ACL, without re-embedding."""

    @abstractmethod
    def query(self, embedding: Vector, k: int, viewer: Viewer) -> list[Hit]:
        """The ``k`` chunks closest to ``embedding`` among those ``viewer`` may see."""

    @abstractmethod
    def fetch(self, chunk_ids: Sequence[str], embedding: Vector, viewer: Viewer) -> list[Hit]:
        """These chunks, in this order, those ``viewer`` may see; scored against ``embedding`` like ``query``."""

    @abstractmethod
    def stored_chunks(self) -> Iterator[Chunk]:
        """Every chunk stored, without its vector (to rebuild the keyword index from)."""

    @abstractmethod
    def document_ids(self, source: str | None = None) -> set[str]:
        """Ids of the documents that have chunks here, optionally of one source."""

    @abstractmethod
    def chunk_counts(self) -> dict[str, int]:
        """How many chunks each document has here, by document id."""

    @abstractmethod
    def count(self) -> int:
        """How many chunks are stored."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached."""
