"""The Salesforce connector against an emulated org over real HTTPS (tests/emulators/salesforce.py).

Failure modes covered: wrong client secret, unknown client id, wrong password
or security token, unreachable login URL, an untrusted certificate while
REQUESTS_CA_BUNDLE is set, an API version the org lacks, a session that expires
mid-run (renewed once) or is never accepted, the API request limit hit mid-run
(SourceBusy right after a checkpoint, the next sync resumes), records sharing a
SystemModstamp across a page boundary, and queries the emulator does not know.
Fetching given items again (retries): deleted, archived, unreadable or no longer
configured items, ids the connector could not have written, long id lists.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

import pytest
import requests
from pydantic import ValidationError

from assistant.access import Access
from connectors.interfaces import Checkpoint, ConnectorError, Deleted, SourceBusy
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.feeds import watermark_after
from connectors.salesforce.objects import lightning_url
from connectors.salesforce.render import html_to_text
from ingest.documents import ItemFailure, SourceDocument
from ingest.parse import kind_of
from tests.connectors.salesforce_fixtures import (  # noqa: F401  (fixtures)
    BILLING_CASE,
    MANUAL_PDF,
    PORTAL_CASE,
    PRICES_V2,
    ROUTER_ARTICLE,
    ROUTER_CASE,
    ROUTER_COMMENTS,
    VPN_ARTICLE,
    SalesforceSite,
    requests_ca_bundle_set,
    salesforce,
    salesforce_ca,
    salesforce_server,
)
from tests.emulators.salesforce import Org


@dataclass
class Run:
    documents: dict[str, SourceDocument] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    checkpoints: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, events: list) -> Run:
        run = cls()
        for event in events:
            if isinstance(event, SourceDocument):
                run.documents[event.external_id] = event
            elif isinstance(event, Deleted):
                run.deleted.add(event.external_id)
            elif isinstance(event, Checkpoint):
                run.checkpoints.append(event.state)
        return run

    @property
    def checkpoint(self) -> dict:
        return self.checkpoints[-1]


def sync(connector: SalesforceConnector, checkpoint: dict | None = None) -> Run:
    return Run.of(list(connector.load(checkpoint)))


# --- A full sync ------------------------------------------------------------------------------


def test_full_sync_yields_every_published_record_and_readable_file(salesforce: SalesforceSite):
    run = sync(salesforce.connector())

    assert set(run.documents) == salesforce.seeded.expected_ids()
    assert not run.deleted
    more_pages = [call for call in salesforce.org.calls if re.search(r"/query(All)?/01g", call)]
    assert len(more_pages) >= 5  # each of the four objects, and the router case's comments


def test_a_case_reads_as_labelled_fields_with_all_its_comments(salesforce: SalesforceSite):
    case_id = salesforce.seeded.cases[ROUTER_CASE]
    case = sync(salesforce.connector()).documents[f"Case:{case_id}"]

    assert case.title == ROUTER_CASE
    assert case.uri == salesforce.record_url("Case", case_id)
    for line in (
        f"Subject: {ROUTER_CASE}",
        "Status: Escalated",
        "Priority: High",
        "Account: Acme Corporation",
        "Description: The office router reboots every hour.",
    ):
        assert line in case.content
    assert all(comment in case.content for comment in ROUTER_COMMENTS)
    assert f"(internal): {ROUTER_COMMENTS[1]}" in case.content


def test_an_article_body_reads_as_text_not_html(salesforce: SalesforceSite):
    article_id = salesforce.seeded.articles[ROUTER_ARTICLE]
    article = sync(salesforce.connector()).documents[f"Knowledge__kav:{article_id}"]

    assert article.title == ROUTER_ARTICLE
    assert article.uri == salesforce.record_url("Knowledge__kav", article_id)
    assert "Summary: How to power-cycle the router safely." in article.content
    assert "Question: The router does not answer; what now?" in article.content
    assert "Unplug the router, wait 30 seconds, and plug it back in." in article.content
    assert "- Call support if it blinks red & amber." in article.content
    assert "<" not in article.content and "&amp;" not in article.content


def test_an_account_reads_as_labelled_fields(salesforce: SalesforceSite):
    account_id = salesforce.seeded.accounts["Acme Corporation"]
    account = sync(salesforce.connector()).documents[f"Account:{account_id}"]

    assert account.title == "Acme Corporation"
    assert isinstance(account.content, str)
    assert "Account Name: Acme Corporation\nType: Customer\nIndustry: Manufacturing" in account.content
    assert "Billing Country: France" in account.content


def test_every_document_is_visible_to_the_configured_groups_only(salesforce: SalesforceSite):
    run = sync(salesforce.connector())

    assert {d.access for d in run.documents.values()} == {Access.restricted(groups=["support", "sales"])}


def test_no_groups_means_admins_only(salesforce: SalesforceSite):
    run = sync(salesforce.connector(groups=[]))

    assert {d.access for d in run.documents.values()} == {Access(public=False)}


def test_password_flow_logs_in_with_the_security_token_and_syncs(salesforce: SalesforceSite):
    connector = salesforce.connector(
        auth="password", username="integration@acme.com", password="pa55word", security_token="TOKEN123"
    )

    assert connector.test_connection() == f"Connected to {salesforce.url} as integration@acme.com"
    assert set(sync(connector).documents) == salesforce.seeded.expected_ids()


def test_only_the_chosen_objects_are_synced(salesforce: SalesforceSite):
    run = sync(salesforce.connector(objects=["Account"]))

    assert set(run.documents) == {f"Account:{i}" for i in salesforce.seeded.accounts.values()}
    assert set(run.checkpoint["objects"]) == {"Account"}


# --- Files ------------------------------------------------------------------------------------


def test_files_are_downloaded_only_when_their_content_is_asked_for(salesforce: SalesforceSite):
    run = sync(salesforce.connector())
    downloads = lambda: [call for call in salesforce.org.calls if call.endswith("/VersionData")]  # noqa: E731
    manual = run.documents[f"ContentDocument:{salesforce.seeded.files['Router manual']}"]

    assert downloads() == []
    assert manual.fetch() == MANUAL_PDF
    assert manual.fetch() == MANUAL_PDF
    assert len(downloads()) == 1


def test_a_file_is_named_from_its_title_and_extension_and_versioned_by_its_stamp(salesforce: SalesforceSite):
    document_id = salesforce.seeded.files["Price list"]
    prices = sync(salesforce.connector()).documents[f"ContentDocument:{document_id}"]

    assert prices.title == "Price list"
    assert prices.filename == "Price list.csv"
    assert prices.mime_type == "text/csv"
    assert prices.uri == salesforce.record_url("ContentDocument", document_id)
    assert re.fullmatch(r"2026-01-05T\d\d:\d\d:\d\d\.000\+0000", prices.version)
    assert prices.fetch() == PRICES_V2  # the latest version, not the first


def test_records_are_plain_text_and_files_keep_their_own_type(salesforce: SalesforceSite):
    run = sync(salesforce.connector())
    files = {i: d for i, d in run.documents.items() if i.startswith("ContentDocument:")}
    records = [d for i, d in run.documents.items() if i not in files]

    assert records and all(isinstance(d.content, str) for d in records)
    # Served as text at /api/v1/documents/{id}/content, and read as text by the parser by its name too.
    assert {d.mime_type for d in records} == {"text/plain"}
    assert all(d.filename.endswith(".txt") and kind_of(d.filename) == "text" for d in records)
    case_id = salesforce.seeded.cases[ROUTER_CASE]
    assert run.documents[f"Case:{case_id}"].filename == f"Case-{case_id}.txt"
    assert {d.filename: d.mime_type for d in files.values()} == {
        "Router manual.pdf": "application/pdf",
        "Onboarding checklist.txt": "text/plain",
        "Price list.csv": "text/csv",
    }


# --- Incremental syncs ------------------------------------------------------------------------


def test_a_sync_from_the_checkpoint_yields_only_what_changed(salesforce: SalesforceSite):
    org, seeded = salesforce.org, salesforce.seeded
    connector = salesforce.connector()
    first = sync(connector)

    org.update("Case", seeded.cases[BILLING_CASE], Status="Closed")
    org.add_comment(seeded.cases[PORTAL_CASE], "Sent a password reset link.")
    org.delete("Account", seeded.accounts["Globex"])
    new_account = org.insert("Account", Name="Umbrella Health", Industry="Healthcare")
    new_version = org.publish_new_version(seeded.articles[VPN_ARTICLE], Summary="Now with split tunnelling.")
    org.new_file_version(seeded.files["Router manual"], b"%PDF-1.4 second edition")
    org.delete_file(seeded.files["Onboarding checklist"])
    second = sync(connector, first.checkpoint)

    assert set(second.documents) == {
        f"Case:{seeded.cases[BILLING_CASE]}",
        f"Case:{seeded.cases[PORTAL_CASE]}",
        f"Account:{new_account}",
        f"Knowledge__kav:{new_version}",
        f"ContentDocument:{seeded.files['Router manual']}",
    }
    assert second.deleted == {
        f"Account:{seeded.accounts['Globex']}",
        f"Knowledge__kav:{seeded.articles[VPN_ARTICLE]}",
        f"ContentDocument:{seeded.files['Onboarding checklist']}",
    }
    assert "Status: Closed" in second.documents[f"Case:{seeded.cases[BILLING_CASE]}"].content
    assert "Sent a password reset link." in second.documents[f"Case:{seeded.cases[PORTAL_CASE]}"].content
    assert second.documents[f"ContentDocument:{seeded.files['Router manual']}"].fetch() == b"%PDF-1.4 second edition"


def test_a_sync_with_nothing_changed_yields_nothing(salesforce: SalesforceSite):
    connector = salesforce.connector()
    first = sync(connector)
    second = sync(connector, first.checkpoint)

    assert not second.documents and not second.deleted
    assert second.checkpoint == first.checkpoint


def test_the_checkpoint_keeps_a_watermark_per_object(salesforce: SalesforceSite):
    checkpoint = sync(salesforce.connector()).checkpoint

    assert set(checkpoint["objects"]) == {"Knowledge__kav", "CaseComment", "Case", "Account", "ContentVersion"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mark) for mark in checkpoint["objects"].values())


def test_changes_are_asked_for_by_system_modstamp_through_query_all(salesforce: SalesforceSite):
    connector = salesforce.connector(objects=["Account"])
    first = sync(connector)
    salesforce.org.queries.clear()
    sync(connector, first.checkpoint)

    mark = first.checkpoint["objects"]["Account"]
    assert f"FROM Account WHERE SystemModstamp > {mark} ORDER BY SystemModstamp" in salesforce.org.queries[0]
    assert any("/queryAll" in call for call in salesforce.org.calls)


# --- Sessions and limits ----------------------------------------------------------------------


def test_an_expired_session_is_renewed_and_the_run_goes_on(salesforce: SalesforceSite):
    events = []
    for event in salesforce.connector().load(None):
        events.append(event)
        if isinstance(event, Checkpoint) and salesforce.org.token_requests == 1:
            salesforce.org.expire_sessions()

    assert set(Run.of(events).documents) == salesforce.seeded.expected_ids()
    assert salesforce.org.token_requests == 2


def test_a_session_refused_again_after_logging_in_again_fails_the_run(salesforce: SalesforceSite):
    salesforce.org.refuse_sessions = True

    with pytest.raises(ConnectorError, match="INVALID_SESSION_ID"):
        sync(salesforce.connector())
    assert salesforce.org.token_requests == 2


@pytest.mark.parametrize("after_calls", [2, 4, 6, 9])
def test_the_request_limit_stops_the_run_after_a_checkpoint_and_the_next_sync_resumes(
    salesforce: SalesforceSite, after_calls: int
):
    connector = salesforce.connector()
    salesforce.org.exceed_request_limit(after_calls=after_calls)
    events = []
    with pytest.raises(SourceBusy, match="request limit"):
        for event in connector.load(None):
            events.append(event)

    assert isinstance(events[-1], Checkpoint)
    stopped = Run.of(events)
    resumed = sync(connector, stopped.checkpoint)
    assert set(stopped.documents) | set(resumed.documents) == salesforce.seeded.expected_ids()
    assert set(resumed.documents) < salesforce.seeded.expected_ids()


def test_records_sharing_a_stamp_across_a_page_boundary_are_not_skipped_on_resume():
    first_page = [
        {"SystemModstamp": "2026-01-05T09:00:01.000+0000"},
        {"SystemModstamp": "2026-01-05T09:00:02.000+0000"},
    ]

    # The second record's second may go on in the next page: resume from the first's.
    assert watermark_after(first_page, None, done=False) == "2026-01-05T09:00:01Z"
    assert watermark_after(first_page, None, done=True) == "2026-01-05T09:00:02Z"
    assert watermark_after(first_page[1:] * 2, "2026-01-05T09:00:00Z", done=False) == "2026-01-05T09:00:00Z"
    assert watermark_after([], "2026-01-05T09:00:00Z", done=True) == "2026-01-05T09:00:00Z"


# --- Connection checks ------------------------------------------------------------------------


def test_test_connection_names_the_org_and_the_user(salesforce: SalesforceSite):
    assert salesforce.connector().test_connection() == f"Connected to {salesforce.url} as integration@acme.com"


def test_a_wrong_client_secret_is_explained(salesforce: SalesforceSite):
    connector = salesforce.connector(client_secret="not-the-secret")

    with pytest.raises(ConnectorError, match="rejected the client secret.*invalid_client: invalid client credentials"):
        connector.test_connection()
    with pytest.raises(ConnectorError, match="client secret"):
        sync(connector)


def test_an_unknown_client_id_is_explained(salesforce: SalesforceSite):
    with pytest.raises(ConnectorError, match="Consumer Key"):
        salesforce.connector(client_id="3MVG9unknown").test_connection()


def test_a_wrong_password_or_security_token_is_explained(salesforce: SalesforceSite):
    connector = salesforce.connector(
        auth="password", username="integration@acme.com", password="pa55word", security_token="OLDTOKEN"
    )

    with pytest.raises(ConnectorError, match="authentication failure.*check username, password and the security token"):
        connector.test_connection()


def test_an_unreachable_login_url_is_explained(salesforce: SalesforceSite):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with pytest.raises(ConnectorError, match=f"cannot reach https://127.0.0.1:{closed_port}: Connection refused"):
        salesforce.connector(login_url=f"https://127.0.0.1:{closed_port}").test_connection()


def test_an_untrusted_certificate_points_at_ca_bundle(salesforce: SalesforceSite):
    with pytest.raises(ConnectorError, match="not trusted.*ca_bundle"):
        salesforce.connector(ca_bundle=None).test_connection()


def test_an_api_version_the_org_lacks_is_explained(salesforce: SalesforceSite):
    with pytest.raises(ConnectorError, match="does not offer API version 61.0 .*newest it offers is 60.0"):
        salesforce.connector(api_version="61.0").test_connection()


def test_list_ids_matches_what_a_full_sync_yields(salesforce: SalesforceSite):
    connector = salesforce.connector()
    listed = set(connector.list_ids())
    listing_queries = list(salesforce.org.queries)

    assert listed == set(sync(connector).documents)
    assert [query.split(" FROM ")[0] for query in listing_queries] == [
        "SELECT Id",
        "SELECT Id",
        "SELECT Id",
        "SELECT Id, ContentDocumentId, FileExtension",  # a file's id is its document's; its type decides
    ]


# --- Fetching given items again (the sync engine retries earlier failures) ---------------------


def _as_indexed(document: SourceDocument) -> tuple:
    """Everything the indexer reads of a document, its content fetched."""
    return (
        document.external_id, document.title, document.uri, document.fetch(), document.filename,
        document.mime_type, document.modified_at, document.version, document.access, document.metadata,
    )


def test_fetch_yields_what_a_full_sync_yields(salesforce: SalesforceSite):
    connector = salesforce.connector()
    loaded = sync(connector).documents
    ids = sorted(salesforce.seeded.expected_ids())

    fetched = list(connector.fetch(ids))

    assert [event.external_id for event in fetched] == ids
    assert all(isinstance(event, SourceDocument) for event in fetched)
    assert [_as_indexed(d) for d in fetched] == [_as_indexed(loaded[i]) for i in ids]
    router_case = next(d for d in fetched if d.title == ROUTER_CASE)
    assert all(comment in router_case.content for comment in ROUTER_COMMENTS)  # its comments span pages


def test_fetch_reports_items_gone_or_no_longer_indexed_as_deleted(salesforce: SalesforceSite):
    org, seeded = salesforce.org, salesforce.seeded
    org.delete("Account", seeded.accounts["Globex"])
    org.delete("Case", seeded.cases[PORTAL_CASE])
    org.publish_new_version(seeded.articles[VPN_ARTICLE], Summary="Now with split tunnelling.")
    org.delete_file(seeded.files["Onboarding checklist"])
    gone = [
        f"Account:{seeded.accounts['Globex']}",
        f"Case:{seeded.cases[PORTAL_CASE]}",
        f"Knowledge__kav:{seeded.articles[VPN_ARTICLE]}",  # archived by its new version
        f"Knowledge__kav:{seeded.draft_article}",  # never published
        f"ContentDocument:{seeded.files['Onboarding checklist']}",
        f"ContentDocument:{seeded.files['Team video']}",  # a type that is not indexed
        "Account:0015g0000099999AAA",  # never existed
    ]

    assert list(salesforce.connector().fetch(gone)) == [Deleted(i) for i in gone]


def test_fetch_of_a_file_gives_its_latest_version(salesforce: SalesforceSite):
    document_id = salesforce.seeded.files["Price list"]

    [prices] = salesforce.connector().fetch([f"ContentDocument:{document_id}"])

    assert prices.fetch() == PRICES_V2
    assert any(
        f"FROM ContentVersion WHERE IsLatest = true AND ContentDocumentId IN ('{document_id}')" in query
        for query in salesforce.org.queries
    )


def test_fetch_answers_each_id_once_in_the_order_given(salesforce: SalesforceSite):
    seeded = salesforce.seeded
    salesforce.org.delete("Account", seeded.accounts["Initech"])
    router, portal = f"Case:{seeded.cases[ROUTER_CASE]}", f"Case:{seeded.cases[PORTAL_CASE]}"
    manual = f"ContentDocument:{seeded.files['Router manual']}"
    article = f"Knowledge__kav:{seeded.articles[ROUTER_ARTICLE]}"
    initech = f"Account:{seeded.accounts['Initech']}"
    ids = [router, initech, "Opportunity:0065g0000000001AAA", manual, portal, "Case:bogus", article, router, "Case"]

    events = list(salesforce.connector().fetch(ids))

    distinct = list(dict.fromkeys(ids))
    assert [event.external_id for event in events] == distinct
    assert [type(event).__name__ for event in events] == [
        "SourceDocument", "Deleted", "ItemFailure", "SourceDocument", "SourceDocument", "ItemFailure",
        "SourceDocument", "ItemFailure",
    ]
    failures = [event for event in events if isinstance(event, ItemFailure)]
    assert all(f.title == f.external_id and "is not a Salesforce item id" in f.reason for f in failures)
    assert "ContentDocument:" in failures[0].reason and "18-character record Id" in failures[0].reason
    # One query per object asked for (Knowledge also needs its body fields described), and one asking
    # whether the user may read case comments.
    assert len(salesforce.org.queries) == 5 and "SELECT Id FROM CaseComment LIMIT 1" in salesforce.org.queries


def test_fetch_of_an_object_no_longer_synced_reports_it_deleted(salesforce: SalesforceSite):
    account = f"Account:{salesforce.seeded.accounts['Acme Corporation']}"
    case = f"Case:{salesforce.seeded.cases[BILLING_CASE]}"

    events = list(salesforce.connector(objects=["Case"]).fetch([account, case]))

    assert events[0] == Deleted(account)
    assert isinstance(events[1], SourceDocument) and events[1].external_id == case
    assert not any("FROM Account" in query for query in salesforce.org.queries)


def test_fetch_asks_for_at_most_200_ids_a_query(salesforce: SalesforceSite):
    org = salesforce.org
    with org.same_second():
        added = [org.insert("Account", Name=f"Customer {n:03d}", Industry="Retail") for n in range(403)]
    missing = ["0015g0000090001AAA", "0015g0000090002AAA"]
    ids = [f"Account:{i}" for i in added[:300] + missing + added[300:]]
    org.queries.clear()

    events = list(salesforce.connector(objects=["Account"]).fetch(ids))

    assert [event.external_id for event in events] == ids
    assert [event.title for event in events if isinstance(event, SourceDocument)] == [
        f"Customer {n:03d}" for n in range(403)
    ]
    assert [event for event in events if isinstance(event, Deleted)] == [Deleted(f"Account:{i}") for i in missing]
    asked = [re.findall(r"'(\w+)'", query) for query in org.queries]
    assert [len(chunk) for chunk in asked] == [200, 200, 5]
    assert sum(asked, []) == [i.split(":")[1] for i in ids]


def test_fetch_of_nothing_it_can_ask_for_does_not_log_in(salesforce: SalesforceSite):
    connector = salesforce.connector(objects=["Case"])

    assert list(connector.fetch([])) == []
    events = list(connector.fetch(["Case:not-an-id", f"Account:{salesforce.seeded.accounts['Globex']}"]))

    assert [type(event) for event in events] == [ItemFailure, Deleted]
    assert salesforce.org.token_requests == 0


def test_a_sync_logs_in_once_for_loading_listing_and_fetching(salesforce: SalesforceSite):
    connector = salesforce.connector()
    ids = sorted(salesforce.seeded.expected_ids())
    sync(connector)
    list(connector.list_ids())
    list(connector.fetch(ids))

    assert salesforce.org.token_requests == 1
    connector.close()
    list(connector.fetch(ids[:1]))
    assert salesforce.org.token_requests == 2


def test_fetch_renews_an_expired_session_and_goes_on(salesforce: SalesforceSite):
    ids = sorted(salesforce.seeded.expected_ids())
    events = []
    for event in salesforce.connector().fetch(ids):
        events.append(event)
        if salesforce.org.token_requests == 1:
            salesforce.org.expire_sessions()

    assert [event.external_id for event in events] == ids
    assert all(isinstance(event, SourceDocument) for event in events)
    assert salesforce.org.token_requests == 2


def test_fetch_raises_when_the_whole_source_fails(salesforce: SalesforceSite):
    ids = sorted(salesforce.seeded.expected_ids())
    salesforce.org.exceed_request_limit(after_calls=1)
    with pytest.raises(SourceBusy, match="request limit"):
        list(salesforce.connector().fetch(ids))

    salesforce.org.refuse_sessions = True
    with pytest.raises(ConnectorError, match="INVALID_SESSION_ID"):
        list(salesforce.connector().fetch(ids))


# --- Configuration and rendering --------------------------------------------------------------


def test_password_auth_needs_a_username_and_password():
    with pytest.raises(ValidationError, match="needs username and password"):
        SalesforceConnector.Config(auth="password", client_id="id", client_secret="secret")


def test_the_login_url_must_be_https():
    with pytest.raises(ValidationError, match="https"):
        SalesforceConnector.Config(login_url="http://login.salesforce.com", client_id="id", client_secret="secret")


def test_every_setting_has_inline_help():
    fields = SalesforceConnector.Config.model_fields
    assert all(f.description for f in fields.values())


@pytest.mark.parametrize(
    ("instance_url", "lightning"),
    [
        ("https://acme.my.salesforce.com", "https://acme.lightning.force.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.lightning.force.com"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ],
)
def test_records_open_in_lightning(instance_url: str, lightning: str):
    assert lightning_url(instance_url) == lightning


def test_rich_text_becomes_lines_of_plain_text():
    html = "<h2>Steps</h2><p>Press <b>Reset</b>&nbsp;now.</p><ol><li>One</li><li>Two</li></ol>Done<br>Bye<script>x()</script>"

    assert html_to_text(html) == "Steps\nPress Reset now.\n- One\n- Two\nDone\nBye"


# --- The emulator answers only what it understands ---------------------------------------------


@pytest.mark.parametrize(
    ("soql", "status", "code"),
    [
        ("SELECT Id FROM Account WHERE Name LIKE 'A%'", 400, "MALFORMED_QUERY"),
        ("SELECT Id, Nickname FROM Account", 400, "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE SystemModstamp > '2026-01-05'", 400, "INVALID_FIELD"),
        ("SELECT Id FROM Knowledge__kav", 400, "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity", 400, "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE Id IN ('0015g0000000001AAA', 'bogus')", 400, "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Case WHERE AccountId = '001'", 400, "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Account WHERE Id IN ()", 400, "MALFORMED_QUERY"),
        ("SELECT Id FROM ContentVersion WHERE ContentDocumentId IN ('0695g0000000001AAA', 7)", 400, "INVALID_FIELD"),
    ],
)
def test_the_emulator_refuses_queries_it_does_not_know(salesforce: SalesforceSite, soql: str, status: int, code: str):
    form = {"grant_type": "client_credentials", "client_id": Org.client_id, "client_secret": Org.client_secret}
    token = requests.post(f"{salesforce.url}/services/oauth2/token", data=form, verify=salesforce.ca_bundle).json()
    answer = requests.get(
        f"{token['instance_url']}/services/data/v59.0/query/",
        params={"q": soql},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        verify=salesforce.ca_bundle,
    )

    assert answer.status_code == status
    assert answer.json()[0]["errorCode"] == code
