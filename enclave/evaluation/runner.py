"""One evaluation: index the corpus if it brings one, rank documents for every question in each
search mode, and, when asked, have the LLM answer a fixed sample of questions."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..folders import ingest_paths
from ..runtime import Runtime
from .answers import evaluate_answers
from .datasets import Dataset, Question
from .judged import evaluate_judged
from .progress import Tracker, no_progress
from .ranking import document_keys, evaluate_retrieval, gold_documents
from .scratch import index_corpus

# The sample behind --limit and --answer-limit: fixed, so numbers compare between runs and commits.
SEED = 6
T = TypeVar("T")


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


def sample_each_part(questions: Sequence[Question], limit: int | None) -> list[Question]:
    """A judged set's fixed sample, which holds a question of each part (tune, validation, holdout) when
    ``limit`` allows, as each part is reported apart; the rest drawn from all alike. In their original order."""
    if limit is None or limit >= len(questions):
        return list(questions)
    parts: dict[str, list[int]] = defaultdict(list)
    for index, question in enumerate(questions):
        parts[question.split].append(index)
    draw = random.Random(SEED)
    one_each = [draw.choice(indexes) for indexes in parts.values()][:limit]
    others = [i for i in range(len(questions)) if i not in one_each]
    return [questions[i] for i in sorted(one_each + sample(others, limit - len(one_each)))]


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
        indexed = index_corpus(runtime.sink, dataset.name, dataset.corpus, advance)
        seconds["indexing"] = time.perf_counter() - started
    elif dataset.corpus_folder is not None:
        started = time.perf_counter()
        indexed = len(ingest_paths(runtime.sink, [dataset.corpus_folder]).added)
        seconds["indexing"] = time.perf_counter() - started

    questions = sample(dataset.questions, limit)
    documents = document_keys(runtime)
    started = time.perf_counter()
    retrieval = evaluate_retrieval(runtime.assistant, questions, [gold_documents(q, documents) for q in questions], track)
    seconds["retrieval"] = time.perf_counter() - started
    result = Result(dataset.name, len(documents.ids), len(questions), retrieval, indexed=indexed, seconds=seconds)

    if with_answers:
        started = time.perf_counter()
        if dataset.answer_kind == "judged":
            chosen = sample_each_part(dataset.answer_pool, answer_limit)
            result.answers = evaluate_judged(runtime.assistant, chosen, track)
        else:
            chosen = sample(dataset.answer_pool, answer_limit)
            result.answers = evaluate_answers(runtime.assistant, chosen, dataset.answer_kind, track)
        seconds["answers"] = time.perf_counter() - started
    return result
