"""The MCP endpoint, used the way an MCP client does: the SDK's own streamable-HTTP client against a running
Enclave, with API keys of real people, the real embedder and the real 0.5B model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.server.conftest import Person


def with_mcp(server, key: str | None, use: Callable[[ClientSession], Awaitable]):
    """Run ``use`` on an initialised MCP client session that sends ``key`` as its bearer token."""

    async def run():
        headers = {"Authorization": f"Bearer {key}"} if key else None
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await use(session)

    return asyncio.run(run())


def call(server, person: Person | str, tool: str, **arguments):
    key = person.key if isinstance(person, Person) else person
    return with_mcp(server, key, lambda session: session.call_tool(tool, arguments))


def readable_by(server, *names: str) -> set[str]:
    return {server.documents[name] for name in names}


def test_the_tools_are_search_and_ask(enclave_server):
    listed = with_mcp(enclave_server, enclave_server.employee.key, lambda session: session.list_tools())
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"search", "ask"}
    assert "query" in tools["search"].input_schema["properties"]
    assert tools["ask"].input_schema["required"] == ["question"]


def test_search_finds_only_what_the_keys_owner_may_read(enclave_server):
    query = "bonus commission board acquisition parking garage"
    employee = call(enclave_server, enclave_server.employee, "search", query=query, k=10)
    assert not employee.is_error
    hits = employee.structured_content["result"]
    assert {h["document_id"] for h in hits} == readable_by(enclave_server, "parking.md", "sales-bonus.md")
    assert {"title", "snippet", "score"} <= set(hits[0])
    outsider = call(enclave_server, enclave_server.outsider, "search", query=query, k=10).structured_content["result"]
    assert {h["document_id"] for h in outsider} == readable_by(enclave_server, "parking.md")


def test_ask_answers_with_citations_from_permitted_documents_only(enclave_server):
    asked = call(enclave_server, enclave_server.employee, "ask", question="What commission do account executives earn?")
    assert not asked.is_error, asked.content
    answer = asked.structured_content
    assert "7.5" in answer["answer"]
    cited = {c["document_id"] for c in answer["citations"]}
    assert cited == readable_by(enclave_server, "sales-bonus.md")
    assert answer["citations"][0]["title"] == "sales-bonus.md"

    outsider = call(enclave_server, enclave_server.outsider, "ask", question="What acquisition did the board approve?")
    cited = {c["document_id"] for c in outsider.structured_content["citations"]}
    assert cited <= readable_by(enclave_server, "parking.md")
    assert "Fjordlight" not in outsider.structured_content["answer"]


def test_no_key_or_a_bad_key_is_refused_before_mcp(enclave_server):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    with httpx.Client(base_url=enclave_server.url) as client:
        missing = client.post("/mcp", json=initialize)
        wrong = client.post("/mcp", json=initialize, headers={"Authorization": "Bearer enc_not-a-key"})
    assert missing.status_code == 401 and "API key is required" in missing.json()["detail"]
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid or revoked API key"
    with pytest.raises(BaseException):  # noqa: B017 - the SDK reports the refusal as its own error group
        with_mcp(enclave_server, None, lambda session: session.list_tools())


def test_a_key_without_the_ask_scope_gets_a_tool_error_and_it_is_audited(enclave_server):
    created = enclave_server.employee.client.post("/api/v1/apikeys", json={"name": "mcp search only", "scopes": ["search"]})
    key = created.json()["key"]
    refused = call(enclave_server, key, "ask", question="Where do visitors park?")
    assert refused.is_error
    assert "'ask' scope" in refused.content[0].text
    assert not call(enclave_server, key, "search", query="parking").is_error

    recorded = enclave_server.admin.client.get("/api/v1/audit", params={"action": "mcp.", "actor": "ana@example.com"})
    latest = recorded.json()["items"][:2]
    assert [(e["action"], e["outcome"]) for e in latest] == [("mcp.search", "ok"), ("mcp.ask", "denied")]
    assert {e["via"] for e in latest} == {f"api_key:{created.json()['id']}"}
    searched = set(latest[0]["details"]["documents"])
    assert enclave_server.documents["parking.md"] in searched
    assert searched <= readable_by(enclave_server, "parking.md", "sales-bonus.md")
