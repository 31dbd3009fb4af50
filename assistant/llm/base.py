"""The LLM seam: messages in, text pieces streamed out."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 512
    temperature: float = 0.1
    stop: tuple[str, ...] = ()
    # The reply must be JSON of this schema: llama.cpp (in-process, llama-server, llama-cpp-python's
    # server) turns it into a grammar, so a small model can only answer in the allowed form.
    json_schema: dict | None = field(default=None, hash=False, compare=False)


def chat_request(messages: Sequence[ChatMessage], options: GenerationOptions) -> dict:
    """The OpenAI-style chat-completion arguments both llama-cpp-python and OpenAI servers take."""
    request = {
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
        "stop": list(options.stop) or None,
        "stream": True,
    }
    if options.json_schema is not None:
        request["response_format"] = {"type": "json_object", "schema": options.json_schema}
    return request


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

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` will take; backends without a tokenizer estimate generously."""
        return len(text) // 3 + 1
