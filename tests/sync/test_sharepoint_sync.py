"""SharePoint synced end to end: Graph emulator over HTTPS -> sync engine -> the real index.

Permissions are checked where employees meet them: search, ask, the OpenAI
endpoint and downloads, through a running Enclave server. Site groups signed in
for by certificate reach people through their Entra ID groups, and membership
or sharing changes alone reach the index without a download or new vectors.
"""

from __future__ import annotations

import signal
import subprocess

import openai
import pytest
from sqlalchemy import func, select

from assistant.access import Viewer
from assistant.db.models import ConnectorRecord, Document, SyncRun
from enclave.sources import service
from enclave.sources.sync import SyncEngine
from tests.conftest import ENCLAVE, enclave_environment, run_enclave
from tests.emulators.graph import sharing_link, user_grant
from tests.emulators.graph.certificates import app_certificate
from tests.polling import eventually
from tests.server.conftest import make_person, start_server

from .sharepoint_tenant import ENGINEERS_GROUP, FILES, PLATFORM_GROUP, SECRET, SITE, graph, sharepoint  # noqa: F401  (fixtures)

ALICE = Viewer("alice@contoso.com")
BOB = Viewer("bob@contoso.com", frozenset({"platform team"}))
CAROL = Viewer("carol@contoso.com")
DANA = Viewer("dana@contoso.com")  # in "Engineering Members" by name
GINA = Viewer("gina@contoso.com", frozenset({ENGINEERS_GROUP}))  # in it through the Entra ID group Engineers
ROLLOUT = "When does the Falcon rollout to the Oslo plant start?"


def titles(runtime, query: str, viewer: Viewer) -> list[str]:
    return [h.origin.title for h in runtime.assistant.search(query, viewer, 10)]


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(with_llm=False)


def test_full_sync_then_changes_and_deletions(runtime, sharepoint):
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config())
    engine = SyncEngine(runtime)
    first = engine.sync(record.id)
    assert (first.status, first.indexed, first.failed) == ("succeeded", len(FILES), 0), first.log
    with runtime.sessions() as session:
        access = {d.title: d.access for d in session.scalars(select(Document).where(Document.source == record.source_id))}
    assert access["membrane.md"] == {"public": False, "users": ["alice@contoso.com"], "groups": []}
    assert set(access["releases.md"]["groups"]) == {PLATFORM_GROUP.lower(), "platform team"}
    assert access["notes.md"]["public"] is True

    drive = sharepoint.documents
    drive.modify(drive.file("notes.md"), b"Company notes: the summer party moved to the Graz office.")
    drive.delete(drive.file("membrane.md"))
    second = engine.sync(record.id)
    assert (second.status, second.indexed, second.unchanged, second.deleted) == ("succeeded", 1, 0, 1), second.log
    hits = runtime.assistant.search("Where is the summer party?", Viewer.operator(), 1)
    assert "Graz" in hits[0].text
    assert "membrane.md" not in titles(runtime, "titanium membrane pressure sensor", Viewer.operator())


def test_an_expired_change_feed_means_a_full_load_that_prunes(runtime, sharepoint):
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config())
    engine = SyncEngine(runtime)
    engine.sync(record.id)
    drive = sharepoint.documents
    drive.delete(drive.file("notes.md"))
    sharepoint.tenant.expire_delta_tokens()
    run = engine.sync(record.id)
    assert run.status == "succeeded", run.log
    assert any("expired" in line for line in run.log)
    assert run.deleted == 1 and run.unchanged == len(FILES) - 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document).where(Document.source == record.source_id)) == len(FILES) - 1


def test_throttling_and_expired_tokens_are_survived(runtime, sharepoint):
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config())
    sharepoint.tenant.throttle(requests=2, retry_after_s=1)
    engine = SyncEngine(runtime)
    assert engine.sync(record.id).status == "succeeded"
    sharepoint.tenant.expire_tokens()
    drive = sharepoint.documents
    drive.modify(drive.file("releases.md"), b"Platform releases now ship on Wednesdays.")
    run = engine.sync(record.id)
    assert (run.status, run.indexed) == ("succeeded", 1), run.log


def test_a_wrong_secret_fails_the_connection_test_in_words_an_admin_understands(runtime, sharepoint):
    result = service.try_connection("sharepoint", sharepoint.config(client_secret="not-the-secret"))
    assert not result.ok
    assert "client secret" in result.message and "Certificates & secrets" in result.message
    assert service.try_connection("sharepoint", sharepoint.config()).ok


@pytest.fixture
def embedded(runtime, monkeypatch) -> list[str]:
    """Ids of the documents whose chunks get embedded, as they are."""
    written: list[str] = []
    embed = runtime.indexer.embedded

    def recording(chunks):
        written.extend(sorted({c.origin.document_id for c in chunks}))
        return embed(chunks)

    monkeypatch.setattr(runtime.indexer, "embedded", recording)
    return written


def test_site_group_members_find_its_files_until_a_membership_change_without_reembedding(runtime, sharepoint, embedded):
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.certificate_config())
    engine = SyncEngine(runtime)
    first = engine.sync(record.id)
    assert (first.status, first.indexed) == ("succeeded", len(FILES)), first.log
    assert "rollout.md" in titles(runtime, ROLLOUT, GINA)
    assert "rollout.md" in titles(runtime, ROLLOUT, DANA)
    assert "rollout.md" not in titles(runtime, ROLLOUT, CAROL)
    embedded.clear()

    sharepoint.members.remove(ENGINEERS_GROUP)  # the Entra ID group leaves "Engineering Members"
    sharepoint.emulator.requests.clear()
    second = engine.sync(record.id)

    assert (second.status, second.indexed, second.unchanged) == ("succeeded", 0, 1), second.log
    assert embedded == [] and not sharepoint.emulator.requests_to("/content")
    assert "rollout.md" not in titles(runtime, ROLLOUT, GINA)
    assert "rollout.md" in titles(runtime, ROLLOUT, DANA)
    with runtime.sessions() as session:
        rollout = session.scalar(select(Document).where(Document.source == record.source_id, Document.title == "rollout.md"))
    assert rollout.access == {"public": False, "users": ["dana@contoso.com"], "groups": ["engineering members"]}


def test_a_sharing_change_alone_reaches_the_index_without_a_download(runtime, sharepoint, embedded):
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config())
    engine = SyncEngine(runtime)
    assert engine.sync(record.id).status == "succeeded"
    embedded.clear()
    drive = sharepoint.documents
    drive.share(drive.file("membrane.md"), [user_grant("carol@contoso.com")])
    sharepoint.emulator.requests.clear()

    run = engine.sync(record.id)

    assert (run.status, run.indexed, run.unchanged) == ("succeeded", 0, 1), run.log
    assert embedded == [] and not sharepoint.emulator.requests_to("/content")
    assert "membrane.md" in titles(runtime, "titanium membrane pressure sensor", CAROL)
    assert "membrane.md" not in titles(runtime, "titanium membrane pressure sensor", ALICE)


def test_certificate_sign_in_and_a_certificate_entra_id_does_not_know(sharepoint):
    signed_in = service.try_connection("sharepoint", sharepoint.certificate_config())
    assert signed_in.ok and signed_in.message.endswith("1 document library, 1 site group"), signed_in.message

    stranger = app_certificate("Not uploaded")
    refused = service.try_connection("sharepoint", sharepoint.certificate_config(client_certificate=stranger.pem))
    assert not refused.ok
    assert "refused the certificate" in refused.message and "AADSTS700027" in refused.message
    assert stranger.thumbprint in refused.message and "Certificates & secrets > Certificates" in refused.message


def test_killing_a_sync_midway_and_syncing_again_indexes_everything_exactly_once(make_settings, runtime, sharepoint):
    drive = sharepoint.documents
    for n in range(60):
        drive.add_file(f"bulk/report-{n:02}.md", f"Weekly report number {n}: output was {1000 + n} units.".encode())
    expected = len(FILES) + 60
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config())
    data_dir = runtime.settings.data_dir
    environment = enclave_environment(data_dir)
    syncing = subprocess.Popen([str(ENCLAVE), "sync", "Engineering"], env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        indexed = wait_for_progress(runtime, record.id, at_least=10)
    finally:
        syncing.send_signal(signal.SIGKILL)
        syncing.wait()
    assert 10 <= indexed < expected, "the sync must be killed midway"

    rerun = run_enclave("sync", "Engineering", data_dir=data_dir)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    with runtime.sessions() as session:
        documents = session.scalars(select(Document).where(Document.source == record.source_id)).all()
        runs = session.scalars(select(SyncRun).where(SyncRun.connector_id == record.id).order_by(SyncRun.id)).all()
    assert len(documents) == expected
    assert [r.status for r in runs] == ["failed", "succeeded"] and "interrupted" in runs[0].error
    # Each document's chunks are in the index exactly once.
    store = runtime.store
    assert store.count() == sum(d.chunk_count for d in documents)
    assert store.document_ids(record.source_id) == {d.id for d in documents}


def wait_for_progress(runtime, connector_id: int, at_least: int) -> int:
    """The run's live count of indexed items, once it has reached ``at_least``."""

    def indexed() -> int:
        with runtime.sessions() as session:
            run = session.scalar(select(SyncRun).where(SyncRun.connector_id == connector_id).order_by(SyncRun.id.desc()))
        return run.indexed if run is not None and run.indexed >= at_least else 0

    return eventually(indexed, f"{at_least} items indexed")


@pytest.mark.llm
def test_people_outside_a_documents_acl_never_get_it(tmp_path, embedder, llm, sharepoint, caplog):
    server, runtime = start_server(tmp_path, embedder, llm)
    try:
        admin = make_person(runtime, server.url, "admin@contoso.com", "admin")
        alice = make_person(runtime, server.url, "alice@contoso.com", "employee")
        bob = make_person(runtime, server.url, "bob@contoso.com", "employee", ["Platform Team"])
        carol = make_person(runtime, server.url, "carol@contoso.com", "employee")
        created = admin.client.post("/api/v1/connectors", json={"type": "sharepoint", "name": "Engineering",
                                                                 "config": sharepoint.config()})
        assert created.status_code == 201, created.text
        connector = created.json()
        assert connector["config"]["client_secret"] == "********"
        run = wait_for_run(admin.client, connector["id"])
        assert run["status"] == "succeeded" and run["indexed"] == len(FILES), run

        memo = "What is the acquisition target named in the board memo?"
        for person, allowed in ((admin, True), (alice, False), (bob, False), (carol, False)):
            hits = person.client.get("/api/v1/search", params={"q": memo, "k": 10}).json()
            assert ("acquisition.md" in [h["title"] for h in hits]) is allowed
        board_id = admin_document_id(admin.client, "acquisition.md")
        membrane_id = admin_document_id(admin.client, "membrane.md")
        assert carol.client.get(f"/api/v1/documents/{board_id}/content").status_code == 404
        assert carol.client.get(f"/api/v1/documents/{membrane_id}/content").status_code == 404
        assert alice.client.get(f"/api/v1/documents/{membrane_id}/content").text.startswith("The Falcon")
        releases = bob.client.get("/api/v1/search", params={"q": "When do platform releases ship?", "k": 3}).json()
        assert releases[0]["title"] == "releases.md"

        answer = carol.client.post("/api/v1/ask", json={"question": memo}).json()
        assert "acquisition.md" not in [s["title"] for s in answer["sources"]] and "Fjordlight" not in answer["answer"]
        completion = openai.OpenAI(base_url=f"{server.url}/v1", api_key=carol.key, max_retries=0).chat.completions.create(
            model="enclave", messages=[{"role": "user", "content": memo}]
        )
        assert "Fjordlight" not in completion.choices[0].message.content
        assert "acquisition.md" not in [s["title"] for s in completion.model_extra["sources"]]

        # The client secret is sealed at rest and never written to a log.
        with runtime.sessions() as session:
            stored = session.get(ConnectorRecord, connector["id"]).config["client_secret"]
        assert stored.startswith("fernet:") and SECRET not in stored
        assert SECRET.encode() not in (runtime.settings.data_dir / "enclave.db").read_bytes()
        assert SECRET not in caplog.text
    finally:
        server.stop()


def wait_for_run(client, connector_id: int) -> dict:
    def finished():
        runs = client.get(f"/api/v1/connectors/{connector_id}/runs").json()
        return runs[0] if runs and runs[0]["status"] != "running" else None

    return eventually(finished, "the first sync finish")


def admin_document_id(client, title: str) -> str:
    return next(d["id"] for d in client.get("/api/v1/documents", params={"q": title}).json()["items"])


LEGAL = "https://contoso.sharepoint.com/sites/Legal"


def test_a_site_and_a_library_the_app_may_not_read_are_skipped_and_the_rest_synced(runtime, sharepoint):
    legal = sharepoint.tenant.add_site(LEGAL, "Legal", [sharing_link("organization")])
    legal.add_drive("Documents", "Shared Documents").add_file("nda.md", b"The NDA template lives in Legal.")
    private = sharepoint.tenant.site_at("contoso.sharepoint.com", "/sites/Engineering").add_drive("Private", "Private")
    private.add_file("salaries.md", b"Salary bands for engineers are reviewed in March.", [sharing_link("organization")])
    record = service.create(runtime, "sharepoint", "Engineering", sharepoint.config(site_urls=[SITE, LEGAL]))
    engine = SyncEngine(runtime)
    first = engine.sync(record.id)
    assert first.status == "succeeded", first.log
    salaries = {d.external_id for d in indexed_documents(runtime, record) if d.title == "salaries.md"}

    sharepoint.tenant.forbidden |= {LEGAL, private.id}  # as when the app is granted some sites only
    run = engine.sync(record.id, full=True)

    assert run.status == "warning" and run.skipped == 2, (run.error, run.log)
    assert any(w.startswith(f"skipped SharePoint site {LEGAL}: SharePoint refused access") for w in run.warnings)
    assert any("skipped SharePoint library 'Private'" in w and "grant the app read access" in w for w in run.warnings)
    kept = {d.external_id for d in indexed_documents(runtime, record)}
    assert salaries <= kept  # what was indexed from a part that cannot be read now is kept, not pruned
    assert len(kept) == len(FILES) + 2 and "rollout.md" in titles(runtime, ROLLOUT, Viewer.operator())


def indexed_documents(runtime, record) -> list[Document]:
    with runtime.sessions() as session:
        return session.scalars(select(Document).where(Document.source == record.source_id)).all()
