"""Where the time goes: proxies that add up the seconds spent in an object's methods."""

from __future__ import annotations

import time


class Timed:
    """Stands in for ``inner``; every method call's duration is added to ``seconds``."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


class TimedEmbedder(Timed):
    """An embedder that also keeps each ``embed_documents`` call's texts and duration."""

    def __init__(self, inner):
        super().__init__(inner)
        self.calls: list[tuple[list[str], float]] = []

    def embed_documents(self, texts, on_batch=None):
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts, on_batch)
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        self.calls.append((list(texts), elapsed))
        return vectors
