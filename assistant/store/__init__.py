"""Vector stores: embedded Chroma by default, a Chroma server when ENCLAVE_CHROMA_URL is set."""

from __future__ import annotations

from assistant.config import Settings

from .base import Chunk, ChunkOrigin, Hit, VectorStore


def get_store(settings: Settings) -> VectorStore:
    from .chroma import ChromaStore

    if settings.chroma_url:
        return ChromaStore(settings.collection, url=settings.chroma_url)
    return ChromaStore(settings.collection, path=settings.chroma_path)


__all__ = ["Chunk", "ChunkOrigin", "Hit", "VectorStore", "get_store"]
