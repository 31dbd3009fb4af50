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

    created = cli("apikeys", "create", "--user", "nina@example.com", "--name", "wiki-bot", data_dir=data_dir)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("enc_") and "\n" not in key
    with httpx.Client(base_url=enclave_server.url, headers={"Authorization": f"Bearer {key}"}) as tool:
        assert tool.get("/api/v1/auth/me").json()["groups"] == ["emea", "sales"]
        key_id = next(k["id"] for k in tool.get("/api/v1/apikeys").json() if k["name"] == "wiki-bot")
        assert "wiki-bot" in cli("apikeys", "list", data_dir=data_dir).stdout
        revoked = cli("apikeys", "revoke", str(key_id), data_dir=data_dir)
        assert revoked.returncode == 0, revoked.stderr
        assert tool.get("/api/v1/auth/me").status_code == 401


def test_generated_passwords_are_printed_once_and_must_be_changed(enclave_server, cli):
    data_dir = enclave_server.runtime.settings.data_dir
    added = cli("users", "add", "omar@example.com", "--role", "admin", data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("first login): ")[1].strip()
    with httpx.Client(base_url=enclave_server.url) as browser:
        login = browser.post("/api/v1/auth/login", json={"email": "omar@example.com", "password": password})
    assert login.json()["must_change_password"] is True
    assert cli("users", "add", "p@example.com", "--role", "boss", data_dir=data_dir).returncode == 2
