"""Deterministic stand-ins for a seam, for tests about the plumbing rather than the model."""

from __future__ import annotations

import math
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant import prompts
from assistant.embeddings import Embedder, Vector
from assistant.llm import LLM, ChatMessage, GenerationOptions


@dataclass
class Generation:
    question: str
    pieces: int = 0
    finished: bool = False


class SlowLLM(LLM):
    """Writes ``length`` words of ``words`` (over and over), one piece every ``pause`` seconds, citing [1] at
    the start. Words from the test's documents make an answer that passes Enclave's check.

    Each generation is recorded (how many pieces, whether it ran to the end), so
    a test can tell a generation that was cut short from one that finished.
    ``hold`` (when given) blocks every generation before its first piece until set.
    """

    name = "slow-test-model"
    context_size = 4096

    def __init__(self, length: int = 200, pause: float = 0.02, hold: threading.Event | None = None, words: str = "word"):
        self.length = length
        self.words = words.split()
        self.pause = pause
        self.hold = hold
        self.generations: list[Generation] = []

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        generation = Generation(question=messages[-1].content)
        self.generations.append(generation)
        if self.hold is not None:
            self.hold.wait()
        yield "[1] "
        for n in range(self.length):
            time.sleep(self.pause)
            generation.pieces += 1
            yield self.words[n % len(self.words)] + " "
        generation.finished = True


class WordHashEmbedder(Embedder):
    """Each word hashed into one of 64 dimensions, normalised: texts sharing words are close. Fast and
    deterministic, for tests about what is done with vectors rather than how good they are."""

    name = "word-hash-test-embedder"

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        vectors = []
        for text in texts:
            vector = [0.0] * 64
            for word in text.lower().split():
                vector[zlib.crc32(word.encode()) % 64] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


class ScriptedLLM(LLM):
    """Replies by task, told apart by the system prompt: the answer it writes, the words it copies on the
    second try (by default the same), its verdict. Every request is recorded, with its options (``requests``)."""

    name = "scripted-test-model"
    context_size = 4096
    sha256 = "0" * 64

    def __init__(
        self, write: str = "An answer.", extract: str | None = None, confirm: str = "Yes.",
        sure: float | None = None, sure_of: dict[str, float] | None = None,
    ):
        self.sure = sure  # the check model's P(yes), when a test sets how sure it is rather than what it writes
        self.sure_of = sure_of or {}  # its P(yes) for a passage holding one of these words, before ``sure``
        self.replies = {
            prompts.ANSWER_RULES: write,
            prompts.EXTRACT_RULES: write if extract is None else extract,
            prompts.CONFIRM_RULES: confirm,
        }
        self.requests: list[tuple[Sequence[ChatMessage], GenerationOptions]] = []

    def choice_probabilities(self, messages: Sequence[ChatMessage], choices: Sequence[str]) -> dict[str, float]:
        passage = messages[-1].content.split("\n\nQuestion:")[0]
        sure = next((p for words, p in self.sure_of.items() if words in passage), self.sure)
        if sure is None:
            return super().choice_probabilities(messages, choices)  # the word ``confirm`` writes first
        self.requests.append((messages, GenerationOptions(max_tokens=1)))
        return {"yes": sure, "no": 1 - sure}

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        self.requests.append((messages, options))
        reply = self.replies.get(messages[0].content, "")
        yield from (reply[i : i + 7] for i in range(0, len(reply), 7))
