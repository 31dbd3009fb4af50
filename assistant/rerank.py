"""The reranking seam: a second, finer look at the fused candidates before the top-k is cut.

A cross-encoder reads the question and each candidate together, which ranks
better than comparing two separately made vectors, at a cost per candidate.
None ships with Enclave; set ``reranker_model`` to a sentence-transformers
cross-encoder folder to switch one on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from assistant.store import Hit


class Reranker(ABC):
    @abstractmethod
    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """``hits`` reordered, best match for ``query`` first."""


class CrossEncoderReranker(Reranker):
    def __init__(self, model_path: Path):
        from sentence_transformers import CrossEncoder

        if not model_path.is_dir():
            raise FileNotFoundError(f"reranker model folder {model_path} does not exist")
        self.model = CrossEncoder(str(model_path), device="cpu")

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return []
        scores = self.model.predict([(query, hit.text) for hit in hits], show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: float(scores[i]), reverse=True)
        return [hits[i] for i in order]
