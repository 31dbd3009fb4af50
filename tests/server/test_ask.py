"""Asking over HTTP with the real 0.5B model: JSON and streamed answers, conversations, follow-ups,
feedback, and permissions applied inside retrieval."""

from __future__ import annotations

import json

import pytest

from assistant import prompts
from assistant.catalog import find_model
from tests.conftest import _isolated_settings

pytestmark = pytest.mark.llm

PARKING = "Which garage level do employees park on at the Tromso office?"
CATALOG_SHA256 = find_model(_isolated_settings(), "qwen2.5-coder-0.5b-instruct").sha256


def sse_events(response) -> list[tuple[str, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_ask_answers_with_the_cited_document(enclave_server):
    response = enclave_server.employee.client.post("/api/v1/ask", json={"question": PARKING})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "P3" in body["answer"]
    assert body["sources"][0]["title"] == "parking.md"
    assert body["sources"][0]["id"] == enclave_server.documents["parking.md"]
    assert set(body["sources"][0]) >= {"id", "title", "uri", "snippet", "score"}
    assert body["conversation_id"] and body["message_id"]


def test_streamed_answer_shows_its_status_then_arrives_once_checked_then_sources_then_done(enclave_server):
    with enclave_server.employee.client.stream("POST", "/api/v1/ask", json={"question": PARKING, "stream": True}) as r:
        events = sse_events(r)
    names = [name for name, _ in events]
    statuses = [data["text"] for name, data in events if name == "status"]
    assert names == ["status"] * len(statuses) + ["token", "sources", "done"]
    assert statuses == [prompts.SEARCHING, prompts.WRITING, prompts.CHECKING]
    final = events[-2][1]
    streamed = "".join(data["text"] for name, data in events if name == "token")
    # What streams is the checked answer with Enclave's marker, never the model's draft.
    assert final["outcome"] == "answered"
    assert streamed == final["answer"] and final["answer"].endswith("[1].")
    assert final["sources"][0]["title"] == "parking.md" and "P3" in final["sources"][0]["quote"]
    # The exchange is stored in the conversation.
    conversation = enclave_server.employee.client.get(f"/api/v1/conversations/{final['conversation_id']}").json()
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][1]["id"] == final["message_id"]
    # With how it was made: model file, prompts, chunks, the cited sentence, the verdict.
    provenance = conversation["messages"][1]["provenance"]
    assert provenance["model"] == {"name": "qwen2.5-coder-0.5b-instruct", "sha256": CATALOG_SHA256}
    assert provenance["prompt_version"] == prompts.VERSION and provenance["outcome"] == "answered"
    assert [e["text"] for e in provenance["evidence"] if e["cited"]] == [final["sources"][0]["quote"]]
    assert final["sources"][0]["chunk_id"] in [r["chunk_id"] for r in provenance["retrieved"]]
    assert provenance["verdict"] == {"premise": "supported", "answer": "supported"}


def test_a_follow_up_is_understood_from_the_conversation(enclave_server):
    client = enclave_server.employee.client
    first = client.post("/api/v1/ask", json={"question": PARKING}).json()
    follow_up = client.post(
        "/api/v1/ask",
        json={"question": "And where do visitors park there?", "conversation_id": first["conversation_id"], "debug": True},
    ).json()
    assert "debug" not in first or first["debug"] is None  # only when asked for
    # The rewrite is visible: a standalone question, and the search led by the question it follows.
    assert follow_up["debug"]["standalone_question"].strip()
    assert follow_up["debug"]["search_query"] == f"{PARKING}\n{follow_up['debug']['standalone_question']}"
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert not follow_up["found_nothing"]
    assert "parking.md" in [s["title"] for s in follow_up["sources"]]
    messages = client.get(f"/api/v1/conversations/{first['conversation_id']}").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]


def test_nothing_relevant_is_said_plainly(enclave_server):
    body = enclave_server.employee.client.post("/api/v1/ask", json={"question": "What is the boiling point of mercury?"}).json()
    assert body["found_nothing"] is True and body["sources"] == []
    assert "couldn't find" in body["answer"]


def test_people_only_get_documents_they_may_see(enclave_server):
    question = {"question": "What commission do account executives earn on deals above quota?"}
    seller = enclave_server.employee.client.post("/api/v1/ask", json=question).json()
    assert "sales-bonus.md" in [s["title"] for s in seller["sources"]]
    outsider = enclave_server.outsider.client.post("/api/v1/ask", json=question).json()
    assert "sales-bonus.md" not in [s["title"] for s in outsider["sources"]]
    assert "7.5" not in outsider["answer"]
    for person, visible in ((enclave_server.employee, False), (enclave_server.admin, True)):
        hits = person.client.get("/api/v1/search", params={"q": "board acquisition Fjordlight", "k": 10}).json()
        assert ("board-minutes.md" in [h["title"] for h in hits]) is visible


def test_search_returns_scored_chunks(enclave_server):
    hits = enclave_server.employee.client.get("/api/v1/search", params={"q": "parking garage level", "k": 2}).json()
    assert len(hits) == 2
    assert hits[0]["title"] == "parking.md" and hits[0]["document_id"] == enclave_server.documents["parking.md"]
    assert hits[0]["score"] >= hits[1]["score"]


def test_feedback_reaches_the_admin_list(enclave_server):
    client = enclave_server.employee.client
    answer = client.post("/api/v1/ask", json={"question": PARKING}).json()
    rated = client.post(f"/api/v1/messages/{answer['message_id']}/feedback", json={"rating": "down", "comment": "Wrong floor"})
    assert rated.status_code == 204
    assert client.get("/api/v1/feedback").status_code == 403
    listed = enclave_server.admin.client.get("/api/v1/feedback", params={"rating": "down"}).json()
    entry = next(f for f in listed if f["message_id"] == answer["message_id"])
    assert (entry["comment"], entry["user_email"], entry["question"]) == ("Wrong floor", "ana@example.com", PARKING)
    assert entry["answer"] == answer["answer"] and entry["sources"][0]["title"] == "parking.md"
    assert entry["provenance"]["outcome"] == "answered"  # admins see how the rated answer was made
    conversation = client.get(f"/api/v1/conversations/{answer['conversation_id']}").json()
    assert conversation["messages"][1]["rating"] == "down"


def test_conversations_can_be_listed_searched_renamed_and_deleted(enclave_server):
    client = enclave_server.outsider.client
    created = client.post("/api/v1/ask", json={"question": "Where is the parking garage?"}).json()
    conversation_id = created["conversation_id"]
    assert client.patch(f"/api/v1/conversations/{conversation_id}", json={"title": "Parking notes"}).status_code == 200
    found = client.get("/api/v1/conversations", params={"q": "parking n"}).json()
    assert [c["id"] for c in found] == [conversation_id]
    assert client.delete(f"/api/v1/conversations/{conversation_id}").status_code == 204
    assert client.get(f"/api/v1/conversations/{conversation_id}").status_code == 404


def test_metrics_count_requests_tokens_and_the_index(enclave_server):
    enclave_server.employee.client.post("/api/v1/ask", json={"question": PARKING})
    text = enclave_server.admin.client.get("/metrics").text
    for name in (
        'enclave_http_requests_total{method="POST",route="/api/v1/ask",status="200"}',
        "enclave_http_request_seconds_bucket",
        "enclave_time_to_first_token_seconds_count",
        "enclave_tokens_generated_total",
        "enclave_queue_depth 0.0",
        "enclave_documents 3.0",
    ):
        assert name in text, name
    # Every token the model wrote for the drafts counts, though only the checked answer streams.
    tokens = next(line for line in text.splitlines() if line.startswith("enclave_tokens_generated_total "))
    assert float(tokens.split()[1]) > 3
    chunks = next(line for line in text.splitlines() if line.startswith("enclave_chunks "))
    assert float(chunks.split()[1]) >= 3
