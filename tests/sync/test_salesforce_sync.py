"""Salesforce synced end to end: the HTTPS emulator -> sync engine -> the real index."""

from __future__ import annotations

import pytest
from fpdf import FPDF
from sqlalchemy import select

from assistant.access import Viewer
from assistant.db.models import Document, IngestFailure
from enclave.sources import service
from enclave.sources.sync import SyncEngine
from tests.connectors.salesforce_fixtures import (  # noqa: F401  (fixtures)
    BILLING_CASE,
    ROUTER_CASE,
    Org,
    requests_ca_bundle_set,
    salesforce,
    salesforce_ca,
    salesforce_server,
)

SUPPORT = Viewer("sam@example.com", frozenset({"support"}))
MARKETING = Viewer("mia@example.com", frozenset({"marketing"}))


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(with_llm=False)


@pytest.fixture
def connector(runtime, salesforce):
    config = {
        "login_url": salesforce.url,
        "client_id": Org.client_id,
        "client_secret": Org.client_secret,
        "groups": ["Support", "sales"],
        "ca_bundle": str(salesforce.ca_bundle),
    }
    return service.create(runtime, "salesforce", "Salesforce", config)


def indexed(runtime, record) -> dict[str, Document]:
    with runtime.sessions() as session:
        return {d.external_id: d for d in session.scalars(select(Document).where(Document.source == record.source_id))}


def failures(runtime, record) -> dict[str, str]:
    with runtime.sessions() as session:
        rows = session.scalars(select(IngestFailure).where(IngestFailure.source == record.source_id))
        return {f.external_id: f.reason for f in rows}


def test_full_sync_indexes_every_record_and_file_for_the_configured_groups(runtime, salesforce, connector):
    run = SyncEngine(runtime).sync(connector.id)
    assert run.status == "succeeded", run.log
    expected = salesforce.seeded.expected_ids()
    manual = f"ContentDocument:{salesforce.seeded.files['Router manual']}"  # its bytes are not a real PDF
    assert set(indexed(runtime, connector)) == expected - {manual}
    assert set(failures(runtime, connector)) == {manual}
    assert all(d.access == {"public": False, "users": [], "groups": ["sales", "support"]}
               for d in indexed(runtime, connector).values())
    question = "Why does the office router drop the connection every hour?"
    assert ROUTER_CASE in [h.origin.title for h in runtime.assistant.search(question, SUPPORT, 3)]
    assert runtime.assistant.search(question, MARKETING, 3) == []


def test_changes_deletions_and_a_failed_file_fixed_are_picked_up(runtime, salesforce, connector):
    engine = SyncEngine(runtime)
    engine.sync(connector.id)
    org, seeded = salesforce.org, salesforce.seeded
    org.update("Case", seeded.cases[BILLING_CASE], Description="Customer was charged 25 percent VAT instead of 19.")
    org.delete("Account", seeded.accounts["Globex"])
    org.new_file_version(seeded.files["Router manual"], pdf("Router manual, second edition: hold reset for 10 seconds."))
    run = engine.sync(connector.id)
    assert run.status == "succeeded", run.log
    assert run.deleted == 1 and run.failed == 0
    documents = indexed(runtime, connector)
    assert f"Account:{seeded.accounts['Globex']}" not in documents
    hits = runtime.assistant.search("Which VAT rate was charged on the wrong invoice?", SUPPORT, 1)
    assert hits[0].origin.title == BILLING_CASE and "25 percent" in hits[0].text
    assert failures(runtime, connector) == {}
    manual = runtime.assistant.search("How long do I hold the router's reset button?", SUPPORT, 1)[0]
    assert "second edition" in manual.text


def pdf(text: str) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.multi_cell(0, 10, text)
    return bytes(document.output())


def test_expired_sessions_and_request_limits_are_survived(runtime, salesforce, connector):
    engine = SyncEngine(runtime)
    salesforce.org.exceed_request_limit(after_calls=4)
    deferred = engine.sync(connector.id)
    assert deferred.status == "deferred", deferred.log
    assert "limit" in deferred.error.lower()
    salesforce.org.expire_sessions()
    resumed = engine.sync(connector.id)
    assert resumed.status == "succeeded", resumed.log
    manual = f"ContentDocument:{salesforce.seeded.files['Router manual']}"
    assert set(indexed(runtime, connector)) == salesforce.seeded.expected_ids() - {manual}


def test_an_object_the_integration_user_may_not_read_is_skipped_and_the_rest_synced(runtime, salesforce, connector):
    salesforce.org.hide("CaseComment")  # as Salesforce answers for an object the profile may not read
    run = SyncEngine(runtime).sync(connector.id)
    assert run.status == "warning" and run.skipped == 1, run.log
    assert "skipped Salesforce object CaseComment" in run.warnings[0]
    assert "Read access to CaseComment" in run.warnings[0]
    manual = f"ContentDocument:{salesforce.seeded.files['Router manual']}"
    assert set(indexed(runtime, connector)) == salesforce.seeded.expected_ids() - {manual}  # cases without comments
    with runtime.sessions() as session:
        described = service.describe(session, session.merge(connector), runtime.documents)
    assert described["state"] == "warning" and described["warnings"] == run.warnings


def test_an_object_not_enabled_keeps_what_was_indexed_from_it(runtime, salesforce, connector):
    engine = SyncEngine(runtime)
    assert engine.sync(connector.id).status == "succeeded"
    articles = {i for i in indexed(runtime, connector) if i.startswith("Knowledge__kav:")}
    salesforce.org.hide("Knowledge__kav")
    run = engine.sync(connector.id, full=True)
    assert run.status == "warning" and "Knowledge__kav" in run.warnings[0], run.log
    assert articles and articles <= set(indexed(runtime, connector))  # kept, not pruned as gone


def test_a_full_sync_finding_nothing_warns_and_removes_nothing(runtime, salesforce, connector):
    engine = SyncEngine(runtime)
    first = engine.sync(connector.id)
    held = len(indexed(runtime, connector))
    for name, rows in salesforce.org.tables.items():
        for row in rows:
            row["IsDeleted"] = True  # the account suddenly sees nothing
    run = engine.sync(connector.id, full=True)
    assert run.status == "warning", run.log
    assert f"found no items where the last full sync found {first.seen}" in " ".join(run.warnings)
    assert "nothing was removed" in " ".join(run.warnings)
    assert len(indexed(runtime, connector)) == held == run.held
