"""Embeddings from an OpenAI-compatible server (llama-server --embeddings, vLLM, TEI)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .base import Embedder, Vector


class RemoteEmbedder(Embedder):
    def __init__(self, base_url: str, api_key: str | None = None, batch_size: int = 32):
        super().__init__(batch_size)
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=2)
        # The server knows which model it serves; ask it rather than configure it twice.
        self.name = self._client.models.list().data[0].id

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        response = self._client.embeddings.create(model=self.name, input=list(texts))
        return [_normalised(item.embedding) for item in sorted(response.data, key=lambda d: d.index)]


def _normalised(vector: list[float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
