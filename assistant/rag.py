"""Retrieve → prompt → generate → cite. Sees only the embedder, store and LLM interfaces."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from assistant import prompts, retrieval
from assistant.access import Viewer
from assistant.attribution import cite_unmarked, resolve_markers
from assistant.embeddings import Vector
from assistant.llm import LLM, ChatMessage, GenerationOptions
from assistant.retrieval import Retriever
from assistant.store import Hit

SNIPPET_CHARS = 300
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class Citation:
    """A retrieved chunk as shown to people, under the number the answer uses for it."""

    number: int
    hit: Hit

    def to_dict(self) -> dict:
        origin = self.hit.origin
        return {
            "n": self.number,
            "id": origin.document_id,
            "chunk_id": self.hit.chunk_id,
            "title": origin.title,
            "uri": origin.uri,
            "source_type": origin.source_type,
            "snippet": snippet(self.hit.text),
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

    def to_dict(self) -> dict:
        return {"answer": self.text, "sources": [s.to_dict() for s in self.sources]}


@dataclass(frozen=True)
class Token:
    text: str


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as [n] or [n, m], in order of first appearance."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for number in (int(n) for n in group.split(",")):
            if number not in seen:
                seen.append(number)
    return seen


class Assistant:
    def __init__(
        self,
        retriever: Retriever,
        llm: Callable[[], LLM],
        top_k: int = 5,
        min_relevance: float = 0.25,
        relevance_margin: float = 0.2,
        max_answer_tokens: int = 512,
        temperature: float = 0.1,
        source_tokens: int = 4096,
        prompt_format: prompts.PromptFormat = "sources-first",
    ):
        self.retriever = retriever
        self._llm = llm  # loaded on first use: search needs no model
        self.top_k = top_k
        self.min_relevance = min_relevance
        self.relevance_margin = relevance_margin
        self.options = GenerationOptions(max_tokens=max_answer_tokens, temperature=temperature)
        self.source_tokens = source_tokens
        self.prompt_format = prompt_format

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
    ) -> Iterator[Token | Answer]:
        """Stream the answer as Tokens, then yield the finished Answer with its sources."""
        answer = Answer(question=question)
        answer.standalone_question = self.standalone(question, history, cancel)
        answer.search_query = retrieval.with_context(answer.standalone_question, history)
        hits = self._relevant(self.search(answer.search_query, viewer, k), answer.search_query)
        if not hits:
            answer.found_nothing = True
            answer.text = prompts.NOTHING_FOUND
            yield Token(answer.text)
            yield answer
            return
        hits = self._fit_to_context(answer.standalone_question, hits)
        blocks = [prompts.source_block(n, h.origin.title, h.text) for n, h in enumerate(hits, start=1)]
        pieces = []
        for piece in self.llm.stream(prompts.answer_messages(answer.standalone_question, blocks, self.prompt_format), self.options, cancel):
            pieces.append(piece)
            yield Token(piece)
        # The streamed draft may lack markers the final text gets; clients show the final text.
        answer.text = cite_unmarked("".join(pieces).strip(), [h.text for h in hits])
        answer.sources = self._citations(answer.text, hits)
        yield answer

    def answer(self, question: str, viewer: Viewer, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        for event in self.ask(question, viewer, history, k):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask() ends with an Answer")

    def _relevant(self, hits: list[Hit], question: str) -> list[Hit]:
        """Hits that clear the bar, and are not far behind the best one (unless they hold the
        question's exact codes or names, which embeddings underrate).

        Small models are easily led astray by a weakly related chunk sitting
        next to the right one, so a clear winner goes in alone.
        """
        if not hits:
            return []
        terms = retrieval.distinctive_terms(question)
        bar = max(self.min_relevance, max(h.score for h in hits) - self.relevance_margin)
        return [
            h for h in hits
            if h.score >= bar or (h.score >= self.min_relevance and any(t in h.text for t in terms))
        ]

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

    @staticmethod
    def _citations(text: str, hits: list[Hit]) -> list[Citation]:
        """The cited chunks under the numbers the answer uses; all chunks when it cites none."""
        mapping = resolve_markers(text, [h.text for h in hits])
        numbers = [n for n in cited_numbers(text) if n in mapping]
        if not numbers:  # the model cited nothing: show everything it was given
            return [Citation(n, hit) for n, hit in enumerate(hits, start=1)]
        return [Citation(n, hits[mapping[n] - 1]) for n in numbers]
