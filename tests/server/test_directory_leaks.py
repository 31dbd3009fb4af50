"""Someone removed from a group in the directory sees nothing of its documents after the next group sync,
through any door: search, ask (JSON and streamed), the OpenAI-compatible endpoint, the MCP tools, citations, the original
file, and a conversation they had while they still had access (re-opened, or asked on in).

One Enclave (real 0.5B model) and the session's slapd; gus is in ``hr`` until the module removes him.
"""

from __future__ import annotations

import json

import httpx
import pytest

from assistant.access import Access
from enclave.identity.groups import GroupSync
from tests.server.conftest import browser_login, index_corpus, start_server
from tests.server.test_ask import sse_events
from tests.server.test_mcp import call
from tests.slapd import Person

pytestmark = pytest.mark.llm

GUS = Person("gus", "Gus Moved", "gus-directory-password")
SECRET = "4200"
QUESTION = "How much relocation bonus does HR pay at the Tromso office?"
CORPUS = {
    "relocation.md": (f"Relocation at the Tromso office: HR pays a relocation bonus of {SECRET} euros.",
                      Access.restricted(groups=["hr"])),
    "parking.md": ("Parking at the Tromso office: employees park in garage level P3.", Access.everyone()),
}  # fmt: skip


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory, embedder, llm, slapd):
    """What gus got while in hr (an answer, a conversation, an API key), then the same server after he left hr
    and one group sync pass ran."""
    slapd.add_person(GUS)
    slapd.add_member("hr", GUS.dn)
    server, runtime = start_server(tmp_path_factory.mktemp("leaks"), embedder, llm, **slapd.settings(),
                                   group_sync_minutes=1440)  # fmt: skip
    documents = index_corpus(runtime, CORPUS)
    gus = browser_login(server.url, "gus", GUS.password)
    key = gus.post("/api/v1/apikeys", json={"name": "gus's script"}).json()["key"]
    answered = gus.post("/api/v1/ask", json={"question": QUESTION}).json()
    original = gus.get(f"/api/v1/documents/{documents['relocation.md']}/content")

    slapd.remove_member("hr", GUS.dn)
    report = GroupSync(runtime.settings, runtime.sessions).run()
    yield {"server": server, "gus": gus, "key": key, "answered": answered, "original": original,
           "hr_document": documents["relocation.md"], "report": report}  # fmt: skip
    server.stop()


def leaks(body, hr_document: str) -> bool:
    text = json.dumps(body, ensure_ascii=False)
    return SECRET in text or hr_document in text


def test_while_in_hr_gus_got_the_answer_and_the_file(before_and_after):
    answered = before_and_after["answered"]
    assert SECRET in answered["answer"] and answered["sources"][0]["id"] == before_and_after["hr_document"]
    assert before_and_after["original"].status_code == 200 and SECRET in before_and_after["original"].text
    assert before_and_after["report"].changed == {"gus@example.com": ["-hr"]}


def test_search_finds_nothing_of_hr(before_and_after):
    hits = before_and_after["gus"].get("/api/v1/search", params={"q": "relocation bonus", "k": 10}).json()
    assert {h["title"] for h in hits} == {"parking.md"}


def test_asking_again_answers_nothing_from_hr(before_and_after):
    body = before_and_after["gus"].post("/api/v1/ask", json={"question": QUESTION}).json()
    assert "answer" in body and not leaks(body, before_and_after["hr_document"])


def test_a_streamed_answer_carries_nothing_from_hr(before_and_after):
    with before_and_after["gus"].stream("POST", "/api/v1/ask", json={"question": QUESTION, "stream": True}) as r:
        events = sse_events(r)
    assert events[-1][0] == "done" and not leaks(events, before_and_after["hr_document"])


def test_the_openai_compatible_endpoint_carries_nothing_from_hr(before_and_after):
    bearer = {"Authorization": f"Bearer {before_and_after['key']}"}
    client = httpx.Client(base_url=before_and_after["server"].url, timeout=120, headers=bearer)
    body = client.post("/v1/chat/completions", json={"model": "enclave", "messages": [{"role": "user", "content": QUESTION}]}).json()
    assert body["choices"][0]["message"]["content"] and not leaks(body, before_and_after["hr_document"])


def test_the_original_file_is_not_found(before_and_after):
    response = before_and_after["gus"].get(f"/api/v1/documents/{before_and_after['hr_document']}/content")
    assert response.status_code == 404


def test_the_old_conversation_withholds_the_answer_and_its_citations(before_and_after):
    gus, conversation = before_and_after["gus"], before_and_after["answered"]["conversation_id"]
    body = gus.get(f"/api/v1/conversations/{conversation}").json()
    question, answer = body["messages"]
    assert question["content"] == QUESTION
    assert answer["content"].startswith("This answer is hidden") and answer["sources"] == [] and answer["provenance"] is None
    assert not leaks(body, before_and_after["hr_document"])


def test_asking_on_in_the_old_conversation_does_not_feed_the_old_answer_to_the_model(before_and_after):
    gus, conversation = before_and_after["gus"], before_and_after["answered"]["conversation_id"]
    body = gus.post("/api/v1/ask", json={"question": "And how much is it in total?", "conversation_id": conversation,
                                         "debug": True}).json()  # fmt: skip
    assert "answer" in body and not leaks(body, before_and_after["hr_document"])


@pytest.mark.parametrize("tool, arguments", [("search", {"query": "relocation bonus"}), ("ask", {"question": QUESTION})])
def test_the_mcp_tools_carry_nothing_from_hr(before_and_after, tool, arguments):
    result = call(before_and_after["server"], before_and_after["key"], tool, **arguments)
    assert not result.is_error and not leaks(result.model_dump(), before_and_after["hr_document"])
