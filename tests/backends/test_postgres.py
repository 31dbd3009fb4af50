"""The application database on PostgreSQL (psycopg 3), in a throwaway cluster the tests start.

Failure modes covered: a migration that only works on SQLite, or a schema on
PostgreSQL that differs from the models; an upgrade that loses data; JSON
columns, booleans or timezone-aware datetimes not round-tripping (the server's
time zone is not UTC on purpose); accounts, API keys, browser sessions and
login throttling misbehaving with real timestamp comparisons; the case-
insensitive title searches (ILIKE) differing from SQLite's; the connectors'
lease UPDATE claiming twice (claims really run at once here), or never
releasing; the sync engine and the web API failing on the PostgreSQL dialect;
a NUL character in a login, search or question (PostgreSQL text cannot hold
one) failing the request with a server error.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from assistant import accounts
from assistant.access import Access, Viewer
from assistant.db import engine_for, session_factory
from assistant.db.models import ConnectorRecord, Document, LoginFailure, SyncRun, utcnow
from enclave.sources import service
from enclave.sources.sync import SyncAlreadyRunning, SyncEngine
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.conftest import runtime_with, settings_for
from tests.server.conftest import PASSWORD, start_server


def test_the_database_really_is_postgresql_through_psycopg(postgres_url):
    with engine_for(postgres_url).connect() as connection:
        assert connection.execute(text("SHOW server_version_num")).scalar()
    assert engine_for(postgres_url).dialect.driver == "psycopg"


def test_accounts_keys_sessions_and_login_throttling(postgres_url):
    sessions = session_factory(postgres_url)
    with sessions() as db:
        user = accounts.create_user(db, "Ana@Example.com", "employee", PASSWORD, ["Sales", "hr"])
        key, _ = accounts.create_api_key(db, user, "reporting tool")
        token, _ = accounts.open_session(db, user, hours=12)
        db.commit()
        user_id = user.id

    with sessions() as db:
        stored = db.get(type(user), user_id)
        assert stored.email == "ana@example.com" and stored.must_change_password is False
        assert isinstance(stored.groups, list) and {g.lower() for g in stored.groups} == {"sales", "hr"}
        assert stored.created_at.tzinfo is not None
        assert abs(stored.created_at - datetime.now(UTC)) < timedelta(minutes=1)  # not hours off
        assert accounts.resolve_api_key(db, key).user.id == user_id
        assert accounts.find_user(db, "nobody\x00@example.com") is None  # PostgreSQL text holds no NUL: no DataError
        assert accounts.resolve_session(db, token).user.id == user_id
        db.commit()

        # A session past its expiry is refused; the comparison is between real instants.
        browser = accounts.resolve_session(db, token)
        browser.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()
        assert accounts.resolve_session(db, token) is None

        # Login throttling counts failures inside the window only.
        limit = 3
        for _ in range(limit):
            assert accounts.login_allowed(db, "ana@example.com", "10.0.0.1", limit)
            accounts.record_login_failure(db, "Ana@Example.com ", "10.0.0.1")
            db.commit()
        assert not accounts.login_allowed(db, "ana@example.com", "10.0.0.1", limit)
        assert accounts.login_allowed(db, "ana@example.com", "10.0.0.2", limit)
        for failure in db.scalars(select(LoginFailure)):
            failure.at = utcnow() - accounts.THROTTLE_WINDOW - timedelta(seconds=5)
        db.commit()
        assert accounts.login_allowed(db, "ana@example.com", "10.0.0.1", limit)
        accounts.record_login_failure(db, "ana@example.com", "10.0.0.1")  # also purges the expired ones
        db.commit()
        assert db.scalar(select(func.count()).select_from(LoginFailure)) == 1


def test_documents_indexed_on_postgresql_keep_json_acl_and_times(postgres_url, embedder, tmp_path):
    runtime = runtime_with(settings_for(data_dir=tmp_path / "data", database_url=postgres_url), embedder)
    modified = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    item = SourceDocument(
        external_id="HR/Leave Policy.md",
        title="Leave Policy.md",
        uri="file:///share/HR/Leave%20Policy.md",
        content=b"# Leave\n\nParental leave is 16 weeks at full pay.\n",
        filename="Leave Policy.md",
        access=Access.restricted(users=["ana@example.com"], groups=["hr"]),
        modified_at=modified,
        version="v1",
        metadata={"author": "Ana", "tags": ["hr", "leave"], "pages": 1, "draft": False},
    )

    result = runtime.sink.index(Source("files", "local"), item)

    assert result.outcome == "added"
    with runtime.sessions() as db:
        document = db.get(Document, result.document_id)
        assert document.access == {"public": False, "users": ["ana@example.com"], "groups": ["hr"]}
        metadata = {"author": "Ana", "tags": ["hr", "leave"], "pages": 1, "draft": False}
        assert {k: document.details[k] for k in metadata} == metadata  # and how it was read, and its language
        assert document.details["language"] == "en" and document.details["read"]["format"]
        assert document.modified_at == modified
        assert abs(document.indexed_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert runtime.sink.index(Source("files", "local"), item).outcome == "unchanged"
    hits = runtime.assistant.search("How long is parental leave?", Viewer(email="ana@example.com"))
    assert hits and hits[0].origin.document_id == result.document_id
    assert runtime.sink.remove(Source("files", "local"), [item.external_id]) == 1
    with runtime.sessions() as db:
        assert db.get(Document, result.document_id) is None


def test_the_sync_lease_is_claimed_once_and_released(postgres_url, embedder, tmp_path):
    runtime = runtime_with(settings_for(data_dir=tmp_path / "data", database_url=postgres_url), embedder)
    share = tmp_path / "share"
    share.mkdir()
    (share / "canteen.txt").write_text("The canteen serves soup on Thursdays.\n")
    (share / "holiday.md").write_text("# Holidays\n\nThe office closes on 24 December.\n")
    record = service.create(runtime, "local", "Share", {"path": str(share)})
    engine = SyncEngine(runtime)
    tried_inside = []

    def sync_again_while_running(progress) -> None:
        if progress.seen == 1 and not tried_inside:
            with pytest.raises(SyncAlreadyRunning):
                engine.sync(record.id)
            tried_inside.append(True)

    run = engine.sync(record.id, on_progress=sync_again_while_running)

    assert (run.status, run.indexed, tried_inside) == ("succeeded", 2, [True])
    with runtime.sessions() as db:
        connector = db.get(ConnectorRecord, record.id)
        assert connector.sync_owner is None and connector.sync_lease_until is None
        assert connector.next_sync_at - connector.last_sync_at == timedelta(minutes=connector.schedule_minutes)
        assert connector.paused is False
        # A lease that ran out frees the connector for another owner.
        connector.sync_owner, connector.sync_lease_until = "elsewhere:1:1", utcnow() - timedelta(seconds=1)
        db.commit()
    assert engine.sync(record.id).status == "succeeded"
    with runtime.sessions() as db:
        connector = db.get(ConnectorRecord, record.id)
        # A live lease held by another machine is respected.
        connector.sync_owner, connector.sync_lease_until = "elsewhere:1:1", utcnow() + timedelta(minutes=5)
        db.commit()
    with pytest.raises(SyncAlreadyRunning):
        engine.sync(record.id)
    with runtime.sessions() as db:
        runs = db.scalars(select(SyncRun).where(SyncRun.connector_id == record.id).order_by(SyncRun.id)).all()
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert all(r.log and r.finished_at > r.started_at for r in runs)


def test_concurrent_claims_of_one_connector_give_it_to_exactly_one(postgres_url, tmp_path):
    """Unlike SQLite, PostgreSQL lets the claims' UPDATEs really run at once; the row lock must pick one."""
    runtime = runtime_with(settings_for(data_dir=tmp_path / "data", database_url=postgres_url), embedder=None)
    (tmp_path / "share").mkdir()
    record = service.create(runtime, "local", "Share", {"path": str(tmp_path / "share")})
    engine, start, outcomes = SyncEngine(runtime), threading.Barrier(8), []

    def claim(n: int) -> None:
        start.wait()
        try:
            outcomes.append(engine._claim(record.id, f"{socket.gethostname()}:{os.getpid()}:{n}", False))
        except SyncAlreadyRunning:
            outcomes.append(None)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 8 and len([o for o in outcomes if o is not None]) == 1


@pytest.fixture
def server_on_postgres(postgres_url, embedder, llm, tmp_path):
    server, runtime = start_server(tmp_path, embedder, llm, database_url=postgres_url)
    yield server, runtime
    server.stop()


@pytest.mark.llm
def test_the_web_api_on_postgresql(server_on_postgres):
    import httpx

    server, runtime = server_on_postgres
    with runtime.sessions() as db:
        admin = accounts.create_user(db, "boss@example.com", "admin", PASSWORD)
        admin_key, _ = accounts.create_api_key(db, admin, "admin key")
        accounts.create_user(db, "ana@example.com", "employee", PASSWORD, ["sales"])
        db.commit()
    for name, text_ in (("Parking Rules.md", "Employees park in garage level P3. Visitors use level P1."),
                        ("canteen.md", "The canteen serves soup on Thursdays.")):
        runtime.sink.index(Source("files", "local"), SourceDocument(
            external_id=name, title=name, uri=f"file:///docs/{name}", content=text_.encode(), filename=name))  # fmt: skip
    admin_api = httpx.Client(base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {admin_key}"})

    # Browser login with throttling: wrong passwords count, then the right one is refused too.
    browser = httpx.Client(base_url=server.url, timeout=120)
    nul = browser.post("/api/v1/auth/login", json={"email": "nobody@example.com\x00", "password": "wrong"})
    assert nul.status_code == 401, nul.text  # a NUL character is no server error on PostgreSQL either
    for _ in range(runtime.settings.login_attempts):
        assert browser.post("/api/v1/auth/login", json={"email": "ana@example.com", "password": "wrong"}).status_code == 401
    refused = browser.post("/api/v1/auth/login", json={"email": "ana@example.com", "password": PASSWORD})
    assert refused.status_code == 429, refused.text
    with runtime.sessions() as db:
        db.execute(LoginFailure.__table__.delete())
        db.commit()
    login = browser.post("/api/v1/auth/login", json={"email": "ANA@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.text
    browser.headers["X-CSRF-Token"] = login.json()["csrf_token"]

    # Case-insensitive title search (ILIKE on PostgreSQL).
    page = admin_api.get("/api/v1/documents", params={"q": "parking RULES"}).json()
    assert [d["title"] for d in page["items"]] == ["Parking Rules.md"] and page["total"] == 1
    assert admin_api.get("/api/v1/documents", params={"q": "park\x00ing"}).status_code == 200

    # A question, its conversation, feedback on the answer.
    asked = browser.post("/api/v1/ask", json={"question": "Which garage level do employees park on?\x00"})
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["sources"][0]["title"] == "Parking Rules.md"
    conversations = browser.get("/api/v1/conversations", params={"q": "GARAGE level"}).json()
    assert [c["id"] for c in conversations] == [body["conversation_id"]]
    assert browser.get("/api/v1/conversations", params={"q": "canteen"}).json() == []
    conversation = browser.get(f"/api/v1/conversations/{body['conversation_id']}").json()
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][1]["sources"][0]["title"] == "Parking Rules.md"
    for stamp in (conversation["created_at"], conversation["messages"][0]["created_at"]):
        moment = datetime.fromisoformat(stamp)
        assert moment.tzinfo is not None and abs(moment - datetime.now(UTC)) < timedelta(minutes=5)
    rated = browser.post(f"/api/v1/messages/{body['message_id']}/feedback", json={"rating": "down", "comment": "Too\x00 short"})
    assert rated.status_code == 204, rated.text
    feedback = admin_api.get("/api/v1/feedback", params={"rating": "down"}).json()
    assert [(f["question"], f["comment"]) for f in feedback] == [("Which garage level do employees park on?", "Too short")]
    assert browser.patch(f"/api/v1/conversations/{body['conversation_id']}", json={"title": "Parking"}).status_code == 200
    assert browser.delete(f"/api/v1/conversations/{body['conversation_id']}").status_code == 204
    assert browser.get("/api/v1/conversations").json() == []
