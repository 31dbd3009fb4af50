"""Hybrid retrieval: vector search and keyword search, fused, de-duplicated, optionally reranked.

Sentence embeddings capture meaning well but treat "VB-900", "PO 4711" or a
rare surname as near-synonyms of their neighbours; BM25 keyword search finds
exactly those words but misses paraphrases. Each search runs both — each
filtered by the asker's permissions inside its own query — and merges the two
rankings by reciprocal rank fusion, which needs no score calibration between
them. A paragraph repeated across documents (a disclaimer, a copied section)
is kept once, so it cannot crowd out the rest of the top-k.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from assistant.access import Viewer
from assistant.attribution import content_words
from assistant.embeddings import Embedder, Vector
from assistant.llm import ChatMessage
from assistant.rerank import Reranker
from assistant.store import Hit, VectorStore
from assistant.store.keywords import KeywordHit, KeywordIndex

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")
MAX_TERMS = 5
FUSION_K = 60  # the usual reciprocal-rank-fusion constant: ranks matter, not raw scores
CANDIDATES_PER_RESULT = 3  # each half brings 3k candidates: room to fuse and to drop duplicates
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


def fuse(rankings: list[list[Hit]], k: int) -> list[Hit]:
    """Merge rankings by reciprocal rank: a chunk high in either, or present in both, comes first;
    ties go to the earlier ranking."""
    scores: dict[str, float] = {}
    hits: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (FUSION_K + rank + 1)
            hits.setdefault(hit.chunk_id, hit)
    return [hits[c] for c in sorted(scores, key=scores.get, reverse=True)[:k]]


def distinct(hits: list[Hit]) -> list[Hit]:
    """``hits`` without the passages that repeat an earlier one (nearly) word for word."""
    kept: list[tuple[Hit, frozenset[str]]] = []
    for hit in hits:
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
    ):
        self.embedder = embedder
        self.store = store
        self.keywords = keywords
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates

    def search(
        self, query: str, viewer: Viewer, k: int, mode: Mode = "hybrid", embedding: Vector | None = None
    ) -> list[Hit]:
        """The best ``k`` chunks for ``query``; ``embedding`` is the query's vector when already known."""
        if embedding is None:
            embedding = self.embedder.embed_query(query)
        depth = max(k * CANDIDATES_PER_RESULT, self.rerank_candidates if self.reranker else 0)
        rankings = []
        if mode in ("hybrid", "keyword"):
            terms = distinctive_terms(query)
            if terms:
                # Chunks naming the asked-for code or name exactly lead among equals: a lookalike must not win.
                rankings.append(self._fetch(self.keywords.search_phrases(terms, depth, viewer), embedding, viewer))
            rankings.append(self._fetch(self.keywords.search(query, depth, viewer), embedding, viewer))
        if mode in ("hybrid", "dense"):
            rankings.append(self.store.query(embedding, depth, viewer))
        candidates = distinct(fuse(rankings, depth))
        if self.reranker:
            candidates = self.reranker.rerank(query, candidates[: max(k, self.rerank_candidates)])
        return candidates[:k]

    def _fetch(self, matches: list[KeywordHit], embedding: Vector, viewer: Viewer) -> list[Hit]:
        # Keyword hits are scored by cosine similarity too, so a relevance bar means one thing for all hits.
        return self.store.fetch([m.chunk_id for m in matches], embedding, viewer)
