"""`enclave users` and `enclave apikeys` against the database the running server uses."""

from __future__ import annotations

import httpx


def test_users_and_keys_from_the_cli_work_over_http(enclave_server, cli):
    data_dir = enclave_server.runtime.settings.data_dir
    added = cli("users", "add", "nina@example.com", "--role", "employee", "--groups", "sales,emea",
                "--password-stdin", data_dir=data_dir, input="nina's long password\n")
    assert added.returncode == 0, added.stderr
    assert "groups: emea, sales" in added.stdout
    listed = cli("users", "list", data_dir=data_dir)
    assert "nina@example.com" in listed.stdout and "employee" in listed.stdout
    duplicate = cli("users", "add", "nina@example.com", data_dir=data_dir)
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr

    with httpx.Client(base_url=enclave_server.url) as browser:
        login = browser.post("/api/v1/auth/login", json={"email": "nina@example.com", "password": "nina's long password"})
        assert login.status_code == 200 and not login.json()["must_change_password"]

    changed = cli("users", "passwd", "nina@example.com", "--password-stdin", data_dir=data_dir, input="a different password\n")
    assert changed.returncode == 0, changed.stderr

    created = cli("apikeys", "create", "--user", "nina@example.com", "--name", "wiki-bot", "--scopes", "search",
                  "--expires-in-days", "30", data_dir=data_dir)  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("enc_") and "\n" not in key
    with httpx.Client(base_url=enclave_server.url, headers={"Authorization": f"Bearer {key}"}) as tool:
        assert tool.get("/api/v1/auth/me").json()["groups"] == ["emea", "sales"]
        assert tool.post("/api/v1/ask", json={"question": "Where do I park?"}).status_code == 403
        listed = next(k for k in tool.get("/api/v1/apikeys").json() if k["name"] == "wiki-bot")
        assert listed["scopes"] == ["search"] and listed["expires_at"]
        assert "wiki-bot" in cli("apikeys", "list", data_dir=data_dir).stdout
        revoked = cli("apikeys", "revoke", str(listed["id"]), data_dir=data_dir)
        assert revoked.returncode == 0, revoked.stderr
        assert tool.get("/api/v1/auth/me").status_code == 401
    by_cli = enclave_server.admin.client.get("/api/v1/audit", params={"limit": 500}).json()["items"]
    done = [(e["action"], e["target"]) for e in reversed(by_cli) if e["via"] == "cli"]
    assert done == [("user.created", "nina@example.com"), ("user.password_reset", "nina@example.com"),
                    ("key.created", f"api_key:{listed['id']}"), ("key.revoked", f"api_key:{listed['id']}")]  # fmt: skip
    assert cli("apikeys", "create", "--user", "nina@example.com", "--name", "x", "--scopes", "all",
               data_dir=data_dir).returncode == 2  # fmt: skip


def test_generated_passwords_are_printed_once_and_must_be_changed(enclave_server, cli):
    data_dir = enclave_server.runtime.settings.data_dir
    added = cli("users", "add", "omar@example.com", "--role", "admin", data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("first login): ")[1].strip()
    with httpx.Client(base_url=enclave_server.url) as browser:
        login = browser.post("/api/v1/auth/login", json={"email": "omar@example.com", "password": password})
    assert login.json()["must_change_password"] is True
    assert cli("users", "add", "p@example.com", "--role", "boss", data_dir=data_dir).returncode == 2
