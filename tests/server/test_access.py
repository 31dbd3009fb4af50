"""Who may call what: anonymous callers get 401, employees 403 on admin endpoints, other
people's objects 404, revoked keys 401; cookies need CSRF tokens; logins are throttled."""

from __future__ import annotations

import os
import stat

import httpx
import pytest

from assistant import accounts

from .conftest import PASSWORD

# One endpoint of each class, with a body where it needs one.
USER_ENDPOINTS = [
    ("POST", "/api/v1/ask", {"question": "where do I park?"}),
    ("GET", "/api/v1/search?q=parking", None),
    ("GET", "/api/v1/conversations", None),
    ("POST", "/api/v1/messages/some-id/feedback", {"rating": "up"}),
    ("GET", "/api/v1/apikeys", None),
    ("GET", "/api/v1/auth/me", None),
    ("GET", "/v1/models", None),
    ("POST", "/v1/chat/completions", {"model": "enclave", "messages": [{"role": "user", "content": "hi"}]}),
]
ADMIN_ENDPOINTS = [
    ("GET", "/api/v1/documents", None),
    ("GET", "/api/v1/documents/unknown", None),
    ("DELETE", "/api/v1/documents/unknown", None),
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"email": "new@example.com"}),
    ("GET", "/api/v1/feedback", None),
    ("GET", "/metrics", None),
    ("GET", "/api/v1/access/explain?user=ana@example.com&document=x", None),
    ("GET", "/api/v1/access/search?user=ana@example.com&q=bonus", None),
]


def call(client: httpx.Client, method: str, path: str, body) -> httpx.Response:
    return client.request(method, path, json=body)


@pytest.mark.parametrize("method,path,body", USER_ENDPOINTS + ADMIN_ENDPOINTS)
def test_anonymous_callers_get_401(enclave_server, method, path, body):
    with enclave_server.client() as anonymous:
        response = call(anonymous, method, path, body)
    assert response.status_code == 401, response.text


def test_health_checks_need_no_login(enclave_server):
    with enclave_server.client() as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    checks = {"model": "loaded", "embedding_model": "loaded", "database": "ok", "vector_store": "ok"}
    assert ready.json()["checks"] == checks


@pytest.mark.parametrize("method,path,body", ADMIN_ENDPOINTS)
def test_employees_get_403_on_admin_endpoints(enclave_server, method, path, body):
    response = call(enclave_server.employee.client, method, path, body)
    assert response.status_code == 403, response.text


def test_documents_upload_is_admin_only(enclave_server):
    response = enclave_server.employee.client.post("/api/v1/documents", files={"files": ("x.txt", b"hello there")})
    assert response.status_code == 403


def test_wrong_or_revoked_api_key_gets_401(enclave_server):
    with enclave_server.client(headers={"Authorization": "Bearer enc_not-a-real-key"}) as stranger:
        assert stranger.get("/api/v1/conversations").status_code == 401
    created = enclave_server.employee.client.post("/api/v1/apikeys", json={"name": "short-lived"})
    assert created.status_code == 201
    key = created.json()["key"]
    with enclave_server.client(headers={"Authorization": f"Bearer {key}"}) as tool:
        assert tool.get("/api/v1/conversations").status_code == 200
        assert enclave_server.employee.client.delete(f"/api/v1/apikeys/{created.json()['id']}").status_code == 204
        assert tool.get("/api/v1/conversations").status_code == 401


def test_a_key_acts_as_its_user_with_their_role(enclave_server):
    me = enclave_server.employee.client.get("/api/v1/auth/me").json()
    assert (me["email"], me["role"], me["groups"]) == ("ana@example.com", "employee", ["sales"])
    assert enclave_server.admin.client.get("/api/v1/users").status_code == 200


def test_employees_cannot_create_keys_for_others(enclave_server):
    response = enclave_server.employee.client.post("/api/v1/apikeys", json={"name": "x", "user_email": "boss@example.com"})
    assert response.status_code == 403


def test_keys_are_listed_without_their_secret(enclave_server):
    listed = enclave_server.employee.client.get("/api/v1/apikeys").json()
    assert listed and all("key" not in k and k["user_email"] == "ana@example.com" for k in listed)
    assert all(enclave_server.employee.key[:12] != k["prefix"] or k["prefix"].startswith("enc_") for k in listed)


def test_someone_elses_conversation_is_404(enclave_server):
    mine = enclave_server.employee.client.post("/api/v1/ask", json={"question": "Which garage level do employees park on?"})
    assert mine.status_code == 200, mine.text
    conversation, message = mine.json()["conversation_id"], mine.json()["message_id"]
    other = enclave_server.outsider.client
    assert other.get(f"/api/v1/conversations/{conversation}").status_code == 404
    assert other.patch(f"/api/v1/conversations/{conversation}", json={"title": "mine now"}).status_code == 404
    assert other.delete(f"/api/v1/conversations/{conversation}").status_code == 404
    assert other.post(f"/api/v1/messages/{message}/feedback", json={"rating": "down"}).status_code == 404
    assert other.post("/api/v1/ask", json={"question": "more?", "conversation_id": conversation}).status_code == 404
    assert conversation not in [c["id"] for c in other.get("/api/v1/conversations").json()]
    # ...and the owner still has it, untouched.
    assert enclave_server.employee.client.get(f"/api/v1/conversations/{conversation}").json()["title"].startswith("Which")


def test_cookie_changes_need_the_csrf_token(enclave_server):
    browser = enclave_server.login("olaf@example.com")
    assert browser.get("/api/v1/conversations").status_code == 200
    token = browser.headers.pop("X-CSRF-Token")
    refused = browser.post("/api/v1/apikeys", json={"name": "from a forged form"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.headers["X-CSRF-Token"] = token
    assert browser.post("/api/v1/apikeys", json={"name": "from the real page"}).status_code == 201


def test_session_cookie_is_httponly_and_samesite(enclave_server):
    with enclave_server.client() as browser:
        response = browser.post("/api/v1/auth/login", json={"email": "olaf@example.com", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback; Secure is set when served over TLS


def test_logout_ends_the_session(enclave_server):
    browser = enclave_server.login("olaf@example.com")
    assert browser.post("/api/v1/auth/logout").status_code == 204
    browser.cookies.clear()
    assert browser.get("/api/v1/conversations").status_code == 401


def test_failed_logins_are_throttled(enclave_server):
    with enclave_server.client() as attacker:
        statuses = [
            attacker.post("/api/v1/auth/login", json={"email": "ana@example.com", "password": f"guess {n}"}).status_code
            for n in range(enclave_server.runtime.settings.login_attempts + 1)
        ]
        blocked = attacker.post("/api/v1/auth/login", json={"email": "ana@example.com", "password": PASSWORD})
    assert statuses[:-1] == [401] * enclave_server.runtime.settings.login_attempts
    assert statuses[-1] == 429
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    with enclave_server.runtime.sessions() as session:  # let later tests log in as Ana again
        accounts.clear_login_failures(session, "ana@example.com", "127.0.0.1")
        session.commit()


def test_first_admin_must_change_the_generated_password(enclave_server):
    settings = enclave_server.runtime.settings
    password_file = settings.data_dir / accounts.INITIAL_PASSWORD_FILE
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600
    password = password_file.read_text().strip()
    browser = enclave_server.login(settings.admin_email, password)
    assert browser.get("/api/v1/auth/me").json()["must_change_password"] is True
    gated = browser.get("/api/v1/conversations")
    assert gated.status_code == 403 and "password" in gated.json()["detail"]
    weak = browser.post("/api/v1/auth/password", json={"current_password": password, "new_password": "short"})
    assert weak.status_code == 400
    changed = browser.post("/api/v1/auth/password", json={"current_password": password, "new_password": "a brand new passphrase"})
    assert changed.status_code == 204
    assert browser.get("/api/v1/conversations").status_code == 200
    assert not password_file.exists()


def test_a_login_posted_from_another_site_is_refused(enclave_server):
    with enclave_server.client(headers={"Origin": "https://evil.example"}) as forged:
        response = forged.post("/api/v1/auth/login", json={"email": "olaf@example.com", "password": PASSWORD})
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_unknown_users_and_wrong_passwords_get_the_same_answer(enclave_server):
    with enclave_server.client() as anonymous:
        unknown = anonymous.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
        wrong = anonymous.post("/api/v1/auth/login", json={"email": "olaf@example.com", "password": "not it at all"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_the_openapi_description_needs_a_login_and_documents_the_api(enclave_server):
    with enclave_server.client() as anonymous:
        assert anonymous.get("/openapi.json").status_code == 401
        assert anonymous.get("/docs").status_code in (401, 404)
    schema = enclave_server.employee.client.get("/openapi.json").json()
    assert {"/api/v1/ask", "/api/v1/search", "/v1/chat/completions", "/api/v1/connectors"} <= set(schema["paths"])
    ask = schema["components"]["schemas"]["AskRequest"]
    assert ask["examples"] and "question" in ask["required"]
