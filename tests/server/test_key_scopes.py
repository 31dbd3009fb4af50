"""API keys do less than everything when asked to: scopes narrow what a key may do (never beyond its owner's
role), an expired key stops working; all checked by the server, over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from assistant.db.models import ApiKey, utcnow


def key_client(server, owner: httpx.Client, scopes: list[str], **extra) -> tuple[httpx.Client, dict]:
    created = owner.post("/api/v1/apikeys", json={"name": f"{'+'.join(scopes)} key", "scopes": scopes, **extra})
    assert created.status_code == 201, created.text
    body = created.json()
    return server.client(headers={"Authorization": f"Bearer {body['key']}"}), body


@pytest.fixture(scope="module")
def admin_search_only(enclave_server):
    return key_client(enclave_server, enclave_server.admin.client, ["search"])[0]


def test_a_key_without_admin_cannot_use_admin_endpoints_though_its_owner_is_an_admin(enclave_server, admin_search_only):
    for path in ("/api/v1/users", "/api/v1/audit", "/api/v1/admin/overview", "/metrics"):
        refused = admin_search_only.get(path)
        assert refused.status_code == 403, path
        assert refused.json()["detail"] == "this API key does not have the 'admin' scope"
    assert admin_search_only.get("/api/v1/search", params={"q": "board"}).status_code == 200
    # Nor does it do admin things where admins may do more: other people's keys stay out of sight.
    listed = admin_search_only.get("/api/v1/apikeys").json()
    assert {k["user_email"] for k in listed} == {enclave_server.admin.email}
    assert admin_search_only.post("/api/v1/apikeys", json={"name": "x", "scopes": ["search"],
                                                         "user_email": "ana@example.com"}).status_code == 403  # fmt: skip
    denial = enclave_server.admin.client.get("/api/v1/audit", params={"outcome": "denied", "limit": 1}).json()["items"][0]
    assert denial["action"] == "access.denied" and denial["details"]["needs"] == "admin"
    assert denial["via"].startswith("api_key:")


def test_scopes_only_narrow_an_employees_admin_scope_is_still_no_admin(enclave_server):
    employee_key, body = key_client(enclave_server, enclave_server.employee.client, ["search", "admin"])
    assert body["scopes"] == ["search", "admin"]
    refused = employee_key.get("/api/v1/users")
    assert refused.status_code == 403 and refused.json()["detail"] == "admins only"


def test_a_key_without_ask_cannot_ask_in_any_way(enclave_server, admin_search_only):
    question = "Where do employees park?"
    assert admin_search_only.post("/api/v1/ask", json={"question": question}).status_code == 403
    assert admin_search_only.post("/api/v1/ask", json={"question": question, "stream": True}).status_code == 403
    completion = admin_search_only.post("/v1/chat/completions",
                                        json={"model": "enclave", "messages": [{"role": "user", "content": question}]})
    assert completion.status_code == 403
    assert "'ask' scope" in completion.json()["error"]["message"]


def test_a_key_without_search_cannot_search_or_open_documents(enclave_server):
    asker, _ = key_client(enclave_server, enclave_server.employee.client, ["ask"])
    assert asker.get("/api/v1/search", params={"q": "parking"}).status_code == 403
    parking = enclave_server.documents["parking.md"]
    assert asker.get(f"/api/v1/documents/{parking}/content").status_code == 403
    assert enclave_server.employee.client.get(f"/api/v1/documents/{parking}/content").status_code == 200


def test_an_expired_key_is_refused_with_its_reason(enclave_server):
    client, body = key_client(enclave_server, enclave_server.employee.client, ["search"], expires_in_days=30)
    assert client.get("/api/v1/auth/me").status_code == 200
    with enclave_server.runtime.sessions() as session:
        session.execute(update(ApiKey).where(ApiKey.id == body["id"]).values(expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    expired = client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and expired.json()["detail"] == "API key expired"


def test_the_key_listing_shows_scopes_and_expiry(enclave_server):
    _, body = key_client(enclave_server, enclave_server.outsider.client, ["ask"], expires_in_days=7)
    listed = next(k for k in enclave_server.outsider.client.get("/api/v1/apikeys").json() if k["id"] == body["id"])
    assert listed["scopes"] == ["ask"]
    assert timedelta(days=6) < datetime.fromisoformat(listed["expires_at"]) - utcnow() <= timedelta(days=7)


def test_a_key_cannot_make_a_key_that_does_more_or_lasts_longer(enclave_server):
    limited, _ = key_client(enclave_server, enclave_server.employee.client, ["search"], expires_in_days=5)
    assert limited.post("/api/v1/apikeys", json={"name": "wider", "scopes": ["search", "ask"],
                                                 "expires_in_days": 1}).status_code == 403  # fmt: skip
    assert limited.post("/api/v1/apikeys", json={"name": "forever", "scopes": ["search"]}).status_code == 403
    assert limited.post("/api/v1/apikeys", json={"name": "later", "scopes": ["search"], "expires_in_days": 9}).status_code == 403
    assert limited.post("/api/v1/apikeys", json={"name": "same", "scopes": ["search"], "expires_in_days": 2}).status_code == 201


def test_bad_scopes_and_expiry_are_clear_errors(enclave_server):
    employee = enclave_server.employee.client
    assert employee.post("/api/v1/apikeys", json={"name": "x", "scopes": ["everything"]}).status_code == 422
    assert employee.post("/api/v1/apikeys", json={"name": "x", "scopes": []}).status_code == 422
    assert employee.post("/api/v1/apikeys", json={"name": "x", "expires_in_days": 0}).status_code == 422


def test_a_browser_session_has_what_its_role_allows(enclave_server):
    browser = enclave_server.login("ana@example.com")
    assert browser.get("/api/v1/search", params={"q": "parking"}).status_code == 200
    assert browser.get("/api/v1/users").json()["detail"] == "admins only"
    admin = enclave_server.login("boss@example.com")
    assert admin.get("/api/v1/users").status_code == 200
