"""The LLM seam: messages in, text pieces streamed out."""

from __future__ import annotations

import math
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 512
    temperature: float = 0.1
    stop: tuple[str, ...] = ()


def chat_request(messages: Sequence[ChatMessage], options: GenerationOptions) -> dict:
    """The OpenAI-style chat-completion arguments both llama-cpp-python and OpenAI servers take."""
    return {
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
        "stop": list(options.stop) or None,
        "stream": True,
    }


class GenerationCancelled(Exception):
    """The caller went away; the model stopped early."""


class LLM(ABC):
    """A chat model. A backend implements ``_stream`` and says how big its window is."""

    name: str
    context_size: int
    sha256: str | None = None  # of the model file, where the backend knows it: recorded with each answer

    @property
    def parallel(self) -> int:
        """Answers this model generates at once (one llama.cpp context: one)."""
        return 1

    @abstractmethod
    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Yield the answer as it is generated, piece by piece."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions = GenerationOptions(),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream the answer; stops between pieces once ``cancel`` is set."""
        pieces = self._stream(messages, options)
        try:
            for piece in pieces:
                if cancel is not None and cancel.is_set():
                    raise GenerationCancelled()
                if piece:
                    yield piece
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()

    def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions = GenerationOptions()) -> str:
        return "".join(self.stream(messages, options))

    def choice_probabilities(self, messages: Sequence[ChatMessage], choices: Sequence[str]) -> dict[str, float]:
        """How likely the reply begins with each of ``choices`` (single words, their case ignored), normalised over
        them: 0.5 is a coin toss, where a written reply only says which is likelier. A backend that cannot read
        its token probabilities gives the word it writes first 1."""
        return as_written(self.complete(messages, GenerationOptions(max_tokens=4, temperature=0.0)), choices)

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` will take; backends without a tokenizer estimate generously."""
        return len(text) // 3 + 1


def as_written(reply: str, choices: Sequence[str]) -> dict[str, float]:
    """Certainty of the first of ``choices`` a reply says ("Yes, it does." says yes; a JSON reply's value counts
    too), where no token probabilities can be read: 1 for it, 0 for the others (all 0 when it says none)."""
    chosen = next((word for word in re.findall(r"[a-z]+", reply.lower()) if word in choices), None)
    return {choice: float(choice == chosen) for choice in choices}


def choice_word(token: str) -> str:
    """A token as the word it spells: "Yes", " yes" and "YES" are all yes."""
    return token.strip().strip('"').lower()


def normalised(log_probabilities: dict[str, list[float]]) -> dict[str, float]:
    """Each choice's probability from the log-probabilities (or logits) of the tokens that spell it, summed
    and made to add up to one over the choices."""
    top = max(value for values in log_probabilities.values() for value in values)
    weights = {choice: sum(math.exp(v - top) for v in values) for choice, values in log_probabilities.items()}
    total = sum(weights.values())
    return {choice: weight / total for choice, weight in weights.items()}
