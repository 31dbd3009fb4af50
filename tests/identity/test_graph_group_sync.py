"""Group sync of OpenID Connect people from Microsoft Graph, against the HTTPS Graph emulator (trustme CA).

Covers: nested groups by id and name, read page by page with a throttled page waited out; directory roles
left out; a group left in Entra ID gone after the next pass (audited); a user disabled or deleted in Entra ID
disabled here; Graph refusing Enclave (no directory permission) keeps everyone's groups, with the reason.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from assistant import accounts
from assistant.db import session_factory
from assistant.db.models import AuditEvent, User
from enclave.identity.groups import GroupSync
from tests.conftest import settings_for
from tests.emulators.graph import Tenant
from tests.emulators.graph.directory_sync import DIRECTORY_ROLES, directory_of
from tests.sync.sharepoint_tenant import graph  # noqa: F401  (fixture: the HTTPS emulator, once per module)

CLIENT_ID, SECRET = "5e6f-enclave-groups", "Xy7~group-sync-secret"


@pytest.fixture
def entra(graph):  # noqa: F811
    """A fresh tenant: alice in Platform Team (inside Engineering) and Finance, and a directory role;
    bob in Finance; pages of two objects."""
    emulator, server, ca, _ = graph
    tenant = Tenant(page_size=2)
    tenant.add_app(CLIENT_ID, SECRET, roles=DIRECTORY_ROLES)
    directory = directory_of(tenant)
    alice, bob = directory.add_user("alice@contoso.com"), directory.add_user("bob@contoso.com")
    platform = directory.add_group("Platform Team", alice)
    directory.add_group("Engineering", platform)
    directory.add_group("Finance", alice, bob)
    directory.add_group("Global Reader", alice, kind="directoryRole")
    emulator.tenant = tenant
    emulator.requests.clear()
    return emulator, server, ca, directory


@pytest.fixture
def enclave(tmp_path, entra):
    emulator, server, ca, directory = entra
    settings = settings_for(
        data_dir=tmp_path / "data", graph_tenant_id=emulator.tenant.tenant_id, graph_client_id=CLIENT_ID,
        graph_client_secret=SECRET, graph_url=server.url, graph_login_url=server.url, graph_ca_file=ca.ca_pem,
    )  # fmt: skip
    sessions = session_factory(settings.effective_database_url)
    with sessions() as session:
        for user in directory.users.values():
            accounts.sign_in_directory_person(session, method="oidc", subject=user.id, email=user.upn, groups=[])
        session.commit()
    return GroupSync(settings, sessions), sessions


def groups_of(sessions, email: str) -> list[str]:
    with sessions() as session:
        return accounts.find_user(session, email).groups


def ids_and_names(directory, *names: str) -> list[str]:
    groups = [g for g in directory.groups.values() if g.display_name in names]
    return sorted({g.id for g in groups} | {g.display_name.lower() for g in groups})


def test_nested_groups_are_read_page_by_page_and_a_throttled_page_is_waited_out(entra, enclave):
    emulator, _, _, directory = entra
    sync, sessions = enclave
    directory.throttle_page(2)  # alice's second page answers 429 once
    report = sync.run()
    assert report.failed == {} and report.people == 2
    assert groups_of(sessions, "alice@contoso.com") == ids_and_names(directory, "Platform Team", "Engineering", "Finance")
    assert groups_of(sessions, "bob@contoso.com") == ids_and_names(directory, "Finance")
    alice = next(u for u in directory.users.values() if u.upn == "alice@contoso.com")
    # alice: 4 objects (the role left out) in pages of 2, the second asked twice; bob: 1 page.
    assert len(emulator.requests_to(f"/users/{alice.id}/transitiveMemberOf")) == 3
    assert len(emulator.requests_to("/transitiveMemberOf")) == 4


def test_a_group_left_in_entra_id_is_gone_after_the_next_pass_and_audited(entra, enclave):
    _, _, _, directory = entra
    sync, sessions = enclave
    sync.run()
    alice = next(u for u in directory.users.values() if u.upn == "alice@contoso.com")
    platform = next(g for g in directory.groups.values() if g.display_name == "Platform Team")
    directory.remove_member(platform, alice)
    report = sync.run()
    lost = {f"-{g}" for g in ids_and_names(directory, "Platform Team", "Engineering")}
    assert set(report.changed["alice@contoso.com"]) == lost
    assert groups_of(sessions, "alice@contoso.com") == ids_and_names(directory, "Finance")
    with sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "group_sync.changed", AuditEvent.target == "alice@contoso.com")
        ).all()
    assert [e.details["changes"][0][0] for e in events] == ["+", "-"] and set(events[-1].details["changes"]) == lost


def test_people_disabled_or_deleted_in_entra_id_are_disabled(entra, enclave):
    _, _, _, directory = entra
    sync, sessions = enclave
    alice, bob = sorted(directory.users.values(), key=lambda u: u.upn)
    alice.enabled = False
    directory.delete_user(bob)
    report = sync.run()
    assert sorted(report.disabled) == ["alice@contoso.com", "bob@contoso.com"]
    with sessions() as session:
        assert all(u.disabled for u in session.scalars(select(User)))


def test_when_graph_refuses_enclave_everyone_keeps_their_groups_with_the_reason(entra, enclave):
    emulator, _, _, _ = entra
    sync, sessions = enclave
    sync.run()
    before = groups_of(sessions, "alice@contoso.com")
    emulator.tenant.apps[CLIENT_ID].roles = frozenset({"Sites.Read.All"})  # admin consent withdrawn
    emulator.requests.clear()
    report = sync.run()
    assert set(report.failed) == {"alice@contoso.com", "bob@contoso.com"}
    assert "403" in report.failed["alice@contoso.com"] and "Access denied" in report.failed["alice@contoso.com"]
    assert len(emulator.requests_to("/v1.0/users/")) == 1  # Graph is not asked again for each person
    with sessions() as session:
        alice = accounts.find_user(session, "alice@contoso.com")
        assert alice.groups == before and alice.groups_sync_error == report.failed["alice@contoso.com"]


def test_the_emulator_lists_a_groups_members_at_any_depth(entra):
    emulator, server, ca, directory = entra
    token = httpx.post(f"{server.url}/{emulator.tenant.tenant_id}/oauth2/v2.0/token", verify=str(ca.ca_pem), data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
        "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]  # fmt: skip
    engineering = next(g for g in directory.groups.values() if g.display_name == "Engineering")
    members, url = [], f"{server.url}/v1.0/groups/{engineering.id}/transitiveMembers"
    while url:
        page = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, verify=str(ca.ca_pem)).json()
        members += page["value"]
        url = page.get("@odata.nextLink")
    assert sorted((m["@odata.type"], m["displayName"]) for m in members) == [
        ("#microsoft.graph.group", "Platform Team"), ("#microsoft.graph.user", "Alice")
    ]  # fmt: skip
    missing = httpx.get(f"{server.url}/v1.0/groups/nope/transitiveMembers", headers={"Authorization": f"Bearer {token}"},
                        verify=str(ca.ca_pem))  # fmt: skip
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
