"""The SharePoint connector against the Graph emulator, over real HTTPS with a throwaway CA.

Covers: full load (several sites and libraries, paging, nested folders, ACLs,
metadata), incremental syncs (modified, renamed, deleted, added, a renamed folder,
renamed to a skipped type), resuming an interrupted walk, an expired deltaLink
(410), throttling (429 Retry-After), a revoked token, a file gone mid-walk, a
failed download, the admin-facing sign-in, permission and site errors, lazy
downloads that never carry the bearer token, the token never leaving for another
host, include_extensions, list_ids, fetching given items again (as load yields
them, deleted, failing, or stopping the run when Graph refuses the app), and the
connector's CA bundle winning over REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time

import certifi
import docx
import jwt
import pytest
import requests

from assistant.access import Access
from connectors.interfaces import Checkpoint, CheckpointExpired, ConnectorError, Deleted
from connectors.sharepoint.acl import SiteGroup, access_from
from connectors.sharepoint.config import SharePointConfig
from connectors.sharepoint.connector import SharePointConnector
from connectors.sharepoint.graph import DownloadFailed
from ingest.documents import ItemFailure, SourceDocument
from tests.emulators.graph import GraphEmulator, Tenant, group_grant, sharing_link, site_group_grant, user_grant
from tests.emulators.graph.certificates import app_certificate
from tests.emulators.server import BackgroundServer, make_ca

CLIENT_ID = "5c1e7a43-enclave-app"
SECRET = "s3cret~value"
ENGINEERING = "https://contoso.sharepoint.com/sites/Engineering"
SALES = "https://contoso.sharepoint.com/sites/Sales"
PLATFORM_GROUP = "0f7c1a52-7e1b-4d5e-9a43-platform"
ENGINEERS_GROUP = "6d0e8b7f-2c4a-4f1e-8b9d-engineers"


def word_document(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def emulator():
    return GraphEmulator()


@pytest.fixture(scope="module")
def server(emulator, ca):
    with BackgroundServer(emulator.app, ca) as running:
        yield running


@pytest.fixture(scope="module")
def certificate():
    return app_certificate()


@pytest.fixture
def tenant(emulator, certificate) -> Tenant:
    """Two sites, three libraries, nine files (one a video), folders two deep; Graph pages hold two items.

    Engineering's libraries inherit from its "Engineering Members" group: erin, and the Entra ID group
    Engineers. The app has a client secret and a certificate.
    """
    tenant = Tenant()
    tenant.add_app(CLIENT_ID, SECRET, certificate=certificate.certificate)
    engineering = tenant.add_site(ENGINEERING, "Engineering")
    engineering.add_group("Engineering Owners").add_person("olga@contoso.com")
    members = engineering.add_group("Engineering Members")
    members.add_person("erin@contoso.com")
    members.add_entra_group(ENGINEERS_GROUP, "Engineers")
    engineering.add_group("Engineering Visitors")
    engineering.permissions = [site_group_grant(members)]
    documents = engineering.add_drive("Documents", "Shared Documents")
    documents.add_file("Specs/design.docx", word_document("The design."), [user_grant("alice@contoso.com"), group_grant(PLATFORM_GROUP, "Platform Team")])
    documents.add_file("Specs/2024/roadmap.md", b"# Roadmap\n\nShip it.\n")
    documents.add_file("notes.txt", b"Company-wide notes.\n", [sharing_link("organization")])
    documents.add_file("demo.mp4", b"\x00\x00\x00\x18ftypmp42")
    policies = engineering.add_drive("Policies")
    policies.add_file("travel.md", b"# Travel\n", [sharing_link("anonymous")])
    policies.add_file("handbook.txt", b"Handbook.\n", [sharing_link("users", people=("carol@contoso.com",))])
    sales = tenant.add_site(SALES, "Sales", [site_group_grant("Sales Members")])
    sales_documents = sales.add_drive("Documents", "Shared Documents")
    sales_documents.add_file("pipeline.csv", b"deal,amount\nacme,100\n")
    sales_documents.add_file("Deals/acme.txt", b"Acme deal.\n", [user_grant("dave@contoso.com")])
    sales_documents.add_file("Deals/globex.txt", b"Globex deal.\n")
    emulator.tenant = tenant
    emulator.requests.clear()
    return tenant


@pytest.fixture
def connect(server, ca, tenant):
    made: list[SharePointConnector] = []

    def make(**overrides) -> SharePointConnector:
        settings = {
            "tenant_id": tenant.tenant_id,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "site_urls": [ENGINEERING, SALES],
            "authority_host": server.url,
            "graph_url": f"{server.url}/v1.0",
            "ca_bundle": ca.ca_pem,
            "sharepoint_url": server.url,
        } | overrides
        made.append(SharePointConnector(SharePointConfig.model_validate(settings)))
        return made[-1]

    yield make
    for connector in made:  # idle keep-alive connections would hold up the server's shutdown
        connector.graph.session.close()


def sync(connector: SharePointConnector, checkpoint: dict | None = None) -> list:
    return list(connector.load(checkpoint))


def documents(events: list) -> dict[str, SourceDocument]:
    return {e.metadata["path"]: e for e in events if isinstance(e, SourceDocument)}


def final_checkpoint(events: list) -> dict:
    assert isinstance(events[-1], Checkpoint)
    return events[-1].state


def external_id(tenant: Tenant, path: str) -> str:
    drive, item = next((d, i) for d, i in tenant.files() if i.path == path)
    return f"{drive.id}:{item.id}"


def test_full_load_yields_every_indexable_file_with_its_acl(connect, tenant):
    events = sync(connect())

    found = documents(events)
    assert sorted(found) == sorted(i.path for _, i in tenant.files() if not i.name.endswith(".mp4"))
    assert found["Specs/design.docx"].access == Access.restricted(
        users={"alice@contoso.com"}, groups={PLATFORM_GROUP, "platform team"}
    )
    assert found["Specs/2024/roadmap.md"].access == Access.restricted(groups={"engineering members"})
    assert found["notes.txt"].access.public  # an organization-wide link
    assert found["travel.md"].access.public  # an anonymous link
    assert found["handbook.txt"].access == Access.restricted(users={"carol@contoso.com"})
    assert found["Deals/acme.txt"].access == Access.restricted(users={"dave@contoso.com"})
    assert not any(isinstance(e, ItemFailure) for e in events)


def test_documents_carry_title_uri_version_and_metadata(connect, tenant):
    design = documents(sync(connect()))["Specs/design.docx"]

    item = tenant.sites[0].drives[0].file("design.docx")
    assert design.external_id == external_id(tenant, "Specs/design.docx")
    assert (design.title, design.filename) == ("design.docx", "design.docx")
    assert design.uri == f"{ENGINEERING}/Shared%20Documents/Specs/design.docx"
    assert design.version == item.etag
    assert design.mime_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert design.modified_at is not None
    assert design.metadata == {
        "site_url": ENGINEERING,
        "drive": "Documents",
        "path": "Specs/design.docx",
        "last_modified_by": "alice@contoso.com",
    }


def test_a_checkpoint_follows_every_page_and_is_json(connect, emulator):
    events = sync(connect())

    delta_pages = len(emulator.requests_to("/root/delta"))
    checkpoints = [e for e in events if isinstance(e, Checkpoint)]
    assert len(checkpoints) == delta_pages + 2 + 1  # one per page, one per site, and the final one
    state = json.loads(json.dumps(final_checkpoint(events)))
    assert len(state["drives"]) == 3
    assert state["site_groups"] == {ENGINEERING: {}, SALES: {}}  # a client secret reads no site groups
    assert all(set(link) == {"delta"} for link in state["drives"].values())


def test_content_is_downloaded_only_when_asked_and_without_the_token(connect, emulator):
    events = sync(connect())
    assert not emulator.requests_to("/content") and not emulator.requests_to("download.aspx")

    design = documents(events)["Specs/design.docx"]
    assert docx.Document(io.BytesIO(design.fetch())).paragraphs[0].text == "The design."

    [graph_call] = emulator.requests_to("/content")
    [download] = emulator.requests_to("download.aspx")
    assert graph_call.authorization.startswith("Bearer ")
    assert download.host.startswith("localhost:") and download.authorization is None


def test_a_failed_download_raises_with_the_reason(connect, tenant):
    notes = documents(sync(connect()))["notes.txt"]
    drive = tenant.sites[0].drives[0]
    drive.delete(drive.file("notes.txt"))

    with pytest.raises(DownloadFailed, match="no longer in SharePoint .* HTTP 404 itemNotFound"):
        notes.fetch()


def test_a_file_gone_mid_walk_is_reported_and_the_walk_goes_on(connect, tenant):
    drive = tenant.sites[0].drives[0]
    events = []
    for event in connect().load(None):
        events.append(event)
        if isinstance(event, SourceDocument) and event.title == "roadmap.md":
            drive.delete(drive.file("notes.txt"))  # listed on the same page, its permissions not yet read

    [failure] = [e for e in events if isinstance(e, ItemFailure)]
    assert failure.title == "notes.txt"
    assert failure.reason.startswith("could not read its permissions or folder: Microsoft Graph answered HTTP 404 itemNotFound")
    assert len(documents(events)) == 7


def test_the_token_goes_to_graph_only(connect, tenant):
    drive_id = tenant.sites[0].drives[0].id
    tampered = {"drives": {drive_id: {"delta": "https://attacker.example/v1.0/drives/x/root/delta?token=1"}}}

    with pytest.raises(ConnectorError, match="refusing to send the app's token to attacker.example"):
        sync(connect(), tampered)


def test_second_sync_yields_only_the_changes(connect, tenant):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    documents_drive = tenant.sites[0].drives[0]
    design, roadmap, notes = (documents_drive.file(name) for name in ("design.docx", "roadmap.md", "notes.txt"))
    old_design_version = design.etag
    documents_drive.modify(design, word_document("The new design."))
    documents_drive.rename(roadmap, "roadmap-2024.md")
    documents_drive.delete(notes)
    documents_drive.add_file("Specs/faq.md", b"# FAQ\n")

    events = sync(connector, checkpoint)

    changed = documents(events)
    assert sorted(changed) == ["Specs/2024/roadmap-2024.md", "Specs/design.docx", "Specs/faq.md"]
    assert changed["Specs/design.docx"].version != old_design_version
    assert changed["Specs/2024/roadmap-2024.md"].title == "roadmap-2024.md"
    assert changed["Specs/2024/roadmap-2024.md"].external_id == f"{documents_drive.id}:{roadmap.id}"
    assert [e for e in events if isinstance(e, Deleted)] == [Deleted(f"{documents_drive.id}:{notes.id}")]
    assert documents(sync(connector, final_checkpoint(events))) == {}


def test_a_changed_file_in_a_renamed_folder_gets_its_new_path(connect, tenant):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    drive = tenant.sites[0].drives[0]
    drive.rename(drive.folder_at("Specs"), "Specifications")
    drive.modify(drive.file("roadmap.md"), b"# Roadmap v2\n")

    changed = documents(sync(connector, checkpoint))

    assert list(changed) == ["Specifications/2024/roadmap.md"]


def test_a_file_renamed_to_a_skipped_type_is_deleted(connect, tenant):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    drive = tenant.sites[0].drives[0]
    notes = drive.file("notes.txt")
    drive.rename(notes, "notes.bin")

    events = sync(connector, checkpoint)

    assert Deleted(f"{drive.id}:{notes.id}") in events
    assert documents(events) == {}


def test_an_interrupted_full_load_resumes_mid_walk(connect, tenant):
    connector = connect()
    everything = sync(connector)
    first_page_end = next(n for n, e in enumerate(everything) if isinstance(e, Checkpoint) and documents(everything[:n]))
    before = documents(everything[:first_page_end])
    resume_at = everything[first_page_end].state
    assert "next" in next(iter(resume_at["drives"].values()))

    after = documents(sync(connector, resume_at))

    assert not set(before) & set(after)
    assert set(before) | set(after) == set(documents(everything))


def test_an_expired_delta_link_asks_for_a_full_load(connect, tenant):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    tenant.expire_delta_tokens()

    with pytest.raises(CheckpointExpired, match="library 'Documents' of https://contoso.sharepoint.com/sites/Engineering"):
        sync(connector, checkpoint)


def test_throttling_is_waited_out(connect, tenant, emulator):
    tenant.throttle(requests=1, retry_after_s=1)
    started = time.monotonic()

    found = documents(sync(connect()))

    assert time.monotonic() - started >= 1
    assert len(found) == 8
    assert len(emulator.requests_to("/sites/contoso.sharepoint.com:/sites/Engineering")) == 2  # refused, then made again


def test_a_revoked_token_is_replaced(connect, tenant):
    events = []
    for event in connect().load(None):
        events.append(event)
        if len(events) == 3:
            tenant.expire_tokens()

    assert len(documents(events)) == 8
    assert tenant.tokens_issued == 2


def test_connection_summary(connect):
    unexpanded = "; site groups are not expanded to their members (that needs a certificate)"
    assert connect().test_connection() == "Connected: 2 sites, 3 document libraries" + unexpanded
    assert connect(site_urls=[SALES]).test_connection() == "Connected: 1 site, 1 document library" + unexpanded


def test_wrong_client_secret_is_explained(connect):
    with pytest.raises(ConnectorError) as raised:
        connect(client_secret="the-secret-id-not-its-value").test_connection()

    assert str(raised.value) == (
        f"SharePoint rejected the client secret for app {CLIENT_ID} (AADSTS7000215: Invalid client secret provided). "
        "Check the secret's value (not its ID) in Entra ID > App registrations > Certificates & secrets."
    )


def test_unknown_client_id_is_explained(connect):
    with pytest.raises(ConnectorError, match=r"no app with client ID nobody .*AADSTS700016.*Application \(client\) ID"):
        connect(client_id="nobody").test_connection()


def test_unknown_tenant_is_explained(connect):
    with pytest.raises(ConnectorError, match=r"no tenant wrong-tenant \(AADSTS90002: Tenant 'wrong-tenant' not found\).*Directory \(tenant\) ID"):
        connect(tenant_id="wrong-tenant").test_connection()


def test_unknown_site_is_explained(connect):
    missing = "https://contoso.sharepoint.com/sites/Nope"

    with pytest.raises(ConnectorError, match=f"SharePoint has no site at {missing} \\(HTTP 404 itemNotFound\\)"):
        connect(site_urls=[ENGINEERING, missing]).test_connection()


def test_missing_graph_permissions_are_explained(connect, tenant):
    tenant.add_app(CLIENT_ID, SECRET, roles=())

    with pytest.raises(ConnectorError, match="HTTP 403 AccessDenied.*Sites.Read.All and Files.Read.All.*Grant admin consent"):
        connect().test_connection()


def test_include_extensions_filters_files(connect):
    found = documents(sync(connect(include_extensions=["MD", ".csv"])))

    assert sorted(found) == ["Specs/2024/roadmap.md", "pipeline.csv", "travel.md"]


def test_list_ids_lists_the_files_present(connect, tenant):
    drive = tenant.sites[0].drives[0]
    drive.delete(drive.folder_at("Specs"))

    listed = set(connect().list_ids())

    expected = {f"{d.id}:{i.id}" for d, i in tenant.files() if not i.name.endswith(".mp4")}
    assert listed == expected and len(listed) == 6


def without_content(document: SourceDocument) -> SourceDocument:
    return dataclasses.replace(document, content=b"")


def test_fetch_yields_what_load_yields(connect, emulator):
    loaded = documents(sync(connect()))
    paths = ["Specs/design.docx", "Specs/2024/roadmap.md", "notes.txt", "Deals/acme.txt"]
    ids = [loaded[path].external_id for path in paths]
    emulator.requests.clear()

    fetched = list(connect().fetch(ids))  # a new connector: nothing learnt from a walk

    assert [event.external_id for event in fetched] == ids
    assert all(isinstance(event, SourceDocument) for event in fetched)
    assert not emulator.requests_to("/root/delta") and not emulator.requests_to("/content")  # no walk, content lazy
    assert len(emulator.requests_to("/items/")) == 2 * len(ids)  # each item and its permissions; its folder's path comes with it
    for path, document in zip(paths, fetched, strict=True):
        expected = loaded[path]
        assert (document.title, document.uri, document.version) == (expected.title, expected.uri, expected.version)
        assert document.access == expected.access
        assert document.metadata["path"] == path
        assert without_content(document) == without_content(expected)  # every other field too
        assert document.fetch() == expected.fetch()


def test_fetch_of_a_deleted_item_is_deleted(connect, tenant):
    drive = tenant.sites[0].drives[0]
    notes = external_id(tenant, "notes.txt")
    drive.delete(drive.file("notes.txt"))

    assert list(connect().fetch([notes])) == [Deleted(notes)]


def test_fetch_yields_one_event_per_id_in_order(connect, tenant, emulator):
    documents_drive, sales_drive = tenant.sites[0].drives[0], tenant.sites[1].drives[0]
    design, pipeline, roadmap, notes, globex, diagram = (
        external_id(tenant, path)
        for path in ("Specs/design.docx", "pipeline.csv", "Specs/2024/roadmap.md", "notes.txt", "Deals/globex.txt", "demo.mp4")
    )
    documents_drive.delete(documents_drive.file("roadmap.md"))
    documents_drive.rename(documents_drive.file("notes.txt"), "notes.bin")
    tenant.fail_item(sales_drive.file("globex.txt"))
    never_was = f"{documents_drive.id}:01NOSUCHITEM"
    other_library = "b!a-library-not-configured:01ABCDEF"
    folder = f"{documents_drive.id}:{documents_drive.folder_at('Specs').id}"
    ids = [design, roadmap, notes, globex, "not-an-id", never_was, pipeline, diagram, other_library, folder]

    events = list(connect().fetch(ids))

    assert [event.external_id for event in events] == ids
    assert [type(event).__name__ for event in events] == [
        "SourceDocument", "Deleted", "Deleted", "ItemFailure", "ItemFailure", "Deleted", "SourceDocument", "Deleted", "Deleted", "Deleted",
    ]
    assert events[3].reason.startswith(
        f"could not read it from library 'Documents' of {SALES}: Microsoft Graph answered HTTP 500 generalException"
    )
    assert "not a SharePoint item id" in events[4].reason
    assert events[6].metadata["site_url"] == SALES
    emulator.requests.clear()
    assert list(connect().fetch([])) == [] and not emulator.requests


def test_fetch_stops_when_graph_refuses_the_app(connect, tenant):
    fetched = connect().fetch([external_id(tenant, "notes.txt"), external_id(tenant, "pipeline.csv")])
    assert isinstance(next(fetched), SourceDocument)
    tenant.apps[CLIENT_ID].roles = frozenset()  # admin consent revoked mid-run

    with pytest.raises(ConnectorError, match=f"SharePoint refused access to library 'Documents' of {SALES} \\(HTTP 403"):
        next(fetched)


def test_fetch_stops_when_graph_keeps_throttling(connect, tenant):
    fetched = connect().fetch([external_id(tenant, "notes.txt"), external_id(tenant, "pipeline.csv")])
    assert isinstance(next(fetched), SourceDocument)
    tenant.throttle(requests=100, retry_after_s=0)  # more than the session retries

    with pytest.raises(ConnectorError, match="HTTP 429 activityLimitReached"):
        next(fetched)


def test_the_connectors_ca_bundle_wins_over_requests_ca_bundle(connect, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # public CAs only: the test CA is not among them

    assert connect().test_connection().startswith("Connected")
    with pytest.raises(ConnectorError, match="TLS certificate of 127.0.0.1:.* is not trusted"):
        connect(ca_bundle=None).test_connection()


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        ({"grantedToV2": {"siteUser": {"loginName": "c:0-.f|rolemanager|spo-grid-all-users/8f3b"}}}, Access.everyone()),
        ({"grantedToV2": {"user": {"userPrincipalName": "Erin@Contoso.com"}}}, Access.restricted(users={"erin@contoso.com"})),
        ({"grantedToV2": {"siteUser": {"loginName": "i:0#.f|membership|frank@contoso.com"}}}, Access.restricted(users={"frank@contoso.com"})),
        ({"link": {"scope": "existingAccess", "type": "view"}}, Access.restricted()),
        ({"grantedToV2": {"application": {"id": "app", "displayName": "Some App"}}}, Access.restricted()),
    ],
)
def test_permission_mapping_edge_cases(permission, expected):
    assert access_from([permission]) == expected


@pytest.mark.parametrize(
    ("field", "value", "example"),
    [
        ("site_urls", ["http://contoso.sharepoint.com/sites/Engineering"], "https://contoso.sharepoint.com/sites/Engineering"),
        ("graph_url", "graph.microsoft.com/v1.0", "https://graph.microsoft.com/v1.0"),
        ("authority_host", "ftp://login.microsoftonline.com", "https://login.microsoftonline.com"),
    ],
)
def test_config_refuses_addresses_that_are_not_https(field, value, example):
    settings = {"tenant_id": "t", "client_id": "c", "client_secret": "s", "site_urls": [ENGINEERING], field: value}

    with pytest.raises(ValueError, match=f"is not an https:// address such as {example}"):
        SharePointConfig.model_validate(settings)


# --- Certificates, site groups and sharing changes ----------------------------------------------


@pytest.fixture
def connect_by_certificate(connect, certificate):
    def make(**overrides) -> SharePointConnector:
        return connect(credential="certificate", client_secret=None, client_certificate=certificate.pem, **overrides)

    return make


def test_site_groups_become_their_members_and_keep_their_name(connect_by_certificate):
    found = documents(sync(connect_by_certificate()))

    assert found["Specs/2024/roadmap.md"].access == Access.restricted(
        users={"erin@contoso.com"}, groups={"engineering members", ENGINEERS_GROUP, "engineers"}
    )
    assert found["Specs/design.docx"].access == Access.restricted(  # its own permissions: no site group
        users={"alice@contoso.com"}, groups={PLATFORM_GROUP, "platform team"}
    )
    # Sales grants a site group by name only, which SharePoint does not list: its name is all there is.
    assert found["pipeline.csv"].access == Access.restricted(groups={"sales members"})


def test_site_groups_are_read_once_per_sync_with_a_certificate_token(connect_by_certificate, emulator, tenant):
    events = sync(connect_by_certificate())

    reads = emulator.requests_to("/_api/web/sitegroups")
    assert [r.path for r in reads] == ["/sites/Engineering/_api/web/sitegroups"] * 2 + ["/sites/Sales/_api/web/sitegroups"]
    assert len(documents(events)) == 8  # three groups in pages of two: read twice for eight files, not per file
    tokens = {r.authorization.removeprefix("Bearer ") for r in reads}
    assert {tenant.tokens[t].audience for t in tokens} == {"https://contoso.sharepoint.com"}
    assert all(tenant.tokens[t].by_certificate for t in tokens)
    assert set(final_checkpoint(events)["site_groups"][ENGINEERING]) == {"3", "4", "5"}


def test_a_membership_change_regrants_only_that_groups_files_without_their_content(connect_by_certificate, tenant, emulator):
    connector = connect_by_certificate()
    first = sync(connector)
    roadmap_before = documents(first)["Specs/2024/roadmap.md"]
    members = tenant.sites[0].groups[1]
    members.remove(ENGINEERS_GROUP)
    members.add_person("frank@contoso.com")
    emulator.requests.clear()

    second = sync(connector_again := connect_by_certificate(), final_checkpoint(first))

    regranted = documents(second)
    assert list(regranted) == ["Specs/2024/roadmap.md"]  # the one indexed file that inherits from the group
    roadmap = regranted["Specs/2024/roadmap.md"]
    assert roadmap.access == Access.restricted(users={"erin@contoso.com", "frank@contoso.com"}, groups={"engineering members"})
    assert roadmap.version == roadmap_before.version  # the indexer keeps its chunks and applies the new readers
    assert not emulator.requests_to("/content") and not emulator.requests_to("download.aspx")
    assert documents(sync(connector_again, final_checkpoint(second))) == {}  # remembered: nothing more to do


def test_a_membership_change_interrupted_is_done_again(connect_by_certificate, tenant):
    first = sync(connect_by_certificate())
    tenant.sites[0].groups[1].remove("erin@contoso.com")
    interrupted = []
    for event in connect_by_certificate().load(final_checkpoint(first)):
        if isinstance(event, SourceDocument):
            break  # killed before the site was done
        interrupted.append(event)

    resumed = documents(sync(connect_by_certificate(), [e for e in interrupted if isinstance(e, Checkpoint)][-1].state))

    assert list(resumed) == ["Specs/2024/roadmap.md"]
    assert "erin@contoso.com" not in resumed["Specs/2024/roadmap.md"].access.users


def test_a_sharing_change_alone_updates_the_acl_without_a_download(connect, tenant, emulator):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    drive = tenant.sites[0].drives[0]
    design = drive.file("design.docx")
    version = design.etag
    drive.share(design, [user_grant("carol@contoso.com")])
    emulator.requests.clear()

    changed = documents(sync(connector, checkpoint))

    assert list(changed) == ["Specs/design.docx"]
    assert changed["Specs/design.docx"].access == Access.restricted(users={"carol@contoso.com"})
    assert changed["Specs/design.docx"].version == version
    assert not emulator.requests_to("/content")
    assert {r.prefer for r in emulator.requests_to("/root/delta")} == {"deltashowsharingchanges, hierarchicalsharing"}


def test_a_folders_sharing_change_reaches_the_files_that_inherit_it(connect, tenant, emulator):
    connector = connect()
    checkpoint = final_checkpoint(sync(connector))
    drive = tenant.sites[0].drives[0]
    drive.share(drive.folder_at("Specs"), [group_grant(PLATFORM_GROUP, "Platform Team")])
    emulator.requests.clear()

    changed = documents(sync(connector, checkpoint))

    # Every file beneath is read again: roadmap.md, two folders down, inherits the folder's permissions;
    # design.docx keeps its own.
    assert sorted(changed) == ["Specs/2024/roadmap.md", "Specs/design.docx"]
    assert changed["Specs/2024/roadmap.md"].access == Access.restricted(groups={PLATFORM_GROUP, "platform team"})
    assert changed["Specs/design.docx"].access == Access.restricted(users={"alice@contoso.com"}, groups={PLATFORM_GROUP, "platform team"})
    assert not emulator.requests_to("/content")


def test_a_certificate_entra_id_does_not_know_is_refused_clearly(connect):
    stranger = app_certificate("Not uploaded")

    with pytest.raises(ConnectorError) as raised:
        connect(credential="certificate", client_certificate=stranger.pem).test_connection()

    message = str(raised.value)
    assert message.startswith(f"Entra ID refused the certificate of app {CLIENT_ID} (AADSTS700027: The certificate with identifier")
    assert message.endswith(
        "Certificates & secrets > Certificates; the thumbprint listed there must be "
        f"{stranger.thumbprint}, the one Enclave signs with."
    )


def test_connection_summary_with_a_certificate_counts_site_groups(connect_by_certificate):
    assert connect_by_certificate().test_connection() == "Connected: 2 sites, 3 document libraries, 3 site groups"


def test_missing_sharepoint_permissions_are_explained(connect_by_certificate, tenant):
    tenant.apps[CLIENT_ID].sharepoint_roles = frozenset()  # Graph's permissions granted, SharePoint's not

    with pytest.raises(ConnectorError) as raised:
        sync(connect_by_certificate())

    assert str(raised.value).startswith(
        f"SharePoint refused to list the site groups of {ENGINEERING} (HTTP 403: Access denied. You do not have "
        "permission to perform this action or access this resource.). In Entra ID > App registrations > your app > "
        "API permissions, add the SharePoint application permission Sites.Read.All"
    )


# --- The emulator's sign-in checks, which the tests above rely on --------------------------------


SHAREPOINT_SCOPE = "https://contoso.sharepoint.com/.default"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def token_endpoint(server, tenant) -> str:
    return f"{server.url}/{tenant.tenant_id}/oauth2/v2.0/token"


def request_token(token_endpoint: str, ca, **form) -> requests.Response:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": SHAREPOINT_SCOPE} | form
    return requests.post(token_endpoint, data=data, verify=str(ca.ca_pem), timeout=10)


def signed_assertion(named, key_pem: str, audience: str, **claims) -> dict:
    """A client assertion naming certificate ``named`` (x5t), signed with ``key_pem``."""
    now = int(time.time())
    payload = {"aud": audience, "iss": CLIENT_ID, "sub": CLIENT_ID, "exp": now + 600, "nbf": now - 5, "jti": str(now)} | claims
    x5t = base64.urlsafe_b64encode(bytes.fromhex(named.thumbprint)).decode().rstrip("=")
    return {"client_assertion_type": JWT_BEARER, "client_assertion": jwt.encode(payload, key_pem, algorithm="RS256", headers={"x5t": x5t})}


@pytest.mark.parametrize(
    ("case", "code"),
    [("forged", 700027), ("expired", 700024), ("for another endpoint", 50027), ("of another app", 700021)],
)
def test_the_emulator_refuses_client_assertions_it_cannot_trust(token_endpoint, ca, certificate, case, code):
    key = app_certificate("forger").key_pem if case == "forged" else certificate.key_pem
    claims = {
        "expired": {"exp": int(time.time()) - 60},
        "for another endpoint": {"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"},
        "of another app": {"sub": "someone-else"},
    }.get(case, {})
    assert request_token(token_endpoint, ca, **signed_assertion(certificate, certificate.key_pem, token_endpoint)).ok

    refused = request_token(token_endpoint, ca, **signed_assertion(certificate, key, token_endpoint, **claims))

    assert (refused.status_code, refused.json()["error"], refused.json()["error_codes"]) == (401, "invalid_client", [code])
    assert refused.json()["error_description"].startswith(f"AADSTS{code}: ")


def test_sharepoint_refuses_app_only_tokens_got_with_a_client_secret(token_endpoint, ca, server, certificate):
    def site_groups(**credential) -> requests.Response:
        token = request_token(token_endpoint, ca, **credential).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json;odata=nometadata"}
        return requests.get(f"{server.url}/sites/Engineering/_api/web/sitegroups", headers=headers, verify=str(ca.ca_pem), timeout=10)

    by_secret = site_groups(client_secret=SECRET)
    by_certificate = site_groups(**signed_assertion(certificate, certificate.key_pem, token_endpoint))

    assert (by_secret.status_code, by_secret.json()) == (401, {"error_description": "Unsupported app only token."})
    assert by_certificate.status_code == 200
    assert [g["Title"] for g in by_certificate.json()["value"]] == ["Engineering Owners", "Engineering Members"]


# --- The config ----------------------------------------------------------------------------------


def certificate_config(**values) -> dict:
    return {"tenant_id": "t", "client_id": "c", "site_urls": [ENGINEERING]} | values


def test_a_certificate_pasted_on_one_line_is_read_and_its_thumbprint_computed(certificate):
    one_line = certificate.pem.replace("\n", "")  # what a single-line password field keeps of it

    config = SharePointConfig.model_validate(certificate_config(client_certificate=one_line))

    assert config.credential == "certificate"
    assert config.certificate_thumbprint == certificate.thumbprint
    assert config.client_certificate.get_secret_value() == certificate.pem
    assert config.client_credential() == {"private_key": certificate.pem, "thumbprint": certificate.thumbprint}


def test_switching_credentials_keeps_only_the_chosen_one(certificate):
    both = certificate_config(client_secret="s", client_certificate=certificate.pem)

    assert SharePointConfig.model_validate(both | {"credential": "certificate"}).client_secret is None
    by_secret = SharePointConfig.model_validate(both | {"credential": "client_secret"})
    assert (by_secret.client_certificate, by_secret.certificate_thumbprint) == (None, None)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({}, "credential 'certificate' needs client_certificate"),
        ({"client_secret": "s", "client_certificate": "PEM"}, "give client_certificate or client_secret, not both"),
        ({"credential": "client_secret"}, "credential 'client_secret' needs client_secret"),
        ({"client_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}, "holds no private key"),
        ({"client_certificate": "KEY ONLY"}, "has no certificate: add it after the private key, or give certificate_thumbprint"),
        ({"client_certificate": "OTHER KEY"}, "the private key does not belong to the certificate"),
        ({"client_certificate": "PEM", "certificate_thumbprint": "00" * 20}, "is not the certificate's thumbprint"),
        ({"client_certificate": "PEM", "certificate_thumbprint": "abc"}, "is not a SHA-1 thumbprint"),
    ],
)
def test_config_says_what_is_wrong_with_a_credential(certificate, values, error):
    pems = {"PEM": certificate.pem, "KEY ONLY": certificate.key_pem, "OTHER KEY": app_certificate().key_pem + certificate.cert_pem}
    values = {k: pems.get(v, v) for k, v in values.items()}

    with pytest.raises(ValueError, match=error):
        SharePointConfig.model_validate(certificate_config(**values))


def test_a_site_group_holding_everyone_makes_its_files_public():
    everyone = SiteGroup("7", "Visitors", everyone=True)
    grant = site_group_grant("Visitors") | {"grantedToV2": {"siteGroup": {"id": "7", "displayName": "Visitors"}}}

    assert access_from([grant], {"7": everyone}) == Access.everyone()
    assert access_from([grant]) == Access.restricted(groups={"visitors"})
