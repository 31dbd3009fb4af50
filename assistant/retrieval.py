"""Hybrid retrieval: the vector search, plus an exact-term search for the words embeddings blur.

Sentence embeddings capture meaning well but treat "VB-900", "PO 4711" or a
rare surname as near-synonyms of their neighbours. Terms like these — with a
digit, an inner capital or hyphen, or a capitalised name mid-sentence — are
also looked up literally in the index, filtered by the asker's permissions in
the same query, and the two rankings are merged by reciprocal rank fusion.
"""

from __future__ import annotations

import re

from collections.abc import Sequence

from assistant.access import Viewer
from assistant.attribution import content_words
from assistant.embeddings import Embedder
from assistant.llm import ChatMessage
from assistant.store import Hit, VectorStore

MAX_TERMS = 5
FUSION_K = 60  # the usual reciprocal-rank-fusion constant: ranks matter, not raw scores
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


def search(embedder: Embedder, store: VectorStore, query: str, viewer: Viewer, k: int) -> list[Hit]:
    embedding = embedder.embed_query(query)
    by_meaning = store.query(embedding, k, viewer)
    terms = distinctive_terms(query)
    if not terms:
        return by_meaning
    # Exact matches first among equals: a chunk naming the asked-for code beats a lookalike.
    return fuse([store.query_terms(terms, embedding, k, viewer), by_meaning], k)
