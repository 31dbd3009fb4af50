"""The LLM seam against a real OpenAI-compatible server: llama-cpp-python's, with the 0.5B model.

Failure modes covered: ``llm_backend="openai"`` not building the server client;
the served model's name not discovered; the stream not arriving piece by piece;
a cancelled answer running on, or leaving the server busy for the next question;
a RAG answer through the server citing the wrong document, or none; the check model's certainty read
differently from the server than in-process, or not at all from a server that refuses log-probabilities.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import prompts
from assistant.access import Viewer
from assistant.llm import ChatMessage, GenerationCancelled, GenerationOptions, get_llm
from assistant.llm.base import as_written
from assistant.llm.openai_server import OpenAIServerLLM
from assistant.rag import Answer, Token
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.backends.conftest import SERVED_MODEL, LlamaServer, free_port
from tests.conftest import TEST_CONTEXT_SIZE, runtime_with, settings_for

pytestmark = pytest.mark.llm

COUNT = [ChatMessage("user", "Count from 1 to 300, one number per line, nothing else.")]
MAX_TOKENS = 400  # the count would run past it


@pytest.fixture(scope="module")
def server_llm(llm_server) -> OpenAIServerLLM:
    built = get_llm(settings_for(data_dir=Path("unused"), llm_backend="openai", llm_url=llm_server))
    assert isinstance(built, OpenAIServerLLM)
    return built


def test_the_served_models_name_is_discovered(server_llm):
    assert server_llm.name == SERVED_MODEL  # from /v1/models: no model configured in the settings
    assert server_llm.context_size == TEST_CONTEXT_SIZE


def test_the_answer_streams_in_pieces(server_llm):
    pieces = list(server_llm.stream(
        [ChatMessage("user", "Name three colours of the rainbow, comma separated.")],
        GenerationOptions(max_tokens=24, temperature=0.0),
    ))  # fmt: skip
    assert len(pieces) > 3 and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces).strip()


def test_cancelling_stops_the_stream_and_frees_the_server(server_llm):
    def say_ok() -> float:
        started = time.monotonic()
        assert server_llm.complete([ChatMessage("user", "Say OK.")], GenerationOptions(max_tokens=4, temperature=0.0))
        return time.monotonic() - started

    unhindered = say_ok()
    cancel = threading.Event()
    received = []
    with pytest.raises(GenerationCancelled):
        for piece in server_llm.stream(COUNT, GenerationOptions(max_tokens=MAX_TOKENS, temperature=0.0), cancel):
            received.append(piece)
            if len(received) == 6:
                cancel.set()
    assert len(received) == 6  # nothing after the cancel reached the caller

    # Cancelling closed the connection, so the server dropped the abandoned answer: the next
    # question does not queue behind the ~MAX_TOKENS pieces that answer would still have taken.
    waited = say_ok()
    assert waited < 5 * unhindered + 3, f"{waited:.1f} s for a 4-token answer ({unhindered:.1f} s before the cancel)"


def test_the_server_and_the_in_process_model_are_equally_sure_of_a_verdict(server_llm, llm):
    # The same 0.5B model: its probability of "yes" read from the server's log-probabilities and from
    # llama.cpp's logits in-process must agree, or the check would depend on where the model runs.
    question = "When does the canteen close?"
    answering = prompts.confirm_messages(question, "The canteen is open Monday to Friday from 11:30 to 14:00.")
    unrelated = prompts.confirm_messages(question, "Laptops are replaced every three years.")
    sure = {}
    for name, messages in (("answering", answering), ("unrelated", unrelated)):
        served = server_llm.choice_probabilities(messages, prompts.CONFIRM_CHOICES)
        here = llm.choice_probabilities(messages, prompts.CONFIRM_CHOICES)
        assert sum(here.values()) == pytest.approx(1.0) and sum(served.values()) == pytest.approx(1.0)
        assert 0.0 < here["yes"] < 1.0, "a probability, not a verdict"
        assert served["yes"] == pytest.approx(here["yes"], abs=0.05)
        sure[name] = here["yes"]
    assert sure["answering"] > sure["unrelated"]


@pytest.fixture(scope="module")
def server_without_logprobs(tmp_path_factory) -> Iterator[LlamaServer]:
    """A second llama.cpp server, started with its logits off: it answers a request for log-probabilities 500."""
    server = LlamaServer(tmp_path_factory.mktemp("no-logprobs"), free_port(), threads=1, options=("--logits_all", "False"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_server_that_refuses_log_probabilities_gives_the_verdict_it_writes(server_without_logprobs, llm):
    messages = prompts.confirm_messages("When does the canteen close?", "The canteen is open from 11:30 to 14:00.")
    asked = {"model": SERVED_MODEL, "messages": [{"role": m.role, "content": m.content} for m in messages],
             "max_tokens": 1, "logprobs": True, "top_logprobs": 5}  # fmt: skip
    refused = httpx.post(f"{server_without_logprobs.url}/chat/completions", json=asked, timeout=60)
    assert refused.status_code == 500 and "logprobs" in refused.text
    served = get_llm(settings_for(data_dir=Path("unused"), llm_backend="openai", llm_url=server_without_logprobs.url))

    verdict = served.choice_probabilities(messages, prompts.CONFIRM_CHOICES)

    written = llm.complete(messages, GenerationOptions(max_tokens=1, temperature=0.0))  # the same model, in-process
    assert verdict == as_written(written, prompts.CONFIRM_CHOICES) and sum(verdict.values()) == 1.0


def test_a_rag_answer_through_the_server_cites_the_right_document(llm_server, embedder, tmp_path):
    # The Runtime builds the LLM from the settings, as `enclave serve` would.
    settings = settings_for(data_dir=tmp_path / "data", llm_backend="openai", llm_url=llm_server, max_answer_tokens=48)
    runtime = runtime_with(settings, embedder)
    texts = {
        "server-room.md": "The server room in Building C opens with access code 7391. Visitors must be escorted.",
        "canteen.md": "The canteen serves soup on Thursdays and pasta on Fridays.",
        "parking.md": "Employees park in garage level P3; visitors use level P1.",
    }
    for name, text in texts.items():
        runtime.sink.index(
            Source("files", "local"),
            SourceDocument(external_id=name, title=name, uri=f"file:///docs/{name}", content=text.encode(), filename=name),
        )

    events = list(runtime.assistant.ask("What is the access code for the server room in Building C?", Viewer.operator()))

    answer = events[-1]
    assert isinstance(answer, Answer) and not answer.found_nothing
    assert [e.text for e in events if isinstance(e, Token)] == [answer.text]  # the checked answer, not a draft
    assert "7391" in answer.text
    assert answer.sources[0].hit.origin.title == "server-room.md"
    assert isinstance(runtime.llm(), OpenAIServerLLM) and runtime.llm().name == SERVED_MODEL
