"""The authorization matrix, generated from the app's route table: a new endpoint cannot be forgotten.

Every API route is called as each kind of caller — anonymous, a revoked key, an expired session, an
employee, another employee (for objects that belong to someone), an admin — and must answer as its
audience (read off its dependencies by ``web.api.deps.audience``) says: 401 before anything else for
callers who are nobody, 403 for employees on admin routes, 404 for someone else's objects, and never a
5xx. The ids in paths are ones that exist, so "not found" cannot stand in for "not allowed".
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, get_args, get_origin

import httpx
import pytest

from assistant import accounts
from assistant.db.models import BrowserSession, Conversation, Message, utcnow
from web.api.deps import SESSION_COOKIE, audience
from web.app import API_ROUTERS

from .conftest import make_person

API_ROUTES = [route for router in API_ROUTERS for route in router.routes]
ROUTES = sorted((method, route.path, audience(route)) for route in API_ROUTES for method in route.methods - {"HEAD"})
GUARDED = [(m, p, a) for m, p, a in ROUTES if a != "anyone"]
ADMIN_ONLY = [(m, p) for m, p, a in ROUTES if a == "admins"]
FOR_USERS = [(m, p) for m, p, a in ROUTES if a == "users"]
# Path parameters that name something one person owns.
OWNED = {"conversation_id", "message_id", "key_id"}
OWNED_ROUTES = [(m, p) for m, p in FOR_USERS if OWNED & set(re.findall(r"{(\w+)}", p))]


def test_the_matrix_covers_every_route():
    assert len(ROUTES) > 30 and ADMIN_ONLY and FOR_USERS and OWNED_ROUTES
    assert {p for _, p, a in ROUTES if a == "anyone"} == {"/api/v1/auth/login", "/healthz", "/readyz"}


@pytest.fixture(scope="module")
def callers(enclave_server):
    """Ana's conversation, message and key (ids that exist), Bea (another employee), a revoked key, an
    expired session."""
    runtime, url = enclave_server.runtime, enclave_server.url
    bea = make_person(runtime, url, "bea@example.com", "employee", ["sales"])
    revoked = make_person(runtime, url, "rex@example.com", "employee")
    with runtime.sessions() as session:
        ana = accounts.find_user(session, enclave_server.employee.email)
        conversation = Conversation(id="c-ana", user_id=ana.id, title="Ana's")
        message = Message(id="m-ana", conversation_id="c-ana", role="assistant", content="Level P3.", sources=[])
        _, key = accounts.create_api_key(session, ana, "ana's second key")
        accounts.revoke_api_key(session, accounts.resolve_api_key(session, revoked.key))
        token, browser = accounts.open_session(session, ana, hours=1)
        session.add_all([conversation, message])
        session.flush()
        session.get(BrowserSession, browser.id).expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        ids = {"conversation_id": "c-ana", "message_id": "m-ana", "key_id": str(key.id)}
    expired = httpx.Client(base_url=url, timeout=60, cookies={SESSION_COOKIE: token})
    return {"ids": ids, "bea": bea.client, "revoked": revoked.client, "expired": expired, "anonymous": httpx.Client(base_url=url, timeout=60)}


def call(client: httpx.Client, method: str, path: str, ids: dict[str, str], valid: bool = False) -> httpx.Response:
    """``valid``: send a body that passes validation, so what answers is the route's own check."""
    concrete = re.sub(r"{(\w+)}", lambda m: ids.get(m.group(1), "0"), path)
    body = (valid_body(method, path) if valid else {}) if method in ("POST", "PATCH", "PUT") else None
    return client.request(method, concrete, json=body)


def valid_body(method: str, path: str) -> dict:
    """The smallest body the route's model accepts: each required field with a plain value of its type."""
    route = next(r for r in API_ROUTES if r.path == path and method in r.methods)
    model = route.body_field.field_info.annotation if route.body_field else None
    if model is None:
        return {}
    return {name: _plain(field.annotation) for name, field in model.model_fields.items() if field.is_required()}


def _plain(annotation):
    if get_origin(annotation) is Literal:
        return get_args(annotation)[0]
    return {str: "x", int: 1, float: 1.0, bool: True}.get(annotation, [] if get_origin(annotation) is list else "x")


@pytest.mark.parametrize("caller", ["anonymous", "revoked", "expired"])
@pytest.mark.parametrize("method, path, _", GUARDED)
def test_nobody_gets_401(callers, caller, method, path, _):
    response = call(callers[caller], method, path, callers["ids"])
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("method, path", ADMIN_ONLY)
def test_employees_get_403_on_admin_routes(enclave_server, callers, method, path):
    response = call(enclave_server.employee.client, method, path, callers["ids"])
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("method, path", OWNED_ROUTES)
def test_another_employee_gets_404_for_what_is_not_theirs(callers, method, path):
    response = call(callers["bea"], method, path, callers["ids"], valid=True)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("method, path", [(m, p) for m, p, _ in GUARDED])
def test_the_right_caller_is_let_in_and_nothing_breaks(enclave_server, callers, method, path):
    """Admins on everything, and an employee on user routes, get past authorization (bodies here are empty,
    so 422 is a fine answer) and never a 5xx. (The key deleted is Ana's second one, not the one calling.)"""
    callers_allowed = [enclave_server.admin.client] + ([enclave_server.employee.client] if (method, path) in FOR_USERS else [])
    for client in callers_allowed:
        response = call(client, method, path, callers["ids"])
        assert response.status_code not in (401, 403) and response.status_code < 500, (method, path, response.text)
