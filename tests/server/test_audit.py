"""The audit log over real HTTP: what people do is recorded with who, how, from where and how it ended;
admins read it back filtered and paged; nobody can change or delete an event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, text, update

from assistant.db.models import AuditEvent, AuditLogIsAppendOnly
from tests.server.conftest import PASSWORD


def events(server, **filters) -> list[dict]:
    response = server.admin.client.get("/api/v1/audit", params={"limit": 500, **filters})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_sign_ins_sign_outs_and_password_changes_are_recorded(enclave_server):
    with enclave_server.client() as stranger:
        assert stranger.post("/api/v1/auth/login", json={"email": "ana@example.com", "password": "wrong one"}).status_code == 401
    browser = enclave_server.login("ana@example.com")
    refused = browser.post("/api/v1/auth/password", json={"current_password": "not it", "new_password": "x" * 12})
    assert refused.status_code == 400
    assert browser.post("/api/v1/auth/logout").status_code == 204

    mine = events(enclave_server, actor="ana@example.com")
    seen = [(e["action"], e["outcome"], e["via"]) for e in reversed(mine)]
    assert seen[-4:] == [
        ("sign_in", "failed", "password"),
        ("sign_in", "ok", "password"),
        ("password.changed", "failed", "session"),
        ("sign_out", "ok", "session"),
    ]
    assert all(e["address"] == "127.0.0.1" for e in mine[:4])
    assert mine[3]["details"]["reason"] == "wrong password"


def test_user_and_key_changes_name_the_admin_and_the_key_used(enclave_server):
    admin = enclave_server.admin.client
    user = admin.post("/api/v1/users", json={"email": "audited@example.com", "groups": ["hr"]}).json()
    admin.patch(f"/api/v1/users/{user['id']}", json={"role": "admin", "groups": ["finance", "hr"], "disabled": True})
    key = admin.post("/api/v1/apikeys", json={"name": "audited bot", "user_email": "audited@example.com"}).json()
    admin.delete(f"/api/v1/apikeys/{key['id']}")
    admin.delete(f"/api/v1/users/{user['id']}")

    about = [e for e in events(enclave_server, actor="boss@example.com")
             if e["target"] in ("audited@example.com", f"api_key:{key['id']}")]  # fmt: skip
    assert [e["action"] for e in reversed(about)] == [
        "user.created", "user.role_changed", "user.groups_changed", "user.disabled", "key.created", "key.revoked",
        "user.deleted",
    ]  # fmt: skip
    admin_key_id = admin.get("/api/v1/apikeys").json()
    assert {e["via"] for e in about} == {f"api_key:{k['id']}" for k in admin_key_id if k["name"] == "boss@example.com test key"}
    changes = {e["action"]: e["details"] for e in about}
    assert changes["user.role_changed"] == {"before": "employee", "after": "admin"}
    assert changes["user.groups_changed"] == {"added": ["finance"], "removed": []}
    assert changes["key.created"]["scopes"] == ["search", "ask", "admin"]


def test_an_employee_on_an_admin_endpoint_is_refused_and_that_is_recorded(enclave_server):
    assert enclave_server.employee.client.get("/api/v1/audit").status_code == 403
    denied = events(enclave_server, actor="ana@example.com", outcome="denied", action="access.")
    assert denied[0]["target"] == "GET /api/v1/audit"
    assert denied[0]["details"] == {"reason": "admins only", "needs": "admin"}


def test_documents_uploaded_downloaded_and_deleted_are_recorded(enclave_server):
    admin = enclave_server.admin.client
    uploaded = admin.post("/api/v1/documents", files=[("files", ("audit-note.txt", b"The audit note says hello.", "text/plain"))])
    document_id = uploaded.json()[0]["document_id"]
    assert enclave_server.employee.client.get(f"/api/v1/documents/{document_id}/content").status_code == 200
    board = enclave_server.documents["board-minutes.md"]
    assert enclave_server.employee.client.get(f"/api/v1/documents/{board}/content").status_code == 404
    assert admin.delete(f"/api/v1/documents/{document_id}").status_code == 204

    recorded = [(e["action"], e["actor"], e["outcome"]) for e in reversed(events(enclave_server, action="document."))]
    assert recorded[-4:] == [
        ("document.uploaded", "boss@example.com", "ok"),
        ("document.downloaded", "ana@example.com", "ok"),
        ("document.downloaded", "ana@example.com", "denied"),
        ("document.deleted", "boss@example.com", "ok"),
    ]


def test_connectors_added_changed_synced_and_removed_are_recorded(enclave_server, tmp_path):
    admin = enclave_server.admin.client
    created = admin.post("/api/v1/connectors", json={"type": "local", "name": "Audited share", "config": {"path": str(tmp_path)}})
    connector = created.json()["id"]
    admin.patch(f"/api/v1/connectors/{connector}", json={"paused": True, "schedule_minutes": 60})
    admin.post(f"/api/v1/connectors/{connector}/sync", json={"full": True})
    assert admin.delete(f"/api/v1/connectors/{connector}").status_code == 204

    recorded = [e for e in reversed(events(enclave_server, action="connector.")) if e["target"] == f"connector:{connector}"]
    assert [e["action"] for e in recorded] == ["connector.added", "connector.changed", "connector.sync_started",
                                              "connector.removed"]  # fmt: skip
    assert recorded[1]["details"]["fields"] == ["paused", "schedule_minutes"]
    assert recorded[2]["details"]["full"] is True


def test_the_log_is_read_newest_first_a_page_at_a_time_with_filters(enclave_server):
    admin = enclave_server.admin.client
    for _ in range(3):
        enclave_server.client().post("/api/v1/auth/login", json={"email": "olaf@example.com", "password": "nope"})
    first = admin.get("/api/v1/audit", params={"actor": "olaf@example.com", "outcome": "failed", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = admin.get("/api/v1/audit", params={"actor": "olaf@example.com", "outcome": "failed", "cursor": first["next_cursor"]})
    ids = [e["id"] for e in first["items"] + rest.json()["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True) and rest.json()["next_cursor"] is None
    newest = first["items"][0]["at"]
    assert events(enclave_server, actor="olaf@example.com", since=newest)[0]["id"] == ids[0]
    assert ids[0] not in [e["id"] for e in events(enclave_server, actor="olaf@example.com", until=newest)]
    assert admin.get("/api/v1/audit", params={"cursor": "abc"}).status_code == 422
    assert admin.get("/api/v1/audit", params={"cursor": "9" * 40}).status_code == 422
    assert admin.get("/api/v1/audit", params={"outcome": "maybe"}).status_code == 422


def test_no_api_changes_or_deletes_events(enclave_server):
    admin = enclave_server.admin.client
    some = events(enclave_server)[0]
    assert admin.delete(f"/api/v1/audit/{some['id']}").status_code in (404, 405)
    assert admin.patch("/api/v1/audit", json={}).status_code == 405


def test_the_database_keeps_events_from_being_changed_or_deleted(enclave_server):
    with enclave_server.runtime.sessions() as session:
        event = session.query(AuditEvent).first()
        event.outcome = "ok-after-all"
        with pytest.raises(AuditLogIsAppendOnly):
            session.flush()
        session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            session.execute(delete(AuditEvent))
        with pytest.raises(AuditLogIsAppendOnly):
            session.execute(update(AuditEvent).values(actor="someone else"))
    # Past the ORM, straight to SQLite: the triggers of migration 0008 refuse.
    with enclave_server.runtime.sessions() as session, pytest.raises(Exception, match="append-only"):
        session.execute(text("DELETE FROM audit_events"))
    with enclave_server.runtime.sessions() as session, pytest.raises(Exception, match="append-only"):
        session.execute(text("UPDATE audit_events SET actor = 'x'"))


def test_export_writes_json_lines_for_a_siem(enclave_server, cli, tmp_path):
    data_dir = enclave_server.runtime.settings.data_dir
    output = tmp_path / "audit.jsonl"
    exported = cli("audit", "export", "--since", "2000-01-01", "--output", str(output), data_dir=data_dir)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == len(events(enclave_server)) - 1  # the export itself is recorded after it
    assert set(lines[0]) == {"at", "actor", "via", "address", "action", "target", "outcome", "details"}
    assert lines[0]["at"].endswith("Z") and [e["at"] for e in lines] == sorted(e["at"] for e in lines)
    assert {"sign_in", "user.created", "access.denied"} <= {e["action"] for e in lines}
    assert events(enclave_server)[0]["action"] == "audit.exported"
    nothing = cli("audit", "export", "--until", "2000-01-01", data_dir=data_dir)
    assert nothing.returncode == 0 and nothing.stdout == ""
    bad = cli("audit", "export", "--since", "last tuesday", data_dir=data_dir)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_a_password_sign_in_of_a_disabled_account_is_refused_and_recorded(enclave_server):
    admin = enclave_server.admin.client
    user = admin.post("/api/v1/users", json={"email": "gone@example.com", "password": PASSWORD}).json()
    admin.patch(f"/api/v1/users/{user['id']}", json={"disabled": True})
    with enclave_server.client() as browser:
        refused = browser.post("/api/v1/auth/login", json={"email": "gone@example.com", "password": PASSWORD})
    assert refused.status_code == 401
    assert events(enclave_server, actor="gone@example.com")[0]["outcome"] == "denied"
