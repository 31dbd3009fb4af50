"""Admins manage users through the API; the rules match the CLI's."""

from __future__ import annotations


def test_admin_adds_a_user_who_must_change_the_generated_password(enclave_server):
    admin = enclave_server.admin.client
    created = admin.post("/api/v1/users", json={"email": "Kari@Example.com", "role": "employee", "groups": ["HR", "hr"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "kari@example.com" and body["groups"] == ["hr"] and body["must_change_password"]
    browser = enclave_server.login("kari@example.com", body["password"])
    assert browser.get("/api/v1/search", params={"q": "x"}).status_code == 403
    listing = admin.get("/api/v1/users").text
    assert "password_hash" not in listing and body["password"] not in listing


def test_admin_changes_role_groups_and_resets_password(enclave_server):
    admin = enclave_server.admin.client
    user = admin.post("/api/v1/users", json={"email": "lars@example.com", "password": "lars has a long password"}).json()
    assert user["password"] is None and not user["must_change_password"]
    updated = admin.patch(f"/api/v1/users/{user['id']}", json={"role": "admin", "groups": ["finance"]}).json()
    assert (updated["role"], updated["groups"]) == ("admin", ["finance"])
    reset = admin.patch(f"/api/v1/users/{user['id']}", json={"password": "a temporary password"}).json()
    assert reset["must_change_password"] is True


def test_bad_user_requests_are_clear_400s(enclave_server):
    admin = enclave_server.admin.client
    assert admin.post("/api/v1/users", json={"email": "not-an-email"}).status_code == 400
    assert admin.post("/api/v1/users", json={"email": "ana@example.com"}).json()["detail"].endswith("already exists")
    assert admin.post("/api/v1/users", json={"email": "x@example.com", "password": "short"}).status_code == 400
    assert admin.post("/api/v1/users", json={"email": "y@example.com", "role": "king"}).status_code == 422
    me = admin.get("/api/v1/auth/me").json()
    assert admin.delete(f"/api/v1/users/{me['id']}").status_code == 400
    assert admin.patch(f"/api/v1/users/{me['id']}", json={"role": "employee"}).status_code == 400
    assert admin.patch("/api/v1/users/999999", json={"groups": []}).status_code == 404
