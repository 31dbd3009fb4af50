"""One model, many users: the fair queue, 503 when full, freed places, a responsive event loop.

These use a slow deterministic model (tests/fakes.py) so that "still generating"
is a fact of the test, not a race; the real model's answers are covered elsewhere.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from assistant import prompts
from tests.fakes import SlowLLM
from tests.polling import eventually
from web.queue import FairQueue, QueueFull

from .conftest import index_corpus, make_person, start_server

QUESTION = {"question": "Which garage level do employees park on?"}
PARKING_ANSWER = "Employees park in garage level P3."


@pytest.fixture
def slow_server(tmp_path, embedder):
    """A server whose model writes slowly; ``queue_size=1``: one answering, one waiting."""
    llm = SlowLLM(length=400, pause=0.02, words=PARKING_ANSWER)
    server, runtime = start_server(tmp_path, embedder, llm, queue_size=1)
    index_corpus(runtime)
    people = [make_person(runtime, server.url, f"user{n}@example.com", "employee") for n in range(4)]
    yield server, llm, people
    server.stop()


class OpenStream:
    """A streaming answer read up to its status saying the answer is being written: the model is busy with it
    until ``close()`` (nothing of the answer streams before it has been checked).

    The line iterator is kept: dropping it would make httpx close the connection.
    """

    def __init__(self, client: httpx.Client):
        self.response = client.send(
            client.build_request("POST", "/api/v1/ask", json={**QUESTION, "stream": True}), stream=True
        )
        self.lines = self.response.iter_lines()
        writing = f"data: {json.dumps({'text': prompts.WRITING})}"
        if writing not in self.lines:  # consumes lines up to that status
            raise AssertionError("the stream ended before the answer was being written")

    def close(self) -> None:
        self.response.close()



def test_full_queue_answers_503_with_retry_after_and_health_stays_prompt(slow_server):
    server, llm, (first, second, third, _) = slow_server
    answering = OpenStream(first.client)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(second.client.post, "/api/v1/ask", json=QUESTION)
        # Until the second request is queued, the third could still take its place.
        eventually(lambda: queue_depth(server) == 1, "the second question waiting")
        refused = third.client.post("/api/v1/ask", json=QUESTION)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
        assert "waiting" in refused.json()["detail"]
        # The event loop is free while the model works.
        with httpx.Client(base_url=server.url) as probe:
            assert probe.get("/healthz").json() == {"status": "ok"}
        answering.close()
        served = waiting.result(timeout=120)
    assert served.status_code == 200
    assert served.json()["answer"].startswith(PARKING_ANSWER)


def test_questions_waiting_for_the_model_hold_no_database_connection(slow_server):
    """Otherwise a queue longer than the database pool stalls every request on a connection,
    the event loop's own included, and fails them after the pool's timeout."""
    server, llm, (first, second, _, _) = slow_server
    pool = server.app.state.runtime.sessions.kw["bind"].pool
    answering = OpenStream(first.client)
    with ThreadPoolExecutor(1) as threads:
        waiting = threads.submit(second.client.post, "/api/v1/ask", json=QUESTION)
        eventually(lambda: queue_depth(server) == 1, "the second question waiting")
        assert pool.checkedout() == 0
        answering.close()
        assert waiting.result(timeout=120).status_code == 200


def queue_depth(server) -> int:
    """Questions waiting, as the server's own queue counts them."""
    return server.app.state.answering.queue.depth


def test_a_client_that_disconnects_frees_the_model_at_once(slow_server):
    server, llm, (first, second, _, _) = slow_server
    stream = OpenStream(first.client)
    stream.close()  # the browser tab is closed mid-answer
    answered = second.client.post("/api/v1/ask", json=QUESTION)
    assert answered.status_code == 200
    cut_short, completed = llm.generations
    assert not cut_short.finished and cut_short.pieces < llm.length
    assert completed.finished


def test_a_request_that_gives_up_while_waiting_leaves_the_queue(slow_server):
    server, llm, (first, second, third, _) = slow_server
    stream = OpenStream(first.client)
    with httpx.Client(base_url=server.url, timeout=0.5, headers=second.client.headers) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post("/api/v1/ask", json=QUESTION)
    eventually(lambda: queue_depth(server) == 0, "the impatient question leave the queue")
    stream.close()
    # The place it held is free again: with queue_size=1 this one may wait instead of getting 503.
    assert third.client.post("/api/v1/ask", json=QUESTION).status_code == 200
    assert [g.finished for g in llm.generations] == [False, True]


def test_sse_stream_reports_its_status_then_the_checked_answer_then_sources_then_done(slow_server):
    server, llm, (first, *_) = slow_server
    llm.length = 3
    with first.client.stream("POST", "/api/v1/ask", json=QUESTION, headers={"Accept": "text/event-stream"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")]
    assert events == ["status"] * 3 + ["token", "sources", "done"]


def test_the_queue_serves_users_in_turn():
    async def scenario() -> list[str]:
        queue = FairQueue(max_waiting=10)
        order: list[str] = []

        async def ask(user: str, label: str) -> None:
            turn = queue.join(user)
            await turn.wait()
            order.append(label)
            await asyncio.sleep(0)
            turn.release()

        first = queue.join("alice")  # holds the model while the others line up
        tasks = [asyncio.create_task(ask(u, l)) for u, l in [("alice", "a2"), ("alice", "a3"), ("bob", "b1")]]
        await asyncio.sleep(0)
        assert queue.depth == 3
        first.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["a2", "b1", "a3"]


def test_the_queue_refuses_beyond_its_size():
    async def scenario() -> None:
        queue = FairQueue(max_waiting=1, seconds_per_answer=10)
        queue.join("a")
        queue.join("b")
        with pytest.raises(QueueFull) as refused:
            queue.join("c")
        assert refused.value.retry_after == 20

    asyncio.run(scenario())


def test_as_many_answers_run_at_once_as_the_model_servers_have_slots():
    async def scenario() -> None:
        slots = [2]
        queue = FairQueue(max_waiting=1, seconds_per_answer=10, slots=lambda: slots[0])
        a, b = queue.join("a"), queue.join("b")
        await asyncio.wait_for(asyncio.gather(a.wait(), b.wait()), 1)  # both generate at once
        c = queue.join("c")  # every slot busy: c waits
        assert queue.busy and queue.depth == 1
        with pytest.raises(QueueFull) as refused:
            queue.join("d")
        assert refused.value.retry_after == 10  # two places ahead, two answers at a time
        slots[0] = 1  # a server went away: one slot left
        a.release()
        assert queue.depth == 1  # b still holds the only slot
        b.release()
        await asyncio.wait_for(c.wait(), 1)
        c.release()
        assert not queue.busy and queue.depth == 0

    asyncio.run(scenario())
