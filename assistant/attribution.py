"""Check the model's citations against the sources' words: fix the ones that point astray,
and add the ones it left out.

Small models often state a fact correctly but cite the wrong number, or none.
For each [n] marker, the words of the sentences citing it are compared with
every source: when another source clearly contains them and source n does
not, the marker is taken to mean that source (the mapping changes, not the
text). A sentence that cites nothing but whose words clearly come from one
source gets that source's marker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_KEPT_SENTENCE_END = re.compile(r"((?<=[.!?])\s+|\n+)")
_TRAILING_PUNCTUATION = re.compile(r"^(.*?)([.!?:;]*)$", re.S)
MIN_CLAIM_WORDS = 2  # "Yes." or "See below." backs no citation
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i in is it its of on or our per so that the their "
    "them there they this to was we were what when where which who why will with you your".split()
)
CLEAR_SUPPORT = 0.5  # share of a claim's words a source must contain to take over a marker


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 2 or w.isdigit())}


def _support(words: set[str], source_words: list[set[str]]) -> list[float]:
    return [len(words & candidate) / len(words) for candidate in source_words]


def cite_unmarked(answer: str, sources: Sequence[str]) -> str:
    """``answer`` with [n] added to each sentence that cites nothing yet is clearly backed by source n."""
    source_words = [content_words(text) for text in sources]
    pieces = _KEPT_SENTENCE_END.split(answer)
    for index in range(0, len(pieces), 2):  # even pieces are sentences, odd ones the breaks between them
        sentence = pieces[index]
        words = content_words(sentence)
        if _MARKER.search(sentence) or len(words) < MIN_CLAIM_WORDS or not sources:
            continue
        support = _support(words, source_words)
        best = max(range(len(sources)), key=lambda i: support[i])
        if support[best] >= CLEAR_SUPPORT:
            body, punctuation = _TRAILING_PUNCTUATION.match(sentence).groups()
            pieces[index] = f"{body.rstrip()} [{best + 1}]{punctuation}"
    return "".join(pieces)


def claims_by_marker(answer: str) -> dict[int, set[str]]:
    """For each cited number, the content words of the sentences that cite it."""
    claims: dict[int, set[str]] = {}
    for sentence in _SENTENCE_END.split(answer):
        words = content_words(_MARKER.sub(" ", sentence))
        for group in _MARKER.findall(sentence):
            for number in (int(n) for n in group.split(",")):
                claims.setdefault(number, set()).update(words)
    return claims


def resolve_markers(answer: str, sources: Sequence[str]) -> dict[int, int]:
    """Map each valid [n] marker to the 1-based index of the source that backs it."""
    source_words = [content_words(text) for text in sources]
    mapping: dict[int, int] = {}
    for marker, words in claims_by_marker(answer).items():
        if not 1 <= marker <= len(sources):
            continue
        mapping[marker] = marker
        if not words:
            continue
        support = _support(words, source_words)
        best = max(range(len(sources)), key=lambda i: support[i]) + 1
        if best != marker and support[best - 1] >= CLEAR_SUPPORT and support[marker - 1] < support[best - 1] / 2:
            mapping[marker] = best
    return mapping
