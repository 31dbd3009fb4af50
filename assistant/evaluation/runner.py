"""One evaluation: index the corpus if it brings one, rank documents for every question in each
search mode, and, when asked, have the LLM answer a fixed sample of questions."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select

from assistant.access import Viewer
from assistant.db.models import Document
from assistant.errors import ConfigurationError
from assistant.rag import Answer, Assistant, Token
from assistant.retrieval import Mode
from assistant.runtime import Runtime
from assistant.store import Hit

from . import metrics
from .datasets import Dataset, Question
from .scratch import index_corpus

# The sample behind --limit and --answer-limit: fixed, so numbers compare between runs and commits.
SEED = 6
# MRR@10 ranks the documents of the first ten chunks; a document split into several chunks can leave
# fewer than ten, which is rare in the benchmarks (one short paragraph or abstract each) and only lowers it.
RANKING_DEPTH = 10
MODES: tuple[Mode, ...] = ("keyword", "dense", "hybrid")  # the parts, then the whole
DECISIONS = ("yes", "no", "maybe")
DECISION_PROMPT = "\nAnswer yes, no or maybe first, then explain in one sentence."
OPERATOR = Viewer.operator()
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_DECISION = re.compile(r"\b(yes|no|maybe)\b")

# start(label, total) -> advance(n): how the run shows its progress (a progress bar in the CLI).
Tracker = Callable[[str, int], Callable[[int], None]]
T = TypeVar("T")


def no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class Result:
    dataset: str
    documents: int
    questions: int
    retrieval: dict[str, dict[str, float]]
    answers: dict | None = None
    indexed: int = 0  # corpus documents (re)indexed by this run: 0 when the scratch index was reused
    seconds: dict[str, float] = field(default_factory=dict)


def sample(items: Sequence[T], limit: int | None) -> list[T]:
    """``limit`` items drawn with the fixed seed, in their original order; all of them without a limit."""
    if limit is None or limit >= len(items):
        return list(items)
    chosen = sorted(random.Random(SEED).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


def run(
    dataset: Dataset,
    runtime: Runtime,
    limit: int | None = None,
    answer_limit: int | None = None,
    with_answers: bool = False,
    track: Tracker = no_progress,
) -> Result:
    seconds, indexed = {}, 0
    if dataset.corpus is not None:
        started = time.perf_counter()
        advance = track("Indexing the corpus", len(dataset.corpus))
        indexed = index_corpus(runtime.indexer, dataset.name, dataset.corpus, advance)
        seconds["indexing"] = time.perf_counter() - started

    questions = sample(dataset.questions, limit)
    documents = _document_keys(runtime)
    started = time.perf_counter()
    retrieval = evaluate_retrieval(runtime.assistant, questions, [gold_documents(q, documents) for q in questions], track)
    seconds["retrieval"] = time.perf_counter() - started
    result = Result(dataset.name, len(documents.ids), len(questions), retrieval, indexed=indexed, seconds=seconds)

    if with_answers:
        started = time.perf_counter()
        chosen = sample(dataset.answer_pool, answer_limit)
        result.answers = evaluate_answers(runtime.assistant, chosen, dataset.answer_kind, track)
        seconds["answers"] = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class DocumentKeys:
    """Every indexed document's id under each name a dataset may use for it."""

    ids: set[str]
    by_external_id: dict[str, set[str]]
    by_uri: dict[str, set[str]]


def _document_keys(runtime: Runtime) -> DocumentKeys:
    keys = DocumentKeys(set(), {}, {})
    with runtime.sessions() as session:
        for doc_id, external_id, uri in session.execute(select(Document.id, Document.external_id, Document.uri)):
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
    vectors = assistant.retriever.embedder.embed_documents(texts, on_batch=track("Embedding questions", len(texts)))
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


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text).strip()


def parse_decision(text: str) -> str | None:
    """The first yes, no or maybe in a reply ("Yes. The study shows…" -> "yes"); None when it has none."""
    found = _DECISION.search(text.lower())
    return found.group(1) if found else None


@dataclass
class Timed:
    answer: Answer
    first_token_s: float
    total_s: float


def timed_answer(assistant: Assistant, question: str) -> Timed:
    started = time.perf_counter()
    first_token = None
    for event in assistant.ask(question, OPERATOR):
        if isinstance(event, Token) and first_token is None:
            first_token = time.perf_counter() - started
        elif isinstance(event, Answer):
            return Timed(event, first_token or 0.0, time.perf_counter() - started)
    raise AssertionError("ask() ends with an Answer")


def evaluate_answers(assistant: Assistant, questions: list[Question], kind: str, track: Tracker = no_progress) -> dict:
    advance = track("Answering", len(questions))
    records, timings = [], []
    for question in questions:
        asked = question.text + (DECISION_PROMPT if kind == "yes_no_maybe" else "")
        timed = timed_answer(assistant, asked)
        reply = strip_citations(timed.answer.text)
        record = {"question": question.text, "gold": list(question.answers), "reply": reply, "found_nothing": timed.answer.found_nothing}
        if kind == "yes_no_maybe":
            record["decision"] = parse_decision(reply)
        else:
            record["exact_match"] = metrics.exact_match(reply, question.answers)
            record["f1"] = metrics.token_f1(reply, question.answers)
        if not timed.answer.found_nothing:  # no model ran: its instant reply would flatter the latency
            timings.append(timed)
        records.append(record)
        advance(1)
    return {
        "questions": len(records),
        **(_decision_scores(records) if kind == "yes_no_maybe" else _span_scores(records)),
        "found_nothing": sum(r["found_nothing"] for r in records),
        "latency_s": _latency(timings),
        "replies": records,
    }


def _span_scores(records: list[dict]) -> dict:
    count = len(records) or 1
    return {"exact_match": sum(r["exact_match"] for r in records) / count, "f1": sum(r["f1"] for r in records) / count}


def _decision_scores(records: list[dict]) -> dict:
    predicted, gold = [r["decision"] for r in records], [r["gold"][0] for r in records]
    return {
        "accuracy": metrics.accuracy(predicted, gold),
        "macro_f1": metrics.macro_f1(predicted, gold, DECISIONS),
        "unreadable": sum(p is None for p in predicted),
    }


def _latency(timings: list[Timed]) -> dict:
    first, total = [t.first_token_s for t in timings], [t.total_s for t in timings]
    return {
        "answered": len(timings),
        "first_token_p50": metrics.percentile(first, 50),
        "first_token_p95": metrics.percentile(first, 95),
        "total_p50": metrics.percentile(total, 50),
        "total_p95": metrics.percentile(total, 95),
    }
