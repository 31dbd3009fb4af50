"""The scores `enclave eval` reports, on hand-made cases whose right value is known.

SQuAD scoring must agree with the official v1.1 script (normalisation: lower
case, punctuation and the articles a/an/the removed, whitespace collapsed;
best score over the gold answers), or the numbers cannot be compared with
published ones. Failure modes covered: articles or punctuation counted,
a duplicated token counted twice in F1, the first gold answer used instead of
the best, ranks counted from 0, a gold document beyond the cut-off counted,
macro-F1 weighted by class size, an unreadable reply counted as right.
"""

from __future__ import annotations

import pytest

from assistant.store import ChunkOrigin, Hit
from enclave.evaluation.answers import parse_decision, strip_citations
from enclave.evaluation.datasets import Question
from enclave.evaluation.metrics import (
    accuracy,
    exact_match,
    macro_f1,
    normalize_answer,
    percentile,
    recall_at,
    reciprocal_rank,
    token_f1,
)
from enclave.evaluation.ranking import ranked_documents
from enclave.evaluation.runner import sample, sample_each_part


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Denver Broncos", "denver broncos"),
        ("Denver Broncos!", "denver broncos"),
        ("  an   apple, a pear ", "apple pear"),
        ("Theatre and anthem", "theatre and anthem"),  # articles only as whole words
        ("Santa Clara, California.", "santa clara california"),
        ("10–12", "10–12"),  # the en dash is not ASCII punctuation, as in the official script
    ],
)
def test_answers_are_normalised_like_the_official_squad_script(text, normalised):
    assert normalize_answer(text) == normalised


def test_exact_match_is_the_best_over_the_gold_answers():
    gold = ["Denver Broncos", "the Broncos"]

    assert exact_match("Broncos", gold) == 1.0
    assert exact_match("the denver broncos.", gold) == 1.0
    assert exact_match("Denver", gold) == 0.0
    assert exact_match("anything", []) == 0.0


def test_f1_counts_shared_tokens_once_each_and_keeps_the_best_gold_answer():
    # "denver broncos" vs "broncos": precision 1/2, recall 1/1 -> 2/3
    assert token_f1("Denver Broncos", ["Broncos"]) == pytest.approx(2 / 3)
    assert token_f1("Denver Broncos", ["Broncos", "Denver Broncos"]) == 1.0
    # "broncos broncos" shares one "broncos" with the gold: precision 1/2, recall 1
    assert token_f1("Broncos Broncos", ["Broncos"]) == pytest.approx(2 / 3)
    assert token_f1("Carolina Panthers", ["Denver Broncos"]) == 0.0
    assert token_f1("the", ["a"]) == 0.0  # nothing left after normalising


def test_recall_at_k_asks_whether_a_gold_document_is_within_the_first_k():
    ranking = ["d7", "d3", "d9", "d1", "d4", "d2"]

    assert recall_at(1, ranking, frozenset({"d7"})) == 1.0
    assert recall_at(1, ranking, frozenset({"d3"})) == 0.0
    assert recall_at(5, ranking, frozenset({"d4"})) == 1.0
    assert recall_at(5, ranking, frozenset({"d2"})) == 0.0
    assert recall_at(5, ranking, frozenset({"d2", "d9"})) == 1.0  # any of several gold documents


def test_reciprocal_rank_is_one_over_the_first_gold_rank_within_the_depth():
    ranking = [f"d{n}" for n in range(1, 13)]

    assert reciprocal_rank(ranking, frozenset({"d1"})) == 1.0
    assert reciprocal_rank(ranking, frozenset({"d4", "d2"})) == 0.5
    assert reciprocal_rank(ranking, frozenset({"d10"}), depth=10) == 0.1
    assert reciprocal_rank(ranking, frozenset({"d11"}), depth=10) == 0.0
    assert reciprocal_rank([], frozenset({"d1"})) == 0.0


def test_a_document_ranks_where_its_first_chunk_does():
    def hit(document: str, chunk: int) -> Hit:
        return Hit(f"{document}:{chunk}", "text", chunk, 0.5, ChunkOrigin(document, "T", "u", "s", "t"))

    hits = [hit("a", 0), hit("b", 2), hit("a", 1), hit("c", 0), hit("b", 0)]

    assert ranked_documents(hits) == ["a", "b", "c"]


def test_accuracy_and_macro_f1_over_yes_no_maybe():
    gold = ["yes", "yes", "yes", "yes", "no", "no", "maybe", "maybe"]
    predicted = ["yes", "yes", "yes", "no", "no", None, "yes", "maybe"]

    assert accuracy(predicted, gold) == 5 / 8
    # yes: tp 3, predicted 4, gold 4 -> 0.75; no: tp 1, predicted 2, gold 2 -> 0.5;
    # maybe: tp 1, predicted 1, gold 2 -> 2/3. Unweighted mean, whatever each class's size:
    assert macro_f1(predicted, gold, ["yes", "no", "maybe"]) == pytest.approx((0.75 + 0.5 + 2 / 3) / 3)
    # A label never predicted nor expected scores 0, it is not skipped.
    assert macro_f1(["yes"], ["yes"], ["yes", "no"]) == 0.5


def test_percentiles_interpolate_between_ranks():
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


@pytest.mark.parametrize(
    ("reply", "decision"),
    [
        ("Yes. The study shows a clear benefit [1].", "yes"),
        ("no, the trial found no difference", "no"),
        ("Maybe: the evidence is mixed [1, 2].", "maybe"),
        ("The results suggest yes, although the sample is small.", "yes"),
        ("I could not find that in the documents.", None),
        ("Yesterday's data is unclear.", None),  # words, not substrings
    ],
)
def test_a_yes_no_maybe_reply_is_read_from_its_first_decision_word(reply, decision):
    assert parse_decision(reply) == decision


def test_citation_markers_are_removed_before_scoring():
    assert strip_citations("Denver Broncos [1].") == "Denver Broncos."
    assert strip_citations("It was [2, 3] in 1987 [1]") == "It was in 1987"


def test_a_limited_sample_is_the_same_every_time_and_keeps_the_dataset_order():
    items = list(range(1000))

    first, again = sample(items, 50), sample(items, 50)

    assert first == again == sorted(first)
    assert len(set(first)) == 50
    assert sample(items, None) == items
    assert sample(items, 5000) == items


def test_a_judged_sample_holds_each_part_however_few_its_questions():
    questions = [Question(f"q{i}", split="tune") for i in range(100)]
    questions[40:43] = [Question(f"v{i}", split="validation") for i in range(3)]
    questions[97:] = [Question(f"h{i}", split="holdout") for i in range(3)]

    three, five = sample_each_part(questions, 3), sample_each_part(questions, 5)

    assert {q.split for q in three} == {q.split for q in five} == {"tune", "validation", "holdout"}
    assert (len(three), len(five)) == (3, 5)
    assert sample_each_part(questions, 5) == five == sorted(five, key=questions.index)
    assert len(set(q.text for q in five)) == 5
    assert sample_each_part(questions, None) == sample_each_part(questions, 500) == questions
