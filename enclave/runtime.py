"""The composition root: builds each component from the settings once, on first use.

The CLI and the server both work through a Runtime, so search never loads the
LLM and `enclave status` never loads the embedder.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import cached_property

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from assistant import egress, language
from assistant.catalog import default_model_name, separate_check_model
from assistant.config import Settings
from assistant.db import engine_for, session_factory
from assistant.embeddings import Embedder, get_embedder
from assistant.expansion import PassageWriter
from assistant.llm import LLM, get_llm
from assistant.priority import PRIORITY
from assistant.rag import Assistant
from assistant.rerank import CrossEncoderReranker, Reranker
from assistant.retrieval import Retriever
from assistant.store import Chunk, VectorStore, get_store
from assistant.store.keywords import KeywordIndex, keyword_index_for
from assistant.store.lock import IndexWrites, LockMode, lock_index
from ingest.blobs import BlobStore
from ingest.containers import MB, Limits
from ingest.index import Indexer
from ingest.ocr import OcrOptions

from .data_dir import database_location, opening
from .documents import DocumentsRepository
from .identity.oidc import OidcClient
from .sink import IngestionSink

INDEX_WRITES_LOCK = "index-writes.lock"
ANSWERING_LOCK = "answering.lock"  # held shared by each process answering: background embedding waits for it
CHECK_CONTEXT = 2048  # the check model's context, in tokens: it reads a question and one sentence


def rebuild_keywords(keywords: KeywordIndex, store: VectorStore) -> int:
    """Index every chunk of the vector store for keyword search again; returns how many. Chunks stored
    before languages were told apart get their document's language, detected from its first chunks."""
    chunks = list(store.stored_chunks())
    by_document: dict[str, list[Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: c.position):
        by_document.setdefault(chunk.origin.document_id, []).append(chunk)
    detected = {
        document_id: language.of_document("\n".join(c.text for c in own[:4]))
        for document_id, own in by_document.items()
        if not own[0].language
    }
    chunks = [replace(c, language=detected[c.origin.document_id]) if not c.language else c for c in chunks]
    for start in range(0, len(chunks), 2000):
        keywords.add(chunks[start : start + 2000])
    return len(chunks)


class Runtime:
    """``index_lock`` says how this process uses an embedded index: the server and
    write commands take it exclusively, read commands share it, and library
    use (tests, scripts) takes no lock."""

    def __init__(self, settings: Settings, model: str | None = None, index_lock: LockMode | None = None):
        self.settings = settings
        # At the composition root, so every entry point (server, CLI, scripts) is guarded before it connects.
        egress.install(settings)
        PRIORITY.share(settings.data_dir / ANSWERING_LOCK)  # web and worker processes of this appliance
        self.model = model
        self.index_lock = index_lock
        self._llm: LLM | None = None
        self._checker: LLM | None = None
        self._llm_lock = threading.Lock()

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        url = self.settings.effective_database_url
        with opening("the database", database_location(url)):
            return session_factory(url)

    def open_storage(self) -> None:
        """Open the database, the keyword index and the vector store now, and read each once; raises
        StorageFailure naming the one that cannot be used."""
        url = self.settings.effective_database_url
        with opening("the database", database_location(url)):
            with self.sessions() as session:
                session.execute(text("SELECT count(*) FROM documents"))
            self.keywords.count()
        with opening("the index", self.settings.chroma_url or self.settings.chroma_path.resolve()):
            self.store.count()

    @cached_property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        location = self.settings.chroma_url or self.settings.chroma_path.resolve()
        with opening("the index", location):
            if self.index_lock and not self.settings.chroma_url:
                lock_index(self.settings.chroma_path, self.index_lock)
            return get_store(self.settings)

    @cached_property
    def keywords(self) -> KeywordIndex:
        url = self.settings.effective_database_url
        with opening("the database", database_location(url)):
            keywords = keyword_index_for(engine_for(url))
        if keywords.count() == 0 and self.store.count():
            # Chunks indexed before the keyword half existed (an upgrade): index them once, from the store.
            with self.index_writes.held():
                rebuild_keywords(keywords, self.store)
        return keywords

    @cached_property
    def reranker(self) -> Reranker | None:
        return CrossEncoderReranker(self.settings.reranker_model) if self.settings.reranker_model else None

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(
            self.embedder, self.store, self.keywords, self.reranker, rerank_candidates=self.settings.rerank_candidates,
            rank_by_document=self.settings.rank_by_document,
            expand=PassageWriter(self.checker) if self.settings.expand_queries else None,
        )

    @cached_property
    def index_writes(self) -> IndexWrites:
        return IndexWrites(self.settings.data_dir / INDEX_WRITES_LOCK)

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blobs_dir)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(
            self.embedder,
            self.store,
            self.keywords,
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
            ocr=OcrOptions(self.settings.ocr, self.settings.ocr_languages),
        )

    @cached_property
    def documents(self) -> DocumentsRepository:
        return DocumentsRepository(self.sessions)

    @cached_property
    def sink(self) -> IngestionSink:
        settings = self.settings
        limits = Limits(settings.archive_max_depth, settings.archive_max_files, settings.archive_max_mb * MB,
                        settings.archive_max_ratio)  # fmt: skip
        return IngestionSink(self.indexer, self.documents, self.blobs, self.index_writes, limits)

    @cached_property
    def oidc(self) -> OidcClient | None:
        """The company's OpenID provider, when ``oidc_issuer`` is set."""
        return OidcClient(self.settings, self.sessions) if self.settings.oidc_issuer else None

    def llm(self) -> LLM:
        with self._llm_lock:
            if self._llm is None:
                self._llm = get_llm(self.settings, self.model)
            return self._llm

    def checker(self) -> LLM:
        """The model that confirms answers (answer_check "facts+model"): check_model, run in-process, else the
        answering model."""
        name = separate_check_model(self.settings, self.model_name)
        if name is None:
            return self.llm()
        with self._llm_lock:
            if self._checker is None:
                # A question and one sentence: a small context keeps its buffers small.
                in_process = {"llm_backend": "llamacpp", "context_size": min(self.settings.context_size, CHECK_CONTEXT)}
                self._checker = get_llm(self.settings.model_copy(update=in_process), name)
            return self._checker

    @property
    def llm_loaded(self) -> bool:
        return self._llm is not None

    @property
    def model_name(self) -> str:
        """The model that answers: the loaded one's name, else the one that will load."""
        if self.llm_loaded:
            return self.llm().name
        if self.settings.llm_backend == "openai":
            return self.model or self.settings.model or f"the model served at {', '.join(self.settings.llm_url)}"
        return self.model or default_model_name(self.settings)

    @property
    def embedder_loaded(self) -> bool:
        return "embedder" in self.__dict__  # set by the cached_property once built

    @cached_property
    def assistant(self) -> Assistant:
        s = self.settings
        return Assistant(
            self.retriever,
            self.llm,
            top_k=s.top_k,
            min_relevance=s.min_relevance,
            relevance_margin=s.relevance_margin,
            max_answer_tokens=s.max_answer_tokens,
            temperature=s.temperature,
            source_tokens=s.source_tokens,
            answer_check=s.answer_check,
            evidence_sentences=s.evidence_sentences,
            checker=self.checker,
        )
