"""Running an answer for a web request: a turn in the fair queue, generation in a worker
thread (the event loop never blocks), cancellation when the caller goes away, metrics."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import Request

from assistant.access import Viewer
from assistant.llm import ChatMessage, GenerationCancelled
from assistant.rag import Answer, Assistant, Progress, Token

from .metrics import Metrics
from .queue import FairQueue

_END = object()


class Answering:
    """``assistant`` is called for each question, so the server can start before the assistant is built."""

    def __init__(self, assistant: Callable[[], Assistant], queue: FairQueue, metrics: Metrics):
        self.assistant = assistant
        self.queue = queue
        self.metrics = metrics

    def check_capacity(self) -> None:
        """Raise QueueFull now if a new question would be refused (before a stream's headers go out)."""
        self.queue.check_capacity()

    async def stream(
        self,
        requester: str,
        question: str,
        viewer: Viewer,
        history: Sequence[ChatMessage] = (),
        k: int | None = None,
        request: Request | None = None,
    ) -> AsyncIterator[Progress | Token | Answer]:
        """Progress and Token events, then the Answer, once ``requester``'s turn comes. Raises QueueFull at once.

        Pass ``request`` when the caller is not a streaming response: the caller
        is then watched, and waiting or generation stops as soon as it disconnects.
        (A streaming response is cancelled by the server when its client goes.)
        """
        turn = self.queue.join(requester)
        self.metrics.queue_depth.set(self.queue.depth)
        cancel = threading.Event()
        gone = asyncio.Event()
        watcher = asyncio.create_task(_watch(request, cancel, gone)) if request is not None else None
        try:
            await _unless_gone(turn.wait(), gone)
            self.metrics.queue_depth.set(self.queue.depth)
            async for event in self._generate(question, viewer, history, k, cancel):
                yield event
        finally:
            cancel.set()
            if watcher:
                watcher.cancel()
            turn.release()
            self.metrics.queue_depth.set(self.queue.depth)

    async def answer(self, requester: str, question: str, viewer: Viewer, history=(), k=None, request=None) -> Answer:
        async for event in self.stream(requester, question, viewer, history, k, request):
            if isinstance(event, Answer):
                return event
        raise asyncio.CancelledError("the caller went away")

    async def _generate(
        self, question, viewer, history, k, cancel: threading.Event
    ) -> AsyncIterator[Progress | Token | Answer]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()

        def work() -> None:
            try:
                for event in self.assistant().ask(question, viewer, history, k, cancel):
                    loop.call_soon_threadsafe(events.put_nowait, event)
            except BaseException as error:  # handed to the event loop, raised there
                loop.call_soon_threadsafe(events.put_nowait, error)
            finally:
                loop.call_soon_threadsafe(events.put_nowait, _END)

        started = time.monotonic()
        worker = loop.run_in_executor(None, work)
        first = True
        try:
            while (event := await events.get()) is not _END:
                if isinstance(event, BaseException):
                    raise event
                if isinstance(event, Token) and first:
                    self.metrics.time_to_first_token.observe(time.monotonic() - started)
                    first = False
                elif isinstance(event, Answer):
                    self.metrics.answers.labels("nothing_found" if event.found_nothing else "answered").inc()
                    self.metrics.tokens.inc(event.provenance["generated_tokens"])
                yield event
        finally:
            cancel.set()
            # The model is free only once the worker has stopped (within one token).
            await asyncio.shield(worker)


async def _watch(request: Request, cancel: threading.Event, gone: asyncio.Event) -> None:
    """Once the caller disconnects, stop its generation (``cancel``) or its wait (``gone``)."""
    while not await request.is_disconnected():
        await asyncio.sleep(0.2)
    cancel.set()
    gone.set()


async def _unless_gone(waiting, gone: asyncio.Event) -> None:
    """Await ``waiting``; raise GenerationCancelled instead if the caller goes first."""
    waiting, going = asyncio.ensure_future(waiting), asyncio.ensure_future(gone.wait())
    done, _ = await asyncio.wait({waiting, going}, return_when=asyncio.FIRST_COMPLETED)
    going.cancel()
    if waiting not in done:
        waiting.cancel()
        raise GenerationCancelled()
