"""Scores: retrieval (recall@k, reciprocal rank), SQuAD answers (exact match, F1), labels (accuracy, macro-F1).

The SQuAD functions follow the official v1.1 evaluation script: both texts are
normalised (lower case, no punctuation, no articles, single spaces), then
compared whole (exact match) or as bags of tokens (F1), keeping the best score
over the gold answers.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold_answers: Sequence[str]) -> float:
    return max((float(normalize_answer(prediction) == normalize_answer(g)) for g in gold_answers), default=0.0)


def token_f1(prediction: str, gold_answers: Sequence[str]) -> float:
    return max((_f1(normalize_answer(prediction).split(), normalize_answer(g).split()) for g in gold_answers), default=0.0)


def _f1(predicted: list[str], gold: list[str]) -> float:
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def recall_at(k: int, ranking: Sequence[str], gold: frozenset[str]) -> float:
    """1 when a gold document is among the first ``k`` of ``ranking``."""
    return float(any(d in gold for d in ranking[:k]))


def reciprocal_rank(ranking: Sequence[str], gold: frozenset[str], depth: int = 10) -> float:
    """1/rank of the first gold document within ``depth``, else 0."""
    return next((1.0 / rank for rank, d in enumerate(ranking[:depth], start=1) if d in gold), 0.0)


def accuracy(predicted: Sequence[str | None], gold: Sequence[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold)) / len(gold) if gold else 0.0


def macro_f1(predicted: Sequence[str | None], gold: Sequence[str], labels: Sequence[str]) -> float:
    """The unweighted mean of each label's F1; an unreadable prediction (None) is wrong for its question."""
    scores = []
    for label in labels:
        true_positive = sum(p == label and g == label for p, g in zip(predicted, gold))
        predicted_count, gold_count = sum(p == label for p in predicted), sum(g == label for g in gold)
        scores.append(2 * true_positive / (predicted_count + gold_count) if predicted_count + gold_count else 0.0)
    return sum(scores) / len(scores)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
