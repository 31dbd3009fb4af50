"""Chroma as the vector store: embedded (PersistentClient) or a server (HttpClient).

A chunk's ACL is stored as a list of principals in its ``acl`` metadata:
``*`` (everyone), ``user:<email>`` and ``group:<name>``. A viewer's query carries
``$contains`` clauses for their own principals, so Chroma filters before it
ranks and the top-k is always drawn from what the viewer may see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy

from assistant.access import Access, Viewer
from assistant.embeddings import Vector

from .base import Chunk, ChunkOrigin, Hit, VectorStore

PAGE = 5000  # Chroma caps how many ids one call may carry
# HNSW's search beam. Chroma's default (100) misses a few of the 50 nearest
# neighbours that hybrid search scales its scores over, and which ones it
# misses changes when the index is rebuilt from Chroma's log on reopening, so the
# same question could rank differently from one start to the next. At 400 the
# 50 nearest are exact on SQuAD's 2,476 chunks, for about a millisecond a query.
SEARCH_BEAM = 400


def viewer_filter(viewer: Viewer) -> dict | None:
    if viewer.sees_everything:
        return None
    clauses = [{"acl": {"$contains": p}} for p in viewer.principals()]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _origin_metadata(origin: ChunkOrigin) -> dict:
    return {
        "document_id": origin.document_id,
        "title": origin.title,
        "uri": origin.uri,
        "source": origin.source,
        "source_type": origin.source_type,
        "acl": origin.access.principals(),
    }


def _metadata(chunk: Chunk) -> dict:
    return {
        **_origin_metadata(chunk.origin), **_place(chunk.position, chunk.heading, chunk.page), "language": chunk.language,
    }  # fmt: skip


def _place(position: int, heading: str, page: int | None) -> dict:
    """Where a chunk is in its document; no page key where it has none (Chroma stores no nulls)."""
    return {"position": position, "heading": heading, **({} if page is None else {"page": page})}


def _hit(chunk_id: str, text: str, metadata: dict, score: float) -> Hit:
    return Hit(
        chunk_id=chunk_id,
        text=text,
        position=int(metadata["position"]),
        score=score,
        origin=_origin(metadata),
        heading=metadata.get("heading") or "",
        page=metadata.get("page"),
    )


def _origin(metadata: dict) -> ChunkOrigin:
    return ChunkOrigin(
        document_id=metadata["document_id"],
        title=metadata["title"],
        uri=metadata["uri"],
        source=metadata["source"],
        source_type=metadata["source_type"],
        access=Access.from_principals(list(metadata.get("acl") or [])),
    )


def _client(path: Path | None, url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChromaStore(VectorStore):
    def __init__(self, collection: str, path: Path | None = None, url: str | None = None):
        self._client = _client(path, url)
        # embedding_function=None: Enclave embeds itself; Chroma's default would fetch a model.
        self._collection = self._client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_BEAM}}
        )
        if self._collection.configuration.get("hnsw", {}).get("ef_search", 0) < SEARCH_BEAM:  # made by an older Enclave
            self._collection.modify(configuration={"hnsw": {"ef_search": SEARCH_BEAM}})

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        for start in range(0, len(chunks), PAGE):
            page = chunks[start : start + PAGE]
            self._collection.upsert(
                ids=[c.id for c in page],
                embeddings=[c.embedding for c in page],
                documents=[c.text for c in page],
                metadatas=[_metadata(c) for c in page],
            )

    def delete_documents(self, document_ids: Iterable[str]) -> None:
        ids = list(document_ids)
        for start in range(0, len(ids), PAGE):
            self._collection.delete(where={"document_id": {"$in": ids[start : start + PAGE]}})

    def set_origin(self, origin: ChunkOrigin) -> None:
        found = self._collection.get(where={"document_id": origin.document_id}, include=["metadatas"])
        if found["ids"]:
            shared = _origin_metadata(origin)
            metadatas = [
                {**shared, **_place(m["position"], m.get("heading") or "", m.get("page")), "language": m.get("language") or ""}
                for m in found["metadatas"]
            ]
            self._collection.update(ids=found["ids"], metadatas=metadatas)

    def query(self, embedding: Vector, k: int, viewer: Viewer) -> list[Hit]:
        result = self._collection.query(
            query_embeddings=[embedding],
            n_results=k,
            where=viewer_filter(viewer),
            include=["documents", "metadatas", "distances"],
        )
        return [
            _hit(chunk_id, text, metadata, 1.0 - distance)
            for chunk_id, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    def fetch(self, chunk_ids: Sequence[str], embedding: Vector, viewer: Viewer) -> list[Hit]:
        if not chunk_ids:
            return []
        found = self._collection.get(
            ids=list(chunk_ids), where=viewer_filter(viewer), include=["documents", "metadatas", "embeddings"]
        )
        query = numpy.asarray(embedding)
        hits = {
            chunk_id: _hit(chunk_id, text, metadata, float(numpy.dot(query, vector)))
            for chunk_id, text, metadata, vector in zip(
                found["ids"], found["documents"], found["metadatas"], found["embeddings"]
            )
        }
        return [hits[c] for c in chunk_ids if c in hits]

    def stored_chunks(self) -> Iterator[Chunk]:
        offset = 0
        while True:
            page = self._collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"]):
                hit = _hit(chunk_id, text, metadata, 0.0)
                yield Chunk(
                    chunk_id, text, hit.position, hit.origin, heading=hit.heading, page=hit.page,
                    language=metadata.get("language") or "",  # none for chunks stored before languages were told apart
                )  # fmt: skip
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def document_ids(self, source: str | None = None) -> set[str]:
        return {m["document_id"] for m in self._metadatas({"source": source} if source else None)}

    def chunk_counts(self) -> dict[str, int]:
        return dict(Counter(m["document_id"] for m in self._metadatas(None)))

    def _metadatas(self, where: dict | None) -> Iterator[dict]:
        offset = 0
        while True:
            page = self._collection.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            yield from page["metadatas"]
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def count(self) -> int:
        return self._collection.count()

    def ping(self) -> None:
        self._client.heartbeat()
