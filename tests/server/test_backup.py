"""Backups while the server runs and keeps indexing uploads: `enclave backup` pauses its index writes,
the copy verifies, restores onto an empty data directory and answers the same search with the same
sources; the scheduled backups keep `backup_keep` and show a failure on the admin overview."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import datetime

import pytest

from assistant.access import Viewer
from assistant.db.models import AuditEvent
from enclave.doctor import head_revision
from tests.conftest import runtime_with, settings_for
from tests.server.conftest import index_corpus, make_person, start_server

QUESTION = "Where do employees park at the Tromso office?"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory, embedder, llm):
    tmp = tmp_path_factory.mktemp("backup-server")
    server, runtime = start_server(tmp, embedder, llm, backup_dir=tmp / "scheduled", backup_keep=2)
    documents = index_corpus(runtime)
    admin = make_person(runtime, server.url, "boss@example.com", "admin")
    yield server, runtime, admin, documents
    server.stop()


def keep_uploading(admin, stop: threading.Event, uploaded: list[str]) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        name = f"memo-{number}.txt"
        text = f"Memo {number}: the photocopier on floor {number} gets new toner on Fridays."
        response = admin.client.post("/api/v1/documents", files={"files": (name, text.encode(), "text/plain")})
        assert response.status_code in (200, 201), response.text
        uploaded.append(name)


def sources(runtime) -> list[str]:
    return [hit.origin.document_id for hit in runtime.retriever.search(QUESTION, Viewer.operator(), k=3)]


def test_backup_while_indexing_restores_to_the_same_answers(busy_server, tmp_path, cli, embedder):
    server, runtime, admin, documents = busy_server
    stop, uploaded = threading.Event(), []
    uploader = threading.Thread(target=keep_uploading, args=(admin, stop, uploaded))
    uploader.start()
    try:
        made = cli("backup", str(tmp_path / "backup"), data_dir=runtime.settings.data_dir)
    finally:
        stop.set()
        uploader.join()
    assert made.returncode == 0, made.stderr
    assert uploaded, "the server indexed uploads during the backup"
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["migration"] == head_revision() and manifest["verified"]["found"]
    assert {"enclave.db", "chroma/chroma.sqlite3"} <= {f["path"] for f in manifest["files"]}

    restored_dir = tmp_path / "restored"
    assert cli("restore", str(tmp_path / "backup"), "--data-dir", str(restored_dir), data_dir=tmp_path / "x").returncode == 0
    assert cli("doctor", data_dir=restored_dir).returncode == 0  # vectors, keywords and records agree
    restored = runtime_with(settings_for(data_dir=restored_dir), embedder)
    with sqlite3.connect(restored_dir / "enclave.db") as db:
        kept = {row[0] for row in db.execute("SELECT id FROM documents")}
        actions = [row[0] for row in db.execute("SELECT action FROM audit_events ORDER BY id")]
    assert set(documents.values()) <= kept and manifest["documents"] == len(kept)
    assert actions[-1] == "backup.restored"
    assert sources(restored)[0] == documents["parking.md"] == sources(runtime)[0]
    assert set(sources(restored)) <= kept

    again = cli("restore", str(tmp_path / "backup"), "--data-dir", str(restored_dir), data_dir=tmp_path / "x")
    assert again.returncode == 2 and "is not empty" in again.stderr


def test_a_damaged_backup_is_not_restored(busy_server, tmp_path, cli):
    _, runtime, _, _ = busy_server
    assert cli("backup", str(tmp_path / "backup"), data_dir=runtime.settings.data_dir).returncode == 0
    with (tmp_path / "backup" / "enclave.db").open("r+b") as db:
        db.seek(200)
        db.write(b"\xff\xff")
    result = cli("restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "restored"), data_dir=tmp_path / "x")
    assert result.returncode == 1 and "enclave.db is missing or changed" in result.stderr
    assert not (tmp_path / "restored").exists()


def test_scheduled_backups_keep_the_newest_and_show_failures(busy_server):
    server, runtime, admin, _ = busy_server
    schedule = server.app.state.backups
    directory = runtime.settings.backup_dir
    for day in (1, 2, 3):
        assert schedule.run_once(datetime(2031, 1, day, 2, 0))
    kept = sorted(p.name for p in directory.iterdir() if p.name.startswith("enclave-"))
    assert kept[-2:] == ["enclave-20310102-020000", "enclave-20310103-020000"] and len(kept) == 2
    overview = admin.client.get("/api/v1/admin/overview").json()["backups"]
    assert overview["kept"] == 2 and overview["latest"] == "enclave-20310103-020000" and overview["last_error"] is None

    shutil.rmtree(directory)
    directory.write_text("a file where the backups should go")
    try:
        assert schedule.run_once(datetime(2031, 1, 4, 2, 0)) is None
        overview = admin.client.get("/api/v1/admin/overview").json()["backups"]
        assert "enclave-20310104-020000" in overview["last_error"]
    finally:
        directory.unlink()
    with runtime.sessions() as session:
        outcomes = [(e.action, e.outcome) for e in session.query(AuditEvent).filter_by(action="backup.created")]
    assert ("backup.created", "failed") in outcomes and ("backup.created", "ok") in outcomes

