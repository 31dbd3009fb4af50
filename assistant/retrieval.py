"""Hybrid retrieval: vector search and keyword search, fused, de-duplicated, optionally reranked.

Sentence embeddings capture meaning well but treat "VB-900", "PO 4711" or a
rare surname as near-synonyms of their neighbours; BM25 keyword search finds
exactly those words but misses paraphrases. Each search runs both — each
filtered by the asker's permissions inside its own query — and adds their
scores, each scaled to 0..1 over its own candidates, about half and half; a chunk
holding a code the question names word for word gets a bonus. On SQuAD and
PubMedQA this beat reciprocal rank fusion (README, "Retrieval quality"). With
``rank_by_document`` on, hits are then ranked with part of their document's
other best scores added, so the page of a long manual that matches in several
places beats a stray match. With ``expand_queries`` on, a model first writes the passage it expects
the answer in, which is searched for beside the question (``assistant.expansion``). A
paragraph repeated across documents (a disclaimer, a copied section) is kept
once, so it cannot crowd out the rest of the top-k.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

from assistant.access import Viewer
from assistant.embeddings import Embedder, Vector
from assistant.facts import content_words
from assistant.llm import ChatMessage
from assistant.rerank import Reranker
from assistant.store import Hit, VectorStore
from assistant.store.keywords import KeywordIndex

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")
MAX_TERMS = 5
KEYWORD_WEIGHT = 0.55  # measured on all SQuAD questions: 0.45, 0.5 and 0.6 each did a little worse
# With a written passage beside the question (``expand_queries``) its meaning carries the search: its many words
# make the keyword half diffuse. Measured on the PostgreSQL manual's tune questions: 0.55, 0.35, 0.2 and 0.1
# gave the right page in the top five for 0.872, 0.897, 0.91 and 0.91 (README, Retrieval quality).
EXPANDED_KEYWORD_WEIGHT = 0.2
EXACT_CODE_BONUS = 0.2  # a chunk holding the asked-for code must beat its lookalikes
CANDIDATES = 50  # per half, at least: enough for both to overlap and for the 0..1 scaling to be stable
# A page of a long manual with several passages matching the question is likelier the one asked about than
# a page with one stray match: each fused hit is ranked with this share of its document's three next best
# fused scores added, when the document has at least four other hits. Short documents (one to four chunks:
# SQuAD paragraphs, PubMedQA abstracts) are ranked by their own match; with support from fewer hits they
# lost first places (PubMedQA recall@1 0.977 -> 0.964). Measured (benchmarks.manual, tune questions, and
# samples of SQuAD and PubMedQA): shares 0.3 to 1.0, two to four supporting hits, two to four others needed;
# this one lifts the manual's top-5 from 0.82 to 0.87 and leaves both public sets as they were. It is a
# setting, off by default: in a corpus of a few long and many short documents (the sample handbook) the long
# ones always have support, and the right short one fell out of the top five for 1 question in 14.
DOCUMENT_SUPPORT = 0.6
SUPPORTING_CHUNKS = 3
SUPPORT_NEEDS_OTHERS = 4
DUPLICATE_OVERLAP = 0.9  # share of words two chunks hold in common to count as the same passage
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_./]*[A-Za-z0-9]|[0-9]")
_WORD = re.compile(r"[a-z0-9]+")


def distinctive_terms(query: str) -> list[str]:
    """The query's codes, numbers and names, longest first."""
    terms: list[str] = []
    for position, token in enumerate(_TOKEN.findall(query)):
        if not content_words(token):
            continue  # "What", "the"
        coded = any(c.isdigit() for c in token) or "-" in token or "_" in token
        named = token[0].isupper() and position > 0 or any(c.isupper() for c in token[1:])
        if (coded or named) and token not in terms:
            terms.append(token)
    return sorted(terms, key=len, reverse=True)[:MAX_TERMS]


# Words that point back into a conversation ("where do they park there?").
_REFERRING = frozenset("it its they them their theirs there that those this these he him his she her one ones".split())
_CONTINUING = ("and ", "what about", "how about", "also ")


def with_context(question: str, history: Sequence[ChatMessage]) -> str:
    """What to search for: ``question``, led by the previous question when it still leans on it.

    A small model does not always manage to rewrite a follow-up into a
    standalone question; searching with the question it follows keeps the
    follow-up on its topic either way.
    """
    previous = next((m.content for m in reversed(history) if m.role == "user"), None)
    words = set(_WORD.findall(question.lower()))
    leaning = bool(words & _REFERRING) or question.lower().startswith(_CONTINUING) or len(content_words(question)) < 3
    return f"{previous}\n{question}" if previous and leaning else question


def coded_terms(query: str) -> list[str]:
    """The distinctive terms that are codes (a digit, hyphen or underscore in them), not names."""
    return [t for t in distinctive_terms(query) if any(c.isdigit() or c in "-_" for c in t)]


def scaled(scores: dict[str, float]) -> dict[str, float]:
    """Scores mapped onto 0..1 (the best 1, the worst candidate 0); a lone candidate gets 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    return {c: (s - low) / (high - low) if high > low else 1.0 for c, s in scores.items()}


def fuse(
    by_meaning: list[Hit], by_words: list[tuple[Hit, float]], exact: set[str] = frozenset(),
    keyword_weight: float = KEYWORD_WEIGHT,
) -> list[Hit]:
    """Merge the vector ranking with the keyword ranking (hits with their keyword scores): each
    half's scores scaled to 0..1 and weighted (the keyword half by ``keyword_weight``), plus a bonus for
    the chunks in ``exact``."""
    meaning = scaled({h.chunk_id: h.score for h in by_meaning})
    words = scaled({h.chunk_id: score for h, score in by_words})
    hits = {h.chunk_id: h for h in by_meaning} | {h.chunk_id: h for h, _ in by_words}
    combined = {
        c: (1 - keyword_weight) * meaning.get(c, 0.0) + keyword_weight * words.get(c, 0.0)
        + (EXACT_CODE_BONUS if c in exact else 0.0)
        for c in hits
    }  # fmt: skip
    return [replace(hits[c], fused=combined[c]) for c in sorted(combined, key=combined.__getitem__, reverse=True)]


def by_document_support(hits: list[Hit]) -> list[Hit]:
    """Fused ``hits`` reordered by their own score plus DOCUMENT_SUPPORT times the best SUPPORTING_CHUNKS
    scores of the other hits from their document, where it has SUPPORT_NEEDS_OTHERS of them. Their fused
    scores stay as they were: the relevance bar is measured on a hit's own match."""
    by_document: dict[str, list[float]] = {}
    for hit in hits:
        by_document.setdefault(hit.origin.document_id, []).append(hit.fused or 0.0)
    for scores in by_document.values():
        scores.sort(reverse=True)

    def ranked(hit: Hit) -> float:
        others = list(by_document[hit.origin.document_id])
        others.remove(hit.fused or 0.0)
        support = sum(others[:SUPPORTING_CHUNKS]) if len(others) >= SUPPORT_NEEDS_OTHERS else 0.0
        return (hit.fused or 0.0) + DOCUMENT_SUPPORT * support

    return sorted(hits, key=ranked, reverse=True)


def distinct(hits: list[Hit], wanted: int) -> list[Hit]:
    """The first ``wanted`` of ``hits`` that do not repeat an earlier one (nearly) word for word."""
    kept: list[tuple[Hit, frozenset[str]]] = []
    for hit in hits:
        if len(kept) == wanted:
            break
        words = frozenset(_WORD.findall(hit.text.lower()))
        if not any(_overlap(words, other) >= DUPLICATE_OVERLAP for _, other in kept):
            kept.append((hit, words))
    return [hit for hit, _ in kept]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class Retriever:
    """Finds the chunks a viewer may see that best match a query."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        keywords: KeywordIndex,
        reranker: Reranker | None = None,
        rerank_candidates: int = 20,
        rank_by_document: bool = False,
        expand: Callable[[str], str] | None = None,
    ):
        self.embedder = embedder
        self.store = store
        self.keywords = keywords
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates
        self.rank_by_document = rank_by_document
        self.expand = expand  # the query with a passage written for it (assistant.expansion), or None

    def search(
        self, query: str, viewer: Viewer, k: int, mode: Mode = "hybrid", embedding: Vector | None = None
    ) -> list[Hit]:
        """The best ``k`` chunks for ``query``; ``embedding`` is the query's vector when already known."""
        if self.expand is not None:
            query, embedding = self.expand(query), None  # the passage's words and meaning are searched for too
        if embedding is None:
            embedding = self.embedder.embed_query(query)
        depth = max(k * 3, CANDIDATES, self.rerank_candidates if self.reranker else 0)
        if mode == "dense":
            candidates = self.store.query(embedding, depth, viewer)
        elif mode == "keyword":
            candidates = [hit for hit, _ in self._keyword_hits(query, depth, embedding, viewer)]
        else:
            codes = coded_terms(query)
            exact = {m.chunk_id for m in self.keywords.search_phrases(codes, depth, viewer)} if codes else set()
            by_words = self._keyword_hits(query, depth, embedding, viewer)
            weight = KEYWORD_WEIGHT if self.expand is None else EXPANDED_KEYWORD_WEIGHT
            candidates = fuse(self.store.query(embedding, depth, viewer), by_words, exact, weight)
            if self.rank_by_document:
                candidates = by_document_support(candidates)
        if not self.reranker:
            return distinct(candidates, k)
        return self.reranker.rerank(query, distinct(candidates, max(k, self.rerank_candidates)))[:k]

    def languages(self) -> list[str]:
        """The languages the indexed documents are written in, the most common first."""
        return self.keywords.languages()

    def unknown_words(self, words: Sequence[str], viewer: Viewer) -> list[str]:
        """Those of ``words`` that no chunk ``viewer`` may see holds (the keyword index's stemming applies)."""
        return [word for word in words if not self.keywords.search(word, 1, viewer)]

    def _keyword_hits(self, query: str, depth: int, embedding: Vector, viewer: Viewer) -> list[tuple[Hit, float]]:
        """Keyword matches with their keyword scores, as hits scored by cosine similarity (as vector
        hits are), so a relevance bar means one thing for every hit."""
        matches = {m.chunk_id: m.score for m in self.keywords.search(query, depth, viewer)}
        return [(hit, matches[hit.chunk_id]) for hit in self.store.fetch(list(matches), embedding, viewer)]
