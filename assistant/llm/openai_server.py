"""Inference on OpenAI-compatible servers: llama.cpp's llama-server, vLLM, and the like.

Used when the model runs as its own service (compose.yaml) or on a bigger box.
Several servers of the same model can share the questions (``servers.py``):
each call goes to the one with the most free slots, and a call that fails before
its first piece is tried on another.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import httpx

from .base import LLM, ChatMessage, GenerationOptions, as_written, chat_request, choice_word, normalised
from .servers import ServerPool, Upstream

log = logging.getLogger(__name__)

# Alternatives the server reports for the first token: enough to hold each spelling of yes and no.
TOP_LOGPROBS = 10


class OpenAIServerLLM(LLM):
    def __init__(
        self,
        base_urls: Sequence[str],
        api_key: str | None,
        model: str | None,
        context_size: int,
        slots: int | None = None,
    ):
        from openai import OpenAI

        upstreams = []
        for url in base_urls:
            # No retries of its own: a failed call is tried on another server instead.
            client = OpenAI(base_url=url, api_key=api_key or "not-needed", max_retries=0)
            upstreams.append(Upstream(url, api_key, client=client))
        self.pool = ServerPool(upstreams, slots=slots)
        # The servers know which model they serve; a configured name must be one of them.
        served = self._served_models()
        if model and model not in served:
            log.warning("the LLM server serves %s, not %r; using %s", ", ".join(served), model, served[0])
        self.name = model if model in served else served[0]
        self.context_size = context_size

    def _served_models(self) -> list[str]:
        import openai

        for upstream in self.pool.upstreams:
            try:
                served = [m.id for m in upstream.client.models.list().data]
            except (openai.APIError, httpx.HTTPError) as error:
                self.pool.failed(upstream, error)
                continue
            if served:
                return served
            self.pool.failed(upstream, RuntimeError("it serves no model"))
        reasons = "; ".join(f"{u.url}: {u.reason}" for u in self.pool.upstreams)
        raise RuntimeError(f"no LLM server answers with a model ({reasons})")

    @property
    def parallel(self) -> int:
        return self.pool.capacity

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        import openai

        request = chat_request(messages, options)
        while True:
            upstream = self.pool.acquire()  # raises NoServerAnswers (503, Retry-After) when none is up
            answered = False
            try:
                stream = upstream.client.chat.completions.create(model=self.name, **request)
                try:
                    for chunk in stream:
                        if chunk.choices:
                            answered = True
                            yield chunk.choices[0].delta.content or ""
                finally:
                    stream.close()
                return
            except (openai.APIConnectionError, openai.APIStatusError, httpx.TransportError) as error:
                if not _server_down(error):
                    raise  # this request's own fault (400, 500 for this prompt): another server would fail it too
                self.pool.failed(upstream, error)
                if answered:
                    raise  # half an answer cannot be finished by another server
            finally:
                self.pool.release(upstream)

    def choice_probabilities(self, messages: Sequence[ChatMessage], choices: Sequence[str]) -> dict[str, float]:
        """Read from the log-probabilities the server gives for the reply's first token (llama-server's,
        llama-cpp-python's and vLLM's do). A choice not among them counts as likely as the least likely listed.
        From a server that gives none, or refuses to, the word it writes (as ``LLM.choice_probabilities``)."""
        import openai

        request = chat_request(messages, GenerationOptions(max_tokens=1, temperature=0.0))
        request["stream"] = False
        try:
            reply = self._complete_once({**request, "logprobs": True, "top_logprobs": TOP_LOGPROBS}).choices[0]
        except openai.APIStatusError:
            # Some servers refuse to give them (llama_cpp.server started with logits_all off answers 500): the word
            # it writes, asked again without them. A fault of the request itself fails this second try too.
            reply = self._complete_once(request).choices[0]
        listed = reply.logprobs.content[0].top_logprobs if reply.logprobs and reply.logprobs.content else []
        spelled = {c: [t.logprob for t in listed if choice_word(t.token) == c] for c in choices}
        if not any(spelled.values()):  # a server that gives no log-probabilities: the word it wrote
            return as_written(reply.message.content or "", choices)
        least = min(t.logprob for t in listed)
        return normalised({c: values or [least] for c, values in spelled.items()})

    def _complete_once(self, request: dict):
        """One whole (not streamed) completion, from another server when the first is down."""
        import openai

        while True:
            upstream = self.pool.acquire()
            try:
                return upstream.client.chat.completions.create(model=self.name, **request)
            except (openai.APIConnectionError, openai.APIStatusError, httpx.TransportError) as error:
                if not _server_down(error):
                    raise
                self.pool.failed(upstream, error)
            finally:
                self.pool.release(upstream)


def _server_down(error: Exception) -> bool:
    """Unreachable, timed out, or saying it cannot serve now (a proxy's 502/504, a loading server's 503)."""
    import openai

    if isinstance(error, openai.APIStatusError):
        return error.status_code in (502, 503, 504)
    return True
