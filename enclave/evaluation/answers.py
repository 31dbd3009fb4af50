"""The LLM's answers to a sample of questions, through the normal pipeline, scored and timed."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from assistant.rag import Answer, Assistant, Token

from . import metrics
from .datasets import AnswerKind, Question
from .progress import Tracker, no_progress
from .ranking import OPERATOR

DECISIONS = ("yes", "no", "maybe")
# What each dataset's gold answers look like, told to the model the way a user
# would ask: SQuAD's gold answers are short spans of the passage, not sentences.
ANSWER_FORMAT = {
    "yes_no_maybe": "\nAnswer yes, no or maybe first, then explain in one sentence.",
    "span": "\nAnswer with only the few words from the sources that answer it, not a sentence.",
}
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_DECISION = re.compile(r"\b(yes|no|maybe)\b")


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


def evaluate_answers(assistant: Assistant, questions: list[Question], kind: AnswerKind, track: Tracker = no_progress) -> dict:
    advance = track("Answering", len(questions))
    records, timings = [], []
    for question in questions:
        asked = question.text + ANSWER_FORMAT[kind]
        timed = timed_answer(assistant, asked)
        reply = strip_citations(timed.answer.text)
        record = {
            "question": question.text, "gold": list(question.answers), "reply": reply,
            "found_nothing": timed.answer.found_nothing,
        }  # fmt: skip
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
        "latency_s": latency(timings),
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


def latency(timings: list[Timed]) -> dict:
    first, total = [t.first_token_s for t in timings], [t.total_s for t in timings]
    return {
        "answered": len(timings),
        "first_token_p50": metrics.percentile(first, 50),
        "first_token_p95": metrics.percentile(first, 95),
        "total_p50": metrics.percentile(total, 50),
        "total_p95": metrics.percentile(total, 95),
    }
