"""Query expansion for indexes of long technical manuals: before searching, a model writes the passage it
expects the answer in (HyDE, "hypothetical document embeddings"), and search looks for the question together
with that passage. A user's words ("glue the values of many rows into one string") then meet the manual's
("string_agg"), which the question alone shares with no page.

The passage is never shown: its facts may be wrong as long as its words resemble the page that answers. The
larger check model writes it: the 0.5B's passages (MySQL commands for a PostgreSQL question) did not help.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant import prompts
from assistant.llm import LLM, GenerationOptions

PASSAGE_TOKENS = 80  # two or three sentences; each token is paid for on every search


class PassageWriter:
    """Expands a search query with the passage ``llm`` expects to answer it."""

    def __init__(self, llm: Callable[[], LLM], max_tokens: int = PASSAGE_TOKENS):
        self._llm = llm  # loaded on first search
        self.options = GenerationOptions(max_tokens=max_tokens, temperature=0.0)

    def __call__(self, query: str) -> str:
        passage = "".join(self._llm().stream(prompts.passage_messages(query), self.options)).strip()
        return f"{query}\n{passage}" if passage else query
