"""Retrieve → rank the evidence sentences → check the premise → write → check the answer → cite.
Sees only the embedder, store and LLM interfaces.

A wrong answer with a citation is worse than none: it looks checked. So every
answer is either written by the model from the best-matching sentences and
shown only once the sentence it rests on holds its figures and names (and the
question's own), or it is an honest "the documents do not say" that quotes the
closest sentences. Markers are added here, never taken from the model, so each
one names a listed source and points at the sentence the answer rests on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Literal

from assistant import asked, evidence, facts, language, prompts, retrieval
from assistant.access import Viewer
from assistant.embeddings import Vector
from assistant.evidence import Sentence
from assistant.llm import LLM, ChatMessage, GenerationOptions
from assistant.priority import PRIORITY
from assistant.retrieval import Retriever
from assistant.store import Hit

SNIPPET_CHARS = 300
QUOTES_SHOWN = 2  # closest sentences quoted when the documents do not say
WRITTEN_FROM = 3  # best sentences the model writes the answer from
FROM_EVIDENCE = 0.5  # share of what an answer adds to the question that its sentence must hold
CHECKED_CHARS = 4000  # of the sentence the check model reads: about 1,000 tokens, within its context
HEADING_WORDS = 8  # a line this short without a full stop heads what follows it
_YES_NO = frozenset({"yes", "no", "not"})
# The check model's probability that a sentence answers the question: from CONFIRMED a checked draft resting on
# it is shown; from SURE the sentence itself is quoted when both drafts failed (measured on the tune questions).
CONFIRMED = 0.3
SURE = 0.8
RELATED_SENTENCE = 0.5  # share of the best sentence's score a sentence needs to be about the question at all
CLOSER_IN_MEANING = 0.1  # cosine by which a hit must beat the first-ranked one to be read however far behind it is
RELATED_WORDS = 0.5  # share of the question's words a passage holding none of its meaning must share
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_MARKER = re.compile(r"\s*\[[^\]]*\]")
_FIGURE_UNIT = re.compile(r"\d(?:[.,]?\d)*\s*(%|€|\$|[a-z]+)", re.I)
_LEAD = re.compile(r"^(?:answer\s*:|(?:based on|according to) the (?:information|sentences?|passages?)[^,]*,)\s*", re.I)

# The two tries at a draft, each with the status shown meanwhile: written in the model's words, then copied.
_TRIES = ((prompts.answer_messages, prompts.WRITING), (prompts.extract_messages, prompts.RETRYING))

Outcome = Literal["answered", "quoted", "premise_corrected", "not_said", "nothing_found"]
AnswerCheck = Literal["facts", "facts+model"]


@dataclass(frozen=True)
class Citation:
    """A retrieved chunk as shown to people, under the number the answer uses for it, with the
    sentence of it the answer rests on (``quote``)."""

    number: int
    hit: Hit
    quote: str = ""

    def to_dict(self) -> dict:
        origin = self.hit.origin
        return {
            "n": self.number,
            "id": origin.document_id,
            "chunk_id": self.hit.chunk_id,
            "title": origin.title,
            "uri": origin.uri,
            "source_type": origin.source_type,
            "page": self.hit.page,
            "snippet": snippet(self.hit.text, self.quote),
            "quote": self.quote,
            "score": round(self.hit.score, 4),
        }


@dataclass
class Answer:
    question: str
    text: str = ""
    sources: list[Citation] = field(default_factory=list)
    found_nothing: bool = False
    standalone_question: str = ""
    search_query: str = ""
    outcome: Outcome = "answered"
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"answer": self.text, "sources": [s.to_dict() for s in self.sources]}


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Progress:
    """What the answering is doing now ("Checking the answer against the sources"), for a live status while
    nothing may be shown yet."""

    text: str


def snippet(text: str, around: str = "") -> str:
    """The passage shortened for display, keeping ``around`` (the quoted sentence) in view."""
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    start = max(0, text.find(around) - 40) if around and around in text else 0
    if start and start + SNIPPET_CHARS > len(text):
        start = max(0, len(text) - SNIPPET_CHARS)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    cut = text[start : start + SNIPPET_CHARS - 1].rsplit(" ", 1)[0]
    return ("…" if start else "") + cut + "…"


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as [n] or [n, m], in order of first appearance."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for number in (int(n) for n in group.split(",")):
            if number not in seen:
                seen.append(number)
    return seen


def without_markers(text: str) -> str:
    """The model's text with any bracketed marker it wrote taken out: Enclave adds the true ones."""
    return _MARKER.sub("", text).strip()


@dataclass
class _Drafting:
    """What one question's answering has found so far: the makings of its provenance."""

    hits: list[Hit]
    sentences: list[Sentence] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    asked_in: str = language.DEFAULT  # the question's language, which the answer is written in
    generated: int = 0  # pieces (tokens) the model wrote for the drafts
    confidence: dict[str, float] = field(default_factory=dict)  # the check model's P(yes) for each sentence it read


class Assistant:
    def __init__(
        self,
        retriever: Retriever,
        llm: Callable[[], LLM],
        top_k: int = 5,
        min_relevance: float = 0.12,
        relevance_margin: float = 0.2,
        max_answer_tokens: int = 128,
        temperature: float = 0.0,
        source_tokens: int = 4096,
        answer_check: AnswerCheck = "facts",
        evidence_sentences: int = evidence.CANDIDATES,
        checker: Callable[[], LLM] | None = None,
    ):
        self.retriever = retriever
        self._llm = llm  # loaded on first use: search needs no model
        self._checker = checker or llm  # the model that confirms answers (answer_check "facts+model")
        self.top_k = top_k
        self.min_relevance = min_relevance
        self.relevance_margin = relevance_margin
        self.options = GenerationOptions(max_tokens=max_answer_tokens, temperature=temperature)
        self.source_tokens = source_tokens
        self.answer_check = answer_check
        self.evidence_sentences = evidence_sentences

    @property
    def llm(self) -> LLM:
        return self._llm()

    def search(
        self,
        query: str,
        viewer: Viewer,
        k: int | None = None,
        mode: retrieval.Mode = "hybrid",
        embedding: Vector | None = None,
    ) -> list[Hit]:
        return self.retriever.search(query, viewer, k or self.top_k, mode, embedding)

    def standalone(self, question: str, history: Sequence[ChatMessage], cancel: threading.Event | None = None) -> str:
        """A follow-up rewritten so retrieval can understand it without the conversation."""
        if not history:
            return question
        recent = list(history)[-6:]
        rewritten = "".join(
            self.llm.stream(prompts.condense_messages(question, recent), GenerationOptions(64, 0.0, ("\n",)), cancel)
        ).strip()
        return rewritten or question

    def ask(
        self,
        question: str,
        viewer: Viewer,
        history: Sequence[ChatMessage] = (),
        k: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Progress | Token | Answer]:
        """Yield Progress while it works, the checked answer's text as a Token, then the finished Answer.

        The model's drafts are never streamed: a draft that fails its check would already be on the
        asker's screen (and, through the OpenAI-compatible API, in a client that cannot take it back)."""
        with PRIORITY.interactive():  # background embedding waits until this answer is done
            answer = Answer(question=question)
            yield Progress(prompts.SEARCHING)
            answer.standalone_question = self.standalone(question, history, cancel)
            answer.search_query = retrieval.with_context(answer.standalone_question, history)
            embedding = self.retriever.embedder.embed_query(answer.search_query)
            hits = self._relevant(self.search(answer.search_query, viewer, k, embedding=embedding), answer.search_query)
            same_query = answer.search_query == answer.standalone_question
            yield from self.answer_from(answer, hits, viewer, cancel, embedding if same_query else None)

    def answer_from(
        self,
        answer: Answer,
        hits: list[Hit],
        viewer: Viewer,
        cancel: threading.Event | None = None,
        embedding: Vector | None = None,
    ) -> Iterator[Progress | Token | Answer]:
        """The answering after retrieval, from these hits (also how a stored answer is replayed);
        ``embedding`` is the standalone question's, when already made."""
        question = answer.standalone_question or answer.question
        drafting = _Drafting(hits)
        if not hits:
            answer.found_nothing, answer.outcome, answer.text = True, "nothing_found", prompts.NOTHING_FOUND
        else:
            yield from self._answer(answer, question, drafting, viewer, cancel, embedding)
        yield Token(answer.text)
        answer.provenance = self._provenance(answer, drafting)
        yield answer

    def replay(self, provenance: dict) -> Answer:
        """Answer a stored answer's question again from the chunks it was answered from, with the settings
        it recorded (the model is the caller's choice: the runtime's)."""
        recorded = Assistant(self.retriever, self._llm, checker=self._checker, **provenance["settings"])
        question = provenance["question"]
        ids = [r["chunk_id"] for r in provenance["retrieved"]]
        embedding = self.retriever.embedder.embed_query(question)
        found = {h.chunk_id: h for h in self.retriever.store.fetch(ids, embedding, Viewer.operator())}
        fused = {r["chunk_id"]: r.get("fused") for r in provenance["retrieved"]}
        hits = [replace(found[i], fused=fused[i]) for i in ids if i in found]
        answer = Answer(question=question, standalone_question=question, search_query=question)
        for event in recorded.answer_from(answer, hits, Viewer.operator(), embedding=embedding):
            if isinstance(event, Answer):
                return event
        raise AssertionError("answer_from() ends with an Answer")

    def answer(self, question: str, viewer: Viewer, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        for event in self.ask(question, viewer, history, k):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask() ends with an Answer")

    def _answer(
        self, answer: Answer, question: str, drafting: _Drafting, viewer: Viewer, cancel, embedding
    ) -> Iterator[Progress]:
        hits = drafting.hits = self._fit_to_context(question, drafting.hits)
        if embedding is None:
            embedding = self.retriever.embedder.embed_query(question)
        sentences = drafting.sentences = evidence.candidates(
            question, embedding, hits, self.retriever.embedder, self.evidence_sentences
        )
        if not sentences:
            drafting.verdict = {"evidence": "none"}
            _not_said(answer, [], hits)
            return
        kind = asked.kind_asked(question)
        focus = _focus(question, sentences, kind)
        gaps = premise_gaps(question, _window(focus, hits), _context(hits[focus.source]))
        if gaps:
            drafting.verdict = {"premise": "unsupported", "missing": sorted(gaps)}
            _correct_premise(answer, gaps, _what_is_said(gaps, focus, sentences, question), hits)
            return
        others = [s for s in sentences if s is not focus]
        giving_first = sorted(others, key=lambda s: not _gives(s, kind, question, sentences[0]))
        shown = [focus, *giving_first][:WRITTEN_FROM]
        drafting.asked_in = language.of_question(question, self.retriever.languages())
        written_in = language.name(drafting.asked_in) if drafting.asked_in != language.DEFAULT else None
        missed_the_fact = True  # no draft rested on any sentence: each gave no fact of the kind asked, or a wrong one
        for messages, step in _TRIES:
            yield Progress(step)
            prompt = messages(question, [s.text for s in shown], written_in)
            pieces = list(self.llm.stream(prompt, self.options, cancel))
            drafting.generated += len(pieces)
            draft = without_markers(_LEAD.sub("", "".join(pieces).strip()))
            drafting.attempts.append(draft)
            yield Progress(prompts.CHECKING)
            if not facts.stems(draft) - facts.stems(question) - _YES_NO:
                self._after_echo(answer, question, kind, focus, shown, hits, drafting, viewer)
                return
            support, problem = self._support(question, draft, shown, hits, kind, sentences[0], drafting)
            drafting.verdict = {"premise": "supported", "answer": problem or "supported"}
            if support is not None and problem is None:
                _finish(answer, "answered", draft, [(support, hits[support.source])], "inline")
                return
            missed_the_fact = missed_the_fact and support is None
        surest = self._surest(question, shown, hits, kind, drafting)
        if surest is not None:
            drafting.verdict["answer"] = "the drafts failed their checks: the sentence the check model is sure of is quoted"
            _finish(answer, "quoted", prompts.QUOTED, [(surest, hits[surest.source])], "quote")
            return
        if missed_the_fact and kind and focus is sentences[0] and asked.gives(focus.text, kind, question):
            # Both drafts lost the fact (no figure, or a wrong one), not the question: the best-matching sentence,
            # holding the question's facts and the kind of fact it asks for, says it in its own words.
            drafting.verdict["answer"] = "the drafts missed the fact: the sentence giving it is quoted"
            _finish(answer, "quoted", prompts.QUOTED, [(focus, hits[focus.source])], "quote")
            return
        _not_said(answer, shown[:QUOTES_SHOWN], hits)

    def _after_echo(
        self, answer: Answer, question: str, kind: asked.Kind | None, focus: Sentence, shown: list[Sentence],
        hits: list[Hit], drafting: _Drafting, viewer: Viewer,
    ) -> None:
        """The model only repeated the question ("Yes, you can bring your dog"): it found nothing to say. When
        the question asks for a kind of fact (a person, a figure), or names a thing (a noun) no document the asker
        may read mentions and the check model is not sure the closest sentence answers all the same ("kids" for
        "families are welcome"), the documents do not say; otherwise the sentence closest to it is quoted, for
        the asker to read the answer in its own words, once the check model (if asked for) finds it answers; or
        another shown sentence, when the check model is sure of that one and only leans towards the closest."""
        if kind is not None:  # "Who chairs the works council?" -> "The chair is chairs.": no person was found
            drafting.verdict = {"premise": "supported", "answer": f"repeats the question, which asks for a {kind}"}
            _not_said(answer, shown[:QUOTES_SHOWN], hits)
            return
        # Tagged only here, on an echo: most answers need no nouns.
        english = drafting.asked_in == language.DEFAULT
        nouns = asked.nouns(question) if english else facts.content_words(question)
        # A weekday the closest sentence covers ("Saturday" by "weekends") is no unknown thing.
        unknown = self.retriever.unknown_words(sorted(set(nouns) - facts.days_covered(focus.text)), viewer)
        if unknown and not self._sure(question, focus, drafting):
            drafting.verdict = {"premise": "supported", "answer": "repeats the question", "unknown_words": unknown}
            _not_said(answer, shown[:QUOTES_SHOWN], hits)
            return
        if not self._confirmed(question, focus, drafting):
            drafting.verdict = {"premise": "supported", "answer": "repeats the question; the check model found the "
                                "closest sentence does not answer it"}  # fmt: skip
            _not_said(answer, shown[:QUOTES_SHOWN], hits)
            return
        drafting.verdict = {"premise": "supported", "answer": "repeats the question: the closest sentence is quoted"}
        if unknown:  # words no document uses, outweighed by the check model's certainty
            drafting.verdict["unknown_words"] = unknown
        # Another shown line the check model is sure of, where it only leans towards the closest, answers instead
        # ("the cal lab": "Hall A …: calibration lab" rather than the line naming the meeting rooms).
        surest = None if self._sure(question, focus, drafting) else self._surest(question, shown, hits, kind, drafting)
        if surest is not None:  # never the closest: the check model is not sure of that one
            drafting.verdict["answer"] = "repeats the question: the sentence the check model is sure of is quoted"
            focus = surest
        _finish(answer, "quoted", prompts.QUOTED, [(focus, hits[focus.source])], "quote")

    def _support(
        self, question: str, draft: str, shown: list[Sentence], hits: list[Hit], kind: asked.Kind | None,
        best: Sentence, drafting: _Drafting,
    ) -> tuple[Sentence | None, str | None]:
        """The sentence ``draft`` rests on, and why it may not be shown (None when it may). No sentence when the
        draft gives no fact of the kind asked for, or figures none of them holds, or only a sentence about something
        else holds: the model missed the fact."""
        said = facts.stems(draft) - facts.stems(question) - _YES_NO
        if not asked.gives(draft, kind, question):
            return None, f"gives no {kind}, which the question asks for"
        holding = [s for s in shown if not facts.numbers_missing(draft, f"{_window(s, hits)}\n{question}")]
        if not holding:
            missing = facts.numbers_missing(draft, "\n".join(s.text for s in shown) + "\n" + question)
            return None, "states figures no sentence holds: " + ", ".join(sorted(missing))
        support = max(holding, key=lambda s: len(said & facts.stems(s.text)))
        if support.score < best.score * RELATED_SENTENCE:
            # A figure taken from an unrelated line ("75 EUR" for a warranty's price): the fact was missed.
            figures = {f for f in facts.facts(draft) - facts.facts(question) if any(c.isdigit() for c in f)}
            return (None if figures else support), "rests on a sentence about something else"
        if len(said & facts.stems(support.text)) < len(said) * FROM_EVIDENCE:
            return support, "says what the evidence does not"
        unnamed = facts.missing(draft, f"{_context(hits[support.source])}\n{question}")
        if unnamed:
            return support, "names what the evidence does not: " + ", ".join(sorted(unnamed))
        wrong_end = asked.wrong_end_of_span(draft, support.text, question)
        if wrong_end:
            return support, f"gives a time its sentence names as the {wrong_end}, where the question asks the other end"
        # The question's own facts are in the sentence it was written from first (its premise was checked
        # there): a draft resting on a sentence without them answers something else.
        gaps = premise_gaps(question, _window(support, hits), _context(hits[support.source]))
        if gaps:
            return support, "rests on a sentence without the question's " + ", ".join(sorted(gaps))
        if not self._confirmed(question, support, drafting):
            return support, "the check model found the sentence does not answer the question"
        return support, None

    def _confidence(self, question: str, sentence: Sentence, drafting: _Drafting) -> float:
        """How likely the check model finds that ``sentence``, under its heading, answers ``question`` (1 when
        answer_check does not ask it): its probability of "yes", read once per sentence."""
        if self.answer_check != "facts+model":
            return 1.0
        checked = _under_heading(sentence)
        if checked not in drafting.confidence:
            messages = prompts.confirm_messages(question, checked[:CHECKED_CHARS])
            drafting.confidence[checked] = self._checker().choice_probabilities(messages, prompts.CONFIRM_CHOICES)["yes"]
        return drafting.confidence[checked]

    def _confirmed(self, question: str, sentence: Sentence, drafting: _Drafting) -> bool:
        return self._confidence(question, sentence, drafting) >= CONFIRMED

    def _sure(self, question: str, sentence: Sentence, drafting: _Drafting) -> bool:
        """Whether the check model is sure the sentence answers the question (never without a check model)."""
        return self.answer_check == "facts+model" and self._confidence(question, sentence, drafting) >= SURE

    def _surest(
        self, question: str, shown: list[Sentence], hits: list[Hit], kind: asked.Kind | None, drafting: _Drafting
    ) -> Sentence | None:
        """What to quote when both drafts failed their checks: the sentence the check model is surest answers the
        question, if it is sure (a look-alike line it only leans towards stays unquoted), the sentence holds the
        question's own facts and gives the kind of fact asked for."""
        best = max(shown, key=lambda s: self._confidence(question, s, drafting))
        if not self._sure(question, best, drafting):
            return None
        if premise_gaps(question, _window(best, hits), _context(hits[best.source])):
            return None
        return best if not kind or asked.gives(best.text, kind, question) else None

    def _check_model(self) -> dict | None:
        if self.answer_check != "facts+model":
            return None
        checker = self._checker()
        return {"name": checker.name, "sha256": checker.sha256}

    def _relevant(self, hits: list[Hit], question: str) -> list[Hit]:
        """The hits worth reading, by the hybrid ranking: those not far behind the best one's fused score, and
        the one closest in meaning when it is much closer than that one, which a shared word may have outranked
        ("days of holiday": the "holiday bonus" line first, the vacation policy closest). None at all when no hit
        is related to the question, neither by meaning (cosine over the bar) nor by words (most of its words)."""
        if not any(h.score >= self.min_relevance or evidence.word_overlap(question, h.text) >= RELATED_WORDS for h in hits):
            return []
        first = max(hits, key=_ranking_score)
        closest = max(hits, key=lambda h: h.score)
        much_closer = closest.score >= first.score + CLOSER_IN_MEANING
        bar = _ranking_score(first) - self.relevance_margin
        return [h for h in hits if _ranking_score(h) >= bar or (h is closest and much_closer)]

    def _fit_to_context(self, question: str, hits: list[Hit]) -> list[Hit]:
        """As many of the best hits as the source budget, and the model's window beside the rules and
        the answer, hold (always the best one)."""
        llm = self.llm
        room = llm.context_size - self.options.max_tokens - llm.count_tokens(prompts.ANSWER_RULES + question) - 64
        budget = min(room, self.source_tokens)
        kept, used = [], 0
        for hit in hits:
            cost = llm.count_tokens(hit.text) + 16
            if kept and used + cost > budget:
                break
            kept.append(hit)
            used += cost
        return kept

    def _provenance(self, answer: Answer, drafting: _Drafting) -> dict:
        """What shaped this answer, stored with it so it can be explained and replayed."""
        cited = {c.quote for c in answer.sources}
        llm = self.llm if not answer.found_nothing else None
        return {
            "model": {"name": llm.name, "sha256": llm.sha256} if llm else None,
            "check_model": self._check_model() if llm else None,
            "prompt_version": prompts.VERSION,
            "question": answer.standalone_question or answer.question,
            "language": drafting.asked_in,
            "retrieved": [
                {"chunk_id": h.chunk_id, "document_id": h.origin.document_id, "score": round(h.score, 4),
                 "fused": None if h.fused is None else round(h.fused, 4)}
                for h in drafting.hits
            ],  # fmt: skip
            "evidence": [
                {"n": i + 1, "chunk_id": drafting.hits[s.source].chunk_id, "text": s.text, "score": round(s.score, 4),
                 "cited": s.text in cited, "check_yes": _rounded(drafting.confidence.get(_under_heading(s)))}
                for i, s in enumerate(drafting.sentences)
            ],  # fmt: skip
            "drafts": drafting.attempts,
            "generated_tokens": drafting.generated,
            "verdict": drafting.verdict,
            "outcome": answer.outcome,
            "settings": {
                "top_k": self.top_k, "min_relevance": self.min_relevance, "relevance_margin": self.relevance_margin,
                "temperature": self.options.temperature, "max_answer_tokens": self.options.max_tokens,
                "source_tokens": self.source_tokens, "answer_check": self.answer_check,
                "evidence_sentences": self.evidence_sentences,
            },
        }  # fmt: skip


def _focus(question: str, sentences: list[Sentence], kind: asked.Kind | None) -> Sentence:
    """The sentence that holds most of the question's own figures and names, and then gives the kind of fact
    it asks for (the best-ranked among equals): what the question's premise is checked against, and the first
    the model reads. "What is the minimum length of a password?" is answered by the sentence with a figure."""
    named = facts.facts(question)
    best = sentences[0]
    focus = max(
        sentences,
        key=lambda s: (len(named - facts.missing(question, s.text)) if named else 0, _gives(s, kind, question, best)),
    )
    # A line with the question's figure on another subject ("10% off … per order" for "distributors get 10%?") is
    # not what the question is about when the best line is more on its subject and measures the same thing ("22%").
    topic = facts.stems(question) - facts.stems(" ".join(named))
    off_topic = len(topic & facts.stems(focus.text)) < len(topic & facts.stems(best.text))
    return best if off_topic and _units(question) & _units(best.text) else focus


def _units(text: str) -> set[str]:
    """What the text's figures measure: the sign or word after each ("%" of "10%", "eur" of "400 EUR")."""
    return {unit.lower() for unit in _FIGURE_UNIT.findall(text)}


def _gives(sentence: Sentence, kind: asked.Kind | None, question: str, best: Sentence) -> bool:
    """Whether the sentence gives the kind of fact asked for and is near enough the best one to be about the
    question (a figure from an unrelated line is no answer)."""
    return sentence.score >= best.score * RELATED_SENTENCE and asked.gives(sentence.text, kind, question)


def _window(sentence: Sentence, hits: list[Hit]) -> str:
    """The sentence with the one before it in its passage and the heading of its section: a lead-in or a heading
    ("2024 in numbers", over a slide's every line) often says what a line's figures are about."""
    before = "" if _labelled(sentence.before) else sentence.before
    return "\n".join(filter(None, (hits[sentence.source].heading, before, sentence.text)))


def _under_heading(sentence: Sentence) -> str:
    """The sentence with the line before it when that line is a heading ("2024 in numbers"), which says what the
    sentence is about; a whole sentence before it only distracts the check from what this one says."""
    heading = sentence.before and len(sentence.before.split()) <= HEADING_WORDS and not sentence.before.endswith(".")
    return f"{sentence.before}: {sentence.text}" if heading else sentence.text


def _labelled(line: str) -> bool:
    """Whether a line is a labelled value ("Revenue: 81.3 million EUR, up 9% on 2023"), a row beside the next one
    rather than what it is about: its year is not the next row's."""
    label, colon, value = line.partition(": ")
    return bool(colon and value and len(label.split()) <= HEADING_WORDS)


def premise_gaps(question: str, sentence: str, context: str) -> set[str]:
    """The question's facts its evidence does not hold: figures and codes must be in the sentence itself
    (a question about 2019 is not answered from a sentence about 2009) or within a bound it sets (300 units
    under "250 units or more"); names in its passage or title; a time before a year ("before 2025") in
    the passage, or an earlier year."""
    figures = {n for n in facts.numbers_missing(question, sentence) if not facts.within_bounds(n, sentence)}
    names = {f for f in facts.missing(question, context) if not any(c.isdigit() for c in f)}
    return figures | names | facts.periods_missing(question, context)


def _not_said(answer: Answer, closest: list[Sentence], hits: list[Hit]) -> None:
    quotes = [(s, hits[s.source]) for s in closest]
    text = f"{prompts.NOT_SAID} {prompts.CLOSEST}" if quotes else prompts.NOT_SAID
    _finish(answer, "not_said", text, quotes, "listed")


def _what_is_said(gaps: set[str], focus: Sentence, sentences: list[Sentence], question: str) -> list[Sentence]:
    """What a premise correction quotes: the sentence the premise was checked against and, when it gives no fact
    of the kind the question got wrong, the best-ranked related sentence that does ("Can I call the helpdesk on a
    Saturday?": the contact line, then the one with its hours, "Monday to Friday")."""
    kinds = {_kind_of(gap) for gap in gaps}
    if any(asked.gives(focus.text, kind, question) for kind in kinds):
        return [focus]
    giving = (s for s in sentences if s is not focus and any(_gives(s, k, question, sentences[0]) for k in kinds))
    return [focus, *islice(giving, 1)]


def _kind_of(gap: str) -> asked.Kind:
    """The kind of fact a premise gap is: "before 2025" a time, "35" a figure, "saturday" a day, "brno" a name."""
    if gap.startswith("before "):
        return "when"
    if any(c.isdigit() for c in gap):
        return "figure"
    return "day" if gap in facts.NAMED_DATES else "person"


def _correct_premise(answer: Answer, gaps: set[str], said: list[Sentence], hits: list[Hit]) -> None:
    missing = ", ".join(f"“{g}”" for g in sorted(gaps))
    _finish(answer, "premise_corrected", prompts.NOT_SAID_THAT.format(missing=missing), [(s, hits[s.source]) for s in said], "listed")


def _finish(
    answer: Answer, outcome: Outcome, lead: str, quotes: list[tuple[Sentence, Hit]], form: Literal["inline", "quote", "listed"]
) -> None:
    """Set the answer's text and sources: one source per quoted passage, numbered in order, its marker
    after what rests on it: the written sentence (inline), the one quote, or each quote on a line."""
    numbers: dict[str, int] = {}
    sources: list[Citation] = []
    for sentence, hit in quotes:
        if hit.chunk_id not in numbers:
            numbers[hit.chunk_id] = len(numbers) + 1
            sources.append(Citation(numbers[hit.chunk_id], hit, sentence.text))
    marked = [(f"“{s.text}”", numbers[h.chunk_id]) for s, h in quotes]
    if form == "listed":
        answer.text = "\n".join([lead, *(f"- {quote} [{n}]" for quote, n in marked)])
    elif form == "quote":
        answer.text = f"{lead} {marked[0][0]} [{marked[0][1]}]"
    else:
        body = _sentence_end(lead)
        answer.text = f"{body[:-1]} [{marked[0][1]}]{body[-1]}"
    answer.outcome, answer.sources = outcome, sources


def _sentence_end(text: str) -> str:
    text = text.strip().strip("”“\"")
    return text if text.endswith((".", "!", "?")) else text + "."


def _context(hit: Hit) -> str:
    return f"{hit.origin.title}\n{hit.heading}\n{hit.text}"


def _ranking_score(hit: Hit) -> float:
    return hit.score if hit.fused is None else hit.fused


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
