"""Embedding backends: in-process sentence-transformers, or an OpenAI-compatible server."""

from __future__ import annotations

from assistant.config import Settings

from .base import Embedder, Vector


def get_embedder(settings: Settings) -> Embedder:
    if settings.embedding_url:
        from .remote import RemoteEmbedder

        return RemoteEmbedder(settings.embedding_url, batch_size=settings.embedding_batch_size)
    from .local import LocalEmbedder

    return LocalEmbedder(settings.embedding_model, batch_size=settings.embedding_batch_size)


__all__ = ["Embedder", "Vector", "get_embedder"]
