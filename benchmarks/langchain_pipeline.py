"""The reference ingest: the pipeline tutorials teach, assembled from LangChain parts.

Unstructured's HTML loader per file → RecursiveCharacterTextSplitter(1000, 200)
→ Chroma.from_documents with HuggingFaceEmbeddings, on the same
all-MiniLM-L6-v2 folder Enclave uses. It runs in a process of its own
(``InOwnProcess``): Enclave's parser replaces unstructured's spaCy paragraph
typing with a cheaper one for the whole process it runs in, which would speed
up the reference too, and the reference is unstructured as shipped.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import assistant  # noqa: F401  (every library offline before LangChain loads them)

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200


class TutorialPipeline:
    """Indexes pages batch by batch into one Chroma store; ``seconds`` adds up each stage's time."""

    def __init__(self, persist_dir: Path, model_path: Path):
        from langchain_community.embeddings import HuggingFaceEmbeddings

        from ingest.parse import use_bundled_spacy_model

        # Offline, unstructured would download its spaCy model; it gets the installed one, as in Enclave.
        use_bundled_spacy_model()
        # The maintained class lives in langchain-huggingface, which pins huggingface_hub below the
        # version Enclave runs on; the community class is the same code, only deprecated.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.embeddings = HuggingFaceEmbeddings(model_name=str(model_path))
        self.persist_dir = persist_dir
        self.store = None
        self.chunks = 0
        self.seconds = {"load": 0.0, "split": 0.0, "embed_and_store": 0.0}

    def add(self, pages: list[Path]) -> None:
        from langchain_chroma import Chroma
        from langchain_community.document_loaders import UnstructuredHTMLLoader
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        started = time.perf_counter()
        documents = [document for page in pages for document in UnstructuredHTMLLoader(str(page)).load()]
        loaded = time.perf_counter()
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        chunks = splitter.split_documents(documents)
        split = time.perf_counter()
        if self.store is None:
            self.store = Chroma.from_documents(chunks, self.embeddings, persist_directory=str(self.persist_dir))
        else:
            self.store.add_documents(chunks)
        stored = time.perf_counter()
        self.chunks += len(chunks)
        self.seconds["load"] += loaded - started
        self.seconds["split"] += split - loaded
        self.seconds["embed_and_store"] += stored - split

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def search(self, question: str, k: int) -> list[str]:
        """The page names of the ``k`` best chunks."""
        return [Path(d.metadata["source"]).name for d in self.store.similarity_search(question, k=k)]


_pipeline: TutorialPipeline | None = None  # the one in the worker process


def _start(persist_dir: Path, model_path: Path) -> None:
    global _pipeline
    _pipeline = TutorialPipeline(persist_dir, model_path)


def _add(pages: list[Path]) -> None:
    _pipeline.add(pages)


def _search(question: str, k: int) -> list[str]:
    return _pipeline.search(question, k)


def _totals() -> tuple[int, dict[str, float]]:
    return _pipeline.chunks, dict(_pipeline.seconds)


class InOwnProcess:
    """A TutorialPipeline in a fresh (spawned) process, driven one call at a time; the model loads before
    the first call returns, so no clock counts it."""

    def __init__(self, persist_dir: Path, model_path: Path):
        self._worker = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(persist_dir, model_path)
        )
        self._worker.submit(_totals).result()

    def add(self, pages: list[Path]) -> None:
        self._worker.submit(_add, pages).result()

    def search(self, question: str, k: int) -> list[str]:
        return self._worker.submit(_search, question, k).result()

    @property
    def chunks(self) -> int:
        return self._worker.submit(_totals).result()[0]

    @property
    def seconds(self) -> dict[str, float]:
        return self._worker.submit(_totals).result()[1]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())
