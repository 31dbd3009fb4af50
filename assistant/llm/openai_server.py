"""Inference on an OpenAI-compatible server: llama.cpp's llama-server, vLLM, and the like.

Used when the model runs as its own service (compose.yaml) or on a bigger box.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from .base import LLM, ChatMessage, GenerationOptions, chat_request

log = logging.getLogger(__name__)


class OpenAIServerLLM(LLM):
    def __init__(self, base_url: str, api_key: str | None, model: str | None, context_size: int):
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=1)
        # The server knows which model it serves; a configured name must be one of them.
        served = [m.id for m in self._client.models.list().data]
        if not served:
            raise RuntimeError(f"the LLM server at {base_url} serves no model")
        if model and model not in served:
            log.warning("the LLM server serves %s, not %r; using %s", ", ".join(served), model, served[0])
        self.name = model if model in served else served[0]
        self.context_size = context_size

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        stream = self._client.chat.completions.create(model=self.name, **chat_request(messages, options))
        try:
            for chunk in stream:
                if chunk.choices:
                    yield chunk.choices[0].delta.content or ""
        finally:
            stream.close()
