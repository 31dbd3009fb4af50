"""Deterministic stand-ins for a seam, for tests about the plumbing rather than the model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.llm import LLM, ChatMessage, GenerationOptions


@dataclass
class Generation:
    question: str
    pieces: int = 0
    finished: bool = False


class SlowLLM(LLM):
    """Writes "word " ``length`` times, one piece every ``pause`` seconds, citing [1] at the start.

    Each generation is recorded (how many pieces, whether it ran to the end), so
    a test can tell a generation that was cut short from one that finished.
    ``hold`` (when given) blocks every generation before its first piece until set.
    """

    name = "slow-test-model"
    context_size = 4096

    def __init__(self, length: int = 200, pause: float = 0.02, hold: threading.Event | None = None):
        self.length = length
        self.pause = pause
        self.hold = hold
        self.generations: list[Generation] = []

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        generation = Generation(question=messages[-1].content)
        self.generations.append(generation)
        if self.hold is not None:
            self.hold.wait()
        yield "[1] "
        for _ in range(self.length):
            time.sleep(self.pause)
            generation.pieces += 1
            yield "word "
        generation.finished = True
