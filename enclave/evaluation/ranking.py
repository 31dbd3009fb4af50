"""Where search ranks the documents that answer each question, in each search mode, and the scores of it."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.access import Viewer
from assistant.errors import ConfigurationError
from assistant.rag import Assistant
from assistant.retrieval import Mode
from assistant.store import Hit

from ..runtime import Runtime
from . import metrics
from .datasets import Question
from .progress import Tracker, no_progress

# MRR@10 ranks the documents of the first ten chunks; a document split into several chunks can leave
# fewer than ten, which is rare in the benchmarks (one short paragraph or abstract each) and only lowers it.
RANKING_DEPTH = 10
MODES: tuple[Mode, ...] = ("keyword", "dense", "hybrid")  # the parts, then the whole
OPERATOR = Viewer.operator()


@dataclass(frozen=True)
class DocumentKeys:
    """Every indexed document's id under each name a dataset may use for it."""

    ids: set[str]
    by_external_id: dict[str, set[str]]
    by_uri: dict[str, set[str]]


def document_keys(runtime: Runtime) -> DocumentKeys:
    keys = DocumentKeys(set(), {}, {})
    for doc_id, external_id, uri in runtime.documents.keys():
        keys.ids.add(doc_id)
        keys.by_external_id.setdefault(external_id, set()).add(doc_id)
        keys.by_uri.setdefault(uri, set()).add(doc_id)
    return keys


def gold_documents(question: Question, documents: DocumentKeys) -> frozenset[str]:
    """The ids of the documents that answer ``question``; a gold reference that matches no
    indexed document is an error, since every search would count as a miss."""
    found: set[str] = set()
    for reference in question.gold_ids:
        matches = ({reference} & documents.ids) | documents.by_external_id.get(reference, set())
        found |= _required(matches, "gold_ids", reference, question)
    for uri in question.gold_uris:
        found |= _required(documents.by_uri.get(uri, set()), "gold_uris", uri, question)
    return frozenset(found)


def _required(matches: set[str], key: str, reference: str, question: Question) -> set[str]:
    if not matches:
        raise ConfigurationError(
            f"{key} {reference!r} (of {question.text!r}) matches no indexed document; "
            "index it first (`enclave ingest PATH`) or fix the reference"
        )
    return matches


def ranked_documents(hits: list[Hit]) -> list[str]:
    """Document ids in the order their first chunk appears."""
    return list(dict.fromkeys(h.origin.document_id for h in hits))


def evaluate_retrieval(
    assistant: Assistant, questions: list[Question], gold: list[frozenset[str]], track: Tracker = no_progress
) -> dict[str, dict[str, float]]:
    texts = [q.text for q in questions]
    # Embedded once, in large batches, and shared by every mode: the bulk of a run's time otherwise.
    vectors = assistant.retriever.embedder.embed_queries(texts, on_batch=track("Embedding questions", len(texts)))
    scores = {}
    for mode in MODES:
        advance = track(f"Searching ({mode})", len(texts))
        rankings = []
        for text, vector in zip(texts, vectors):
            rankings.append(ranked_documents(assistant.search(text, OPERATOR, RANKING_DEPTH, mode, vector)))
            advance(1)
        scores[mode] = retrieval_scores(rankings, gold)
    return scores


def retrieval_scores(rankings: list[list[str]], gold: list[frozenset[str]]) -> dict[str, float]:
    count = len(rankings) or 1
    return {
        "recall@1": sum(metrics.recall_at(1, r, g) for r, g in zip(rankings, gold)) / count,
        "recall@5": sum(metrics.recall_at(5, r, g) for r, g in zip(rankings, gold)) / count,
        "mrr@10": sum(metrics.reciprocal_rank(r, g, RANKING_DEPTH) for r, g in zip(rankings, gold)) / count,
    }
