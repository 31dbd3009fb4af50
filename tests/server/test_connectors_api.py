"""The admin connectors API with a local folder: one-click setup, the first sync at once, live
runs, watching, pausing and deleting; secrets masked and kept on edit."""

from __future__ import annotations

import pytest

from assistant.db.models import ConnectorRecord
from assistant.secrets import MASK, SecretBox
from enclave.sources.configs import unseal
from tests.emulators.graph.certificates import app_certificate
from tests.fakes import SlowLLM
from tests.polling import eventually

from .conftest import make_person, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    running, runtime = start_server(tmp_path_factory.mktemp("connectors"), embedder, SlowLLM())
    admin = make_person(runtime, running.url, "it@example.com", "admin")
    employee = make_person(runtime, running.url, "eve@example.com", "employee")
    yield running, runtime, admin, employee
    running.stop()


def finished_runs(client, connector_id: int, count: int) -> list[dict]:
    def done():
        runs = client.get(f"/api/v1/connectors/{connector_id}/runs").json()
        finished = [r for r in runs if r["status"] != "running"]
        return runs if len(finished) >= count and runs[0]["status"] != "running" else None

    return eventually(done, f"{count} finished sync(s)")


def search_titles(client, query: str) -> list[str]:
    return [h["title"] for h in client.get("/api/v1/search", params={"q": query, "k": 5}).json()]


def test_types_describe_each_sources_fields_with_help(server):
    _, _, admin, employee = server
    types = {t["type"]: t for t in admin.client.get("/api/v1/connectors/types").json()}
    assert set(types) == {"local", "sharepoint", "salesforce"}
    sharepoint = types["sharepoint"]["schema"]["properties"]
    for name in ("client_secret", "client_certificate"):
        secret = next(shape for shape in sharepoint[name]["anyOf"] if shape["type"] == "string")
        assert secret["format"] == "password" and secret["writeOnly"] is True
        assert "Certificates & secrets" in sharepoint[name]["description"]
    # The form shows each credential's fields only while that credential is chosen ("<choice> only: ...").
    assert sharepoint["credential"]["enum"] == ["certificate", "client_secret"]
    assert sharepoint["client_certificate"]["description"].startswith("certificate only: ")
    assert sharepoint["certificate_thumbprint"]["description"].startswith("certificate only: ")
    assert sharepoint["client_secret"]["description"].startswith("client_secret only: ")
    assert types["local"]["schema"]["properties"]["path"]["description"]
    assert employee.client.get("/api/v1/connectors/types").status_code == 403


def test_a_local_folder_connected_in_one_request_is_synced_watched_and_removed(server, tmp_path):
    _, runtime, admin, _ = server
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "dress-code.md").write_text("# Dress code\n\nSafety shoes are required on the factory floor.\n")
    tested = admin.client.post("/api/v1/connectors/test", json={"type": "local", "config": {"path": str(folder)}}).json()
    assert tested == {"ok": True, "message": f"Found 1 file(s) Enclave can read in {folder}"}

    created = admin.client.post("/api/v1/connectors", json={"type": "local", "name": "Policies",
                                                             "config": {"path": str(folder)}})
    assert created.status_code == 201, created.text
    connector_id = created.json()["id"]
    first = finished_runs(admin.client, connector_id, 1)[0]
    assert (first["status"], first["indexed"]) == ("succeeded", 1) and first["log"]
    assert "dress-code.md" in search_titles(admin.client, "Which shoes are required on the factory floor?")

    (folder / "canteen.txt").write_text("The canteen opens at 07:15 on weekdays.\n")  # noticed by the watch
    eventually(lambda: "canteen.txt" in search_titles(admin.client, "When does the canteen open?"), "the new file indexed")

    def settled():  # the watch may start one more sync after the one that indexed the new file
        listed = {c["id"]: c for c in admin.client.get("/api/v1/connectors").json()}[connector_id]
        return listed if listed["state"] == "idle" else None

    listed = eventually(settled, "the connector idle")
    assert listed["documents"] == 2 and listed["next_sync_at"]
    assert listed["progress"]["indexed"] >= 1
    assert (listed["progress"]["per_minute"] > 0) == (listed["progress"]["seen"] > 0)

    paused = admin.client.patch(f"/api/v1/connectors/{connector_id}", json={"paused": True}).json()
    assert paused["state"] == "paused" and paused["next_sync_at"] is None
    assert admin.client.post(f"/api/v1/connectors/{connector_id}/sync", json={"full": True}).status_code == 202

    def full_sync_done():
        runs = admin.client.get(f"/api/v1/connectors/{connector_id}/runs").json()
        return runs[0] if runs[0]["full"] and runs[0]["status"] != "running" else None

    full = eventually(full_sync_done, "the full sync finish")
    assert (full["status"], full["unchanged"]) == ("succeeded", 2)

    assert admin.client.delete(f"/api/v1/connectors/{connector_id}").status_code == 204
    assert admin.client.get(f"/api/v1/connectors/{connector_id}").status_code == 404
    assert "canteen.txt" not in search_titles(admin.client, "When does the canteen open?")
    with runtime.sessions() as session:
        assert session.get(ConnectorRecord, connector_id) is None


def test_a_folder_that_empties_at_once_warns_on_its_card_and_in_metrics(server, tmp_path):
    _, _, admin, _ = server
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "holidays.md").write_text("Office holidays: the office closes on 24 December.\n")
    created = admin.client.post("/api/v1/connectors", json={"type": "local", "name": "Mounted share",
                                                             "config": {"path": str(folder), "watch": False}})
    connector_id = created.json()["id"]
    assert finished_runs(admin.client, connector_id, 1)[0]["status"] == "succeeded"

    (folder / "holidays.md").unlink()  # as an unmounted share looks: empty
    assert admin.client.post(f"/api/v1/connectors/{connector_id}/sync", json={"full": True}).status_code == 202
    latest = finished_runs(admin.client, connector_id, 2)[0]
    assert latest["status"] == "warning" and latest["held"] == 1
    assert "the source listed no items while the index holds 1 from it; nothing was removed" in latest["warnings"]
    card = admin.client.get(f"/api/v1/connectors/{connector_id}").json()
    assert card["state"] == "warning" and card["warnings"] == latest["warnings"] and card["documents"] == 1
    metrics = admin.client.get("/metrics").text
    assert 'enclave_connector_last_sync{connector="Mounted share",status="warning"} 1.0' in metrics


def test_bad_settings_get_clear_answers(server, tmp_path):
    _, _, admin, employee = server
    missing = admin.client.post("/api/v1/connectors/test", json={"type": "local", "config": {"path": str(tmp_path / "x")}})
    assert missing.json() == {"ok": False, "message": f"{tmp_path / 'x'} does not exist on the Enclave server"}
    relative = admin.client.post("/api/v1/connectors", json={"type": "local", "name": "Rel", "config": {"path": "docs"}})
    assert relative.status_code == 400 and "absolute path" in relative.json()["detail"]
    unknown = admin.client.post("/api/v1/connectors", json={"type": "dropbox", "name": "D", "config": {}})
    assert unknown.status_code == 400 and "unknown connector type" in unknown.json()["detail"]
    incomplete = admin.client.post("/api/v1/connectors/test", json={"type": "sharepoint", "config": {"tenant_id": "t"}})
    assert incomplete.json()["ok"] is False and "client_id" in incomplete.json()["message"]
    admin.client.post("/api/v1/connectors", json={"type": "local", "name": "Twice", "config": {"path": str(tmp_path)}})
    again = admin.client.post("/api/v1/connectors", json={"type": "local", "name": "Twice", "config": {"path": str(tmp_path)}})
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    assert admin.client.get("/api/v1/connectors/99999/runs").status_code == 404
    assert employee.client.get("/api/v1/connectors").status_code == 403
    assert employee.client.post("/api/v1/connectors", json={"type": "local", "name": "x", "config": {}}).status_code == 403


def test_secrets_are_masked_and_kept_when_sent_back_masked(server):
    _, runtime, admin, _ = server
    nowhere = "https://127.0.0.1:9"  # the first sync must fail fast, never leave the machine
    config = {"tenant_id": "contoso", "client_id": "app", "client_secret": "the-real-secret",
              "site_urls": ["https://contoso.sharepoint.com/sites/HR"], "authority_host": nowhere,
              "graph_url": f"{nowhere}/v1.0"}
    created = admin.client.post("/api/v1/connectors", json={"type": "sharepoint", "name": "HR", "config": config,
                                                             "schedule_minutes": 60})
    connector = created.json()
    admin.client.patch(f"/api/v1/connectors/{connector['id']}", json={"paused": True})
    assert connector["config"]["client_secret"] == MASK and "the-real-secret" not in created.text
    edited = admin.client.patch(f"/api/v1/connectors/{connector['id']}",
                                json={"config": {**connector["config"], "site_urls": ["https://contoso.sharepoint.com/sites/Ops"]}})
    assert edited.status_code == 200, edited.text
    with runtime.sessions() as session:
        record = session.get(ConnectorRecord, connector["id"])
        stored = unseal(record.type, record.config, SecretBox(runtime.settings))
    assert stored.client_secret.get_secret_value() == "the-real-secret"
    assert stored.site_urls == ["https://contoso.sharepoint.com/sites/Ops"]
    admin.client.patch(f"/api/v1/connectors/{connector['id']}", json={"config": {"client_secret": "rotated"}})
    with runtime.sessions() as session:
        record = session.get(ConnectorRecord, connector["id"])
        assert unseal(record.type, record.config, SecretBox(runtime.settings)).client_secret.get_secret_value() == "rotated"

    # Switching to a certificate, as the form sends it: the secret it no longer shows is not sent, and goes.
    certificate = app_certificate()
    switched = admin.client.patch(f"/api/v1/connectors/{connector['id']}",
                                  json={"config": {"credential": "certificate", "client_certificate": certificate.pem}})
    assert switched.status_code == 200, switched.text
    shown = switched.json()["config"]
    assert (shown["client_certificate"], shown["client_secret"]) == (MASK, None)
    assert shown["certificate_thumbprint"] == certificate.thumbprint
    with runtime.sessions() as session:
        stored = session.get(ConnectorRecord, connector["id"]).config
    assert stored["client_certificate"].startswith("fernet:") and stored["client_secret"] is None
    key_body = certificate.key_pem.splitlines()[1]
    assert key_body.encode() not in (runtime.settings.data_dir / "enclave.db").read_bytes()
