"""The embedding seam: a backend embeds one batch; batching and the rest are shared."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

Vector = list[float]


class Embedder(ABC):
    """Turns texts into vectors. A backend implements ``embed_batch`` only."""

    name: str = "embedder"

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        """Embed at most ``batch_size`` texts, returning one normalised vector each."""

    def embed_documents(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> list[Vector]:
        # Batches of similar length pad less: sorted, the same texts embed markedly faster.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[Vector] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for index, vector in zip(batch, self.embed_batch([texts[i] for i in batch])):
                vectors[index] = vector
            if on_batch:
                on_batch(len(batch))
        return vectors

    def embed_query(self, text: str) -> Vector:
        return self.embed_batch([text])[0]
