"""Bad requests get a clear 4xx JSON error, never a 500, and the server keeps serving."""

from __future__ import annotations

import pytest

from tests.fakes import SlowLLM

from .conftest import make_person, start_server

BAD_REQUESTS = [
    ("malformed JSON", "POST", "/api/v1/ask", {"content": b'{"question": "unterminated', "headers": {"content-type": "application/json"}}, 422),
    ("missing field", "POST", "/api/v1/ask", {"json": {}}, 422),
    ("wrong type", "POST", "/api/v1/ask", {"json": {"question": ["not", "a", "string"]}}, 422),
    ("empty question", "POST", "/api/v1/ask", {"json": {"question": ""}}, 422),
    ("k out of range", "POST", "/api/v1/ask", {"json": {"question": "hi", "k": 1000}}, 422),
    ("unknown field", "POST", "/api/v1/ask", {"json": {"question": "hi", "temperature": 2}}, 422),
    ("unknown conversation", "POST", "/api/v1/ask", {"json": {"question": "hi", "conversation_id": "nope"}}, 404),
    ("bad rating", "POST", "/api/v1/messages/nope/feedback", {"json": {"rating": "meh"}}, 422),
    ("unknown message", "POST", "/api/v1/messages/nope/feedback", {"json": {"rating": "up"}}, 404),
    ("unknown conversation id", "GET", "/api/v1/conversations/nope", {}, 404),
    ("search without query", "GET", "/api/v1/search", {}, 422),
    ("search k not a number", "GET", "/api/v1/search?q=x&k=many", {}, 422),
    ("chat without messages", "POST", "/v1/chat/completions", {"json": {"model": "m", "messages": []}}, 422),
    ("chat message without role", "POST", "/v1/chat/completions", {"json": {"model": "m", "messages": [{"content": "x"}]}}, 422),
    ("unknown route", "GET", "/api/v1/nowhere", {}, 404),
]


@pytest.mark.parametrize("case,method,path,kwargs,status", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_a_clear_error(enclave_server, case, method, path, kwargs, status):
    response = enclave_server.employee.client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("detail") or body.get("error", {}).get("message")


def test_admin_bad_requests(enclave_server):
    admin = enclave_server.admin.client
    assert admin.get("/api/v1/documents/nope").status_code == 404
    assert admin.get("/api/v1/documents", params={"page": 0}).status_code == 422
    assert admin.post("/api/v1/documents").status_code == 422  # no files
    assert admin.delete("/api/v1/apikeys/999999").status_code == 404


def test_the_server_still_serves_after_bad_requests(enclave_server):
    for _ in range(3):
        enclave_server.employee.client.post("/api/v1/ask", content=b"\xff\xfe garbage", headers={"content-type": "application/json"})
    assert enclave_server.employee.client.get("/api/v1/conversations").status_code == 200


@pytest.fixture(scope="module")
def small_upload_server(tmp_path_factory, embedder):
    server, runtime = start_server(tmp_path_factory.mktemp("small"), embedder, SlowLLM(), max_upload_mb=1)
    admin = make_person(runtime, server.url, "root@example.com", "admin")
    yield admin
    server.stop()


def test_oversized_bodies_are_refused_with_413(small_upload_server):
    admin = small_upload_server
    big = b"x" * (2 * 2**20)
    by_length = admin.client.post("/api/v1/documents", files={"files": ("big.txt", big)})
    assert by_length.status_code == 413 and "1 MB" in by_length.json()["detail"]

    def chunked():  # no Content-Length: the limit is enforced while the body arrives
        for _ in range(4):
            yield b"y" * 2**19

    streamed = admin.client.post("/api/v1/ask", content=chunked(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert admin.client.get("/api/v1/auth/me").status_code == 200
