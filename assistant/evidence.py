"""Evidence before answer: the retrieved passages cut into sentences, and the few that may answer.

A small model writing freely from three long passages mixes them up, states
a figure from the wrong line, or gives up on a fact that is there. Picking the
one sentence that answers is a much smaller task, and one it can be held to:
the candidates are ranked here by meaning and by words (as hybrid search ranks
chunks), and the model then only chooses among their numbers (``rag.py``).
Every citation ends up pointing at one of these sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.embeddings import Embedder, Vector
from assistant.facts import stems
from assistant.store import Hit

CANDIDATES = 6  # sentences the model chooses among: enough for the answer to be there, few enough to read
MIN_WORDS = 3  # a lone label answers nothing on its own
HEADING_WORDS = 6  # a short line without a figure or a full stop is a heading: it names a topic, answers nothing
MAX_CHARS = 400  # a run-on "sentence" (a table row, a list without stops) is cut into readable pieces
WORD_WEIGHT = 0.5  # meaning and shared words count alike, as in hybrid search
# A hyphen inside a line is a dash ("Danube - 3rd floor, 16 seats"), not a list item: only bullets and a
# checklist's boxes ("[ ] Arrive at 08:45", a text file's lines joined into one paragraph) split there.
_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+|(?<=:)\s+(?=[-•*])|\s+(?=[•*]\s)|\s*(?=\[[ xX]?\]\s)")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:Dr|Mr|Mrs|Ms|Prof|St|No|Nr|approx|incl|ca|vs|e\.g|i\.e|z\.B)\.$")
_LIST_MARK = re.compile(r"^\s*(?:[-•*]|\d+[.)]|\[[ xX]?\])\s+")
# A line break inside a sentence (PDF text wraps lines): before a lower-case word or a figure, after no stop.
_WRAPPED = re.compile(r"(?<![.!?:;|])[ \t]*\n(?=[ \t]*[a-z0-9(])")
# Or after a word no sentence or heading ends with, whatever follows ("from 16:00 at the\nDonaupark Pavilion",
# a mail wrapped at 76 characters): an article, a preposition or a conjunction, English or German.
_OPEN_ENDED = re.compile(
    r"(?<!\S)(the|a|an|of|to|at|in|on|by|for|from|with|and|or|der|die|das|den|dem|des|ein|eine|und|oder|mit|von|"
    r"zu|für|auf|im|am)[ \t]*\n[ \t]*(?=\S)"
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage; ``source`` is the passage's place in the hit list (0-based)."""

    source: int
    text: str
    score: float = 0.0
    before: str = ""  # the sentence before it in its passage: a heading or lead-in often says what it is about


def sentences_of(text: str) -> list[str]:
    """The passage's sentences that may answer something (lines of a table or a list count), in order."""
    found: list[str] = []
    unwrapped = _OPEN_ENDED.sub(r"\1 ", _WRAPPED.sub(" ", _labelled_rows(text)))
    for piece in _joined_after_abbreviations(_BREAK.split(unwrapped)):
        piece = _LIST_MARK.sub("", " ".join(piece.split()))
        while len(piece) > MAX_CHARS:
            cut = piece.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 0 else MAX_CHARS
            found.append(piece[:cut])
            piece = piece[cut:].strip()
        if _answers_something(piece):
            found.append(piece)
    return found


def _joined_after_abbreviations(pieces: list[str]) -> list[str]:
    """The pieces with a break after "Dr." or "e.g." undone: "The occupational physician, Dr. Renate Moser,
    holds consultations …" is one sentence, and its second half alone does not say who is meant."""
    joined: list[str] = []
    for piece in pieces:
        if joined and _ABBREVIATION.search(joined[-1]):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def _labelled_rows(text: str) -> str:
    """Table rows ("a | b | c", as spreadsheets and tables are indexed) with each cell under its column's
    name from the table's header row, so a row read alone still says which figure is the price."""
    lines = text.split("\n")
    header: list[str] | None = None
    for index, line in enumerate(lines):
        cells = [c.strip() for c in line.split(" | ")]
        if len(cells) < 2:
            header = None
        elif header is None and not any(c.isdigit() for c in line):
            header, lines[index] = cells, ""
        elif header is not None and len(cells) == len(header):
            lines[index] = "; ".join(f"{name}: {cell}" for name, cell in zip(header, cells))
    return "\n".join(lines)


def _answers_something(piece: str) -> bool:
    """Whether a piece may hold an answer: not a question (an FAQ's), not a heading, not a lone label."""
    words = len([w for w in piece.split() if any(c.isalnum() for c in w)])  # a dash is no word
    if piece.endswith("?") or words < MIN_WORDS:
        return False
    return words >= HEADING_WORDS or piece.endswith((".", "!")) or any(c.isdigit() for c in piece)


def word_overlap(question: str, sentence: str) -> float:
    """Share of the question's word stems the sentence holds."""
    asked = stems(question)
    return len(asked & stems(sentence)) / len(asked) if asked else 0.0


def candidates(
    question: str, embedding: Vector, hits: list[Hit], embedder: Embedder, limit: int = CANDIDATES
) -> list[Sentence]:
    """The ``limit`` sentences of ``hits`` most likely to answer ``question``, best first."""
    unique: dict[str, Sentence] = {}  # a sentence repeated in overlapping chunks is read once
    for source, hit in enumerate(hits):
        before = ""
        for text in sentences_of(hit.text):
            unique.setdefault(text, Sentence(source, text, before=before))
            before = text
    if not unique:
        return []
    vectors = embedder.embed_documents(list(unique))
    scored = [
        replace(s, score=(1 - WORD_WEIGHT) * _cosine(embedding, vector) + WORD_WEIGHT * word_overlap(question, s.text))
        for s, vector in zip(unique.values(), vectors)
    ]
    best = sorted(scored, key=lambda s: s.score, reverse=True)
    return best[:limit]


def _cosine(a: Vector, b: Vector) -> float:
    return sum(x * y for x, y in zip(a, b))  # both normalised
