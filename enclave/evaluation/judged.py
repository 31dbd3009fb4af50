"""Answers judged as an employee would judge them: right and cited, or honest.

Each question has a kind. An *answerable* one is right when the answer states
the expected fact, cites the document holding it, and does not open by saying
the documents do not say. A *false-premise* one ("Do new employees get 35
vacation days?") is right when it states the true fact and cites its document
(it may open by saying the documents do not say that). The others,
*look-answerable* (built to seem answerable: a swapped name, a shifted date) and
*unanswerable*, are honest when the first sentence says the documents do not say,
and the answer, outside what it quotes, states no figure or name that is not in
the question. In every answer, a marker that names no listed source counts
against it.
"""

from __future__ import annotations

import re
from collections import defaultdict

from assistant import facts, prompts
from assistant.rag import Answer, Assistant, cited_numbers, without_markers

from .answers import latency, timed_answer
from .datasets import Question
from .progress import Tracker, no_progress

# tune: looked at while building; validation: only to choose between ways that work on tune; holdout: reported.
SPLITS = ("tune", "validation", "holdout")
ANSWERED_KINDS = ("answerable", "false_premise")
HONEST_KINDS = ("look_answerable", "unanswerable")
_QUOTED = re.compile(r"“[^”]*”")
_REFUSAL = re.compile(
    r"\b(?:do(?:es)? not (?:say|mention|state|specify)|not (?:mentioned|stated|specified)|no information|"
    r"(?:couldn't|could not|cannot|can't) (?:find|answer))\b",
    re.I,
)
# Enclave's own fixed sentences: their words are no invented facts.
_OWN_WORDS = facts.facts(" ".join([prompts.NOTHING_FOUND, prompts.NOT_SAID, prompts.CLOSEST, prompts.NOT_SAID_THAT, prompts.QUOTED]))


def not_said_at_first(text: str) -> bool:
    """Whether a reply's first sentence says the documents do not say (or that nothing was found)."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return bool(_REFUSAL.search(first))


def dangling_markers(answer: Answer) -> int:
    """Markers in the answer that name no listed source."""
    listed = {c.number for c in answer.sources}
    return sum(1 for n in cited_numbers(answer.text) if n not in listed)


def judge(question: Question, answer: Answer) -> dict:
    cited_files = [c.hit.origin.title for c in answer.sources]
    text = answer.text.lower()
    states_fact = any(expected.lower() in text for expected in question.answers)
    record = {
        "question": question.text, "kind": question.kind, "split": question.split, "answer": answer.text,
        "outcome": answer.outcome, "cited": cited_files, "dangling_markers": dangling_markers(answer),
    }  # fmt: skip
    if question.kind in ANSWERED_KINDS:
        refused = question.kind == "answerable" and not_said_at_first(answer.text)
        record["right"] = states_fact and question.file in cited_files and not refused and not record["dangling_markers"]
    else:
        unquoted = without_markers(_QUOTED.sub(" ", answer.text))
        invented = facts.facts(unquoted) - facts.facts(question.text) - _OWN_WORDS
        record["invented"] = sorted(invented)
        record["right"] = not_said_at_first(answer.text) and not invented and not record["dangling_markers"]
    return record


def evaluate_judged(assistant: Assistant, questions: list[Question], track: Tracker = no_progress) -> dict:
    advance = track("Answering", len(questions))
    records, timings = [], []
    for question in questions:
        timed = timed_answer(assistant, question.text)
        record = judge(question, timed.answer)
        record["seconds"] = round(timed.total_s, 2)
        records.append(record)
        if not timed.answer.found_nothing:
            timings.append(timed)
        advance(1)
    return {
        "questions": len(records),
        "splits": {split: summary(part) for split in SPLITS if (part := [r for r in records if r["split"] == split])},
        "all": summary(records),
        "latency_s": latency(timings),
        "replies": records,
    }


def summary(records: list[dict]) -> dict:
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for record in records:
        by_kind[record["kind"]].append(record["right"])
    answered = [r["right"] for r in records if r["kind"] in ANSWERED_KINDS]
    honest = [r["right"] for r in records if r["kind"] in HONEST_KINDS]
    return {
        "questions": len(records),
        "right_and_cited": _share(answered),
        "honest": _share(honest),
        "dangling_markers": sum(r["dangling_markers"] for r in records),
        "by_kind": {kind: {"questions": len(v), "right": _share(v)} for kind, v in sorted(by_kind.items())},
    }


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None

