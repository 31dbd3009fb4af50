"""In-process inference with llama-cpp-python: the appliance's default backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .base import LLM, ChatMessage, GenerationOptions, chat_request


class LlamaCppLLM(LLM):
    def __init__(self, model_path: Path, name: str, context_size: int, threads: int, batch_size: int):
        from llama_cpp import Llama

        self.name = name
        self.context_size = context_size
        # chat_format=None: llama-cpp-python takes the chat template from the GGUF metadata.
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=context_size,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=batch_size,
            verbose=False,
        )
        # One llama context cannot serve two generations at once.
        self._lock = threading.Lock()

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        with self._lock:
            chunks = self._llama.create_chat_completion(**chat_request(messages, options))
            try:
                for chunk in chunks:
                    yield chunk["choices"][0]["delta"].get("content") or ""
            finally:
                chunks.close()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))
