"""The embedding seam: a backend embeds one batch; batching and the rest are shared."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

Vector = list[float]


class Embedder(ABC):
    """Turns texts into vectors. A backend implements ``embed_batch`` only, and ``embed_query_batch`` when its
    model embeds questions apart from passages (E5's "query: " and "passage: ")."""

    name: str = "embedder"

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        """Embed at most ``batch_size`` texts, returning one normalised vector each."""

    def embed_query_batch(self, texts: Sequence[str]) -> list[Vector]:
        """Embed at most ``batch_size`` questions; the same as passages unless the model tells them apart."""
        return self.embed_batch(texts)

    def embed_documents(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> list[Vector]:
        return self._batched(texts, self.embed_batch, on_batch)

    def embed_queries(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> list[Vector]:
        return self._batched(texts, self.embed_query_batch, on_batch)

    def embed_query(self, text: str) -> Vector:
        return self.embed_query_batch([text])[0]

    def _batched(
        self, texts: Sequence[str], embed: Callable[[Sequence[str]], list[Vector]], on_batch: Callable[[int], None] | None
    ) -> list[Vector]:
        # Batches of similar length pad less: sorted, the same texts embed markedly faster.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[Vector] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for index, vector in zip(batch, embed([texts[i] for i in batch])):
                vectors[index] = vector
            if on_batch:
                on_batch(len(batch))
        return vectors
