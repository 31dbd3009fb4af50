"""Chroma as the vector store: embedded (PersistentClient) or a server (HttpClient).

A chunk's ACL is stored as a list of principals in its ``acl`` metadata:
``*`` (everyone), ``user:<email>`` and ``group:<name>``. A viewer's query carries
``$contains`` clauses for their own principals, so Chroma filters before it
ranks and the top-k is always drawn from what the viewer may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy

from assistant.access import Access, Viewer
from assistant.embeddings import Vector

from .base import Chunk, ChunkOrigin, Hit, VectorStore

EVERYONE = "*"
PAGE = 5000  # Chroma caps how many ids one call may carry
TERM_CANDIDATES = 200  # chunks containing a query's exact terms, ranked before the best k are kept


def acl_principals(access: Access) -> list[str]:
    principals = [f"user:{u}" for u in sorted(access.users)] + [f"group:{g}" for g in sorted(access.groups)]
    if access.public:
        principals.insert(0, EVERYONE)
    # Chroma refuses an empty list; a document nobody may see is still visible to admins.
    return principals or ["nobody"]


def viewer_filter(viewer: Viewer) -> dict | None:
    if viewer.sees_everything:
        return None
    principals = [EVERYONE] + ([f"user:{viewer.email}"] if viewer.email else [])
    principals += [f"group:{g}" for g in sorted(viewer.groups)]
    clauses = [{"acl": {"$contains": p}} for p in principals]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _access_from(principals: list[str]) -> Access:
    return Access(
        public=EVERYONE in principals,
        users=frozenset(p[5:] for p in principals if p.startswith("user:")),
        groups=frozenset(p[6:] for p in principals if p.startswith("group:")),
    )


def _origin_metadata(origin: ChunkOrigin) -> dict:
    return {
        "document_id": origin.document_id,
        "title": origin.title,
        "uri": origin.uri,
        "source": origin.source,
        "source_type": origin.source_type,
        "acl": acl_principals(origin.access),
    }


def _metadata(chunk: Chunk) -> dict:
    return {**_origin_metadata(chunk.origin), "position": chunk.position}


def _origin(metadata: dict) -> ChunkOrigin:
    return ChunkOrigin(
        document_id=metadata["document_id"],
        title=metadata["title"],
        uri=metadata["uri"],
        source=metadata["source"],
        source_type=metadata["source_type"],
        access=_access_from(list(metadata.get("acl") or [])),
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
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

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
            metadatas = [{**shared, "position": m["position"]} for m in found["metadatas"]]
            self._collection.update(ids=found["ids"], metadatas=metadatas)

    def query(self, embedding: Vector, k: int, viewer: Viewer) -> list[Hit]:
        result = self._collection.query(
            query_embeddings=[embedding],
            n_results=k,
            where=viewer_filter(viewer),
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(
                chunk_id=chunk_id,
                text=text,
                position=int(metadata["position"]),
                score=1.0 - distance,
                origin=_origin(metadata),
            )
            for chunk_id, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    def query_terms(self, terms: list[str], embedding: Vector, k: int, viewer: Viewer) -> list[Hit]:
        contains = [{"$contains": term} for term in terms]
        found = self._collection.get(
            where=viewer_filter(viewer),
            where_document=contains[0] if len(contains) == 1 else {"$or": contains},
            limit=TERM_CANDIDATES,
            include=["documents", "metadatas", "embeddings"],
        )
        query = numpy.asarray(embedding)
        ranked = sorted(
            (
                (sum(term in text for term in terms), float(numpy.dot(query, vector)), chunk_id, text, metadata)
                for chunk_id, text, metadata, vector in zip(
                    found["ids"], found["documents"], found["metadatas"], found["embeddings"]
                )
            ),
            key=lambda row: (row[0], row[1]),
            reverse=True,
        )
        return [
            Hit(chunk_id=chunk_id, text=text, position=int(metadata["position"]), score=score, origin=_origin(metadata))
            for _, score, chunk_id, text, metadata in ranked[:k]
        ]

    def document_ids(self, source: str | None = None) -> set[str]:
        where = {"source": source} if source else None
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            ids.update(m["document_id"] for m in page["metadatas"])
            if len(page["ids"]) < PAGE:
                return ids
            offset += PAGE

    def count(self) -> int:
        return self._collection.count()

    def ping(self) -> None:
        self._client.heartbeat()
