"""A benchmark's corpus, indexed into a data directory of its own and reused while it still fits.

The folder, DATA_DIR/eval/<dataset>-<fingerprint>, is named after what shapes
the index (chunking and the embedding model), so changing a setting builds a
new index beside the old one instead of mixing both. The appliance's own
database and vector store (even a configured server) are never touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from assistant.config import Settings
from ingest.blobs import content_hash
from ingest.documents import SourceDocument
from ingest.index import Source

from ..sink import IngestionSink
from .datasets import CorpusDocument


def index_fingerprint(settings: Settings) -> str:
    shaping = [settings.chunk_size, settings.chunk_overlap, settings.embedding_url, settings.embedding_model]
    return hashlib.sha256(repr(shaping).encode()).hexdigest()[:10]


def scratch_settings(settings: Settings, dataset: str) -> Settings:
    folder = Path(settings.data_dir) / "eval" / f"{dataset}-{index_fingerprint(settings)}"
    return settings.model_copy(update={"data_dir": folder, "database_url": None, "chroma_url": None})


def source_for(dataset: str) -> Source:
    return Source(id=dataset, type="benchmark")


def index_corpus(
    sink: IngestionSink, dataset: str, corpus: list[CorpusDocument], on_indexed: Callable[[int], None] = lambda n: None
) -> int:
    """Index the documents that are new or changed; returns how many were (re)indexed.

    The unchanged ones are found with one query, not one sink call each,
    so a second run over an index that fits starts asking questions at once.
    """
    source = source_for(dataset)
    indexed = sink.documents.content_hashes(source.id)
    stale = [d for d in corpus if indexed.get(d.external_id) != content_hash(d.text.encode("utf-8"))]
    on_indexed(len(corpus) - len(stale))
    items = (SourceDocument(d.external_id, d.title, f"{dataset}:{d.external_id}", d.text, f"{d.external_id}.txt") for d in stale)
    for item, result in sink.index_many(source, items):
        if result.outcome == "failed":  # a benchmark document that cannot be indexed is a bug, not data
            raise RuntimeError(f"could not index {item.external_id}: {result.reason}")
        on_indexed(1)
    return len(stale)
