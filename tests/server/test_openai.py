"""The OpenAI-compatible endpoint, driven by the official openai client, with the real model."""

from __future__ import annotations

import openai
import pytest

from assistant.rag import cited_numbers

pytestmark = pytest.mark.llm

QUESTION = "Which garage level do employees park on at the Tromso office?"


@pytest.fixture
def client(enclave_server):
    return openai.OpenAI(base_url=f"{enclave_server.url}/v1", api_key=enclave_server.employee.key, max_retries=0)


def test_models_lists_the_served_model(client):
    assert [m.id for m in client.models.list().data] == ["qwen2.5-coder-0.5b-instruct"]


def test_completion_is_grounded_and_carries_its_sources(client):
    completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert completion.model == "qwen2.5-coder-0.5b-instruct"
    assert "P3" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    sources = completion.model_extra["sources"]
    assert sources[0]["title"] == "parking.md"


def test_streamed_completion_ends_with_the_sources(client):
    stream = client.chat.completions.create(
        model="enclave", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "P3" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    sources = chunks[-1].model_extra["sources"]
    assert sources[0]["title"] == "parking.md"
    assert all("sources" not in c.model_extra for c in chunks[:-1])
    # What the client shows is the checked answer: each of its markers names a source it was given.
    assert cited_numbers(text) and set(cited_numbers(text)) <= {s["n"] for s in sources}


def test_a_key_only_sees_its_users_documents(enclave_server):
    outsider = openai.OpenAI(base_url=f"{enclave_server.url}/v1", api_key=enclave_server.outsider.key, max_retries=0)
    completion = outsider.chat.completions.create(
        model="enclave", messages=[{"role": "user", "content": "What did the board approve about Fjordlight?"}]
    )
    assert "board-minutes.md" not in [s["title"] for s in completion.model_extra["sources"]]
    assert "41 million" not in completion.choices[0].message.content


def test_errors_come_in_openai_shape(enclave_server, client):
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="enclave", messages=[{"role": "assistant", "content": "hello"}])
    assert "last message must be a user message" in bad.value.body["message"]
    revoked = openai.OpenAI(base_url=f"{enclave_server.url}/v1", api_key="enc_revoked-or-made-up", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        revoked.models.list()
