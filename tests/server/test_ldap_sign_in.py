"""LDAP sign-in and group sync against a real slapd, over real HTTP to a running Enclave.

Covers: sign-in by user name or e-mail with nested groups; the admin group; a wrong password (401, audited,
throttled as local logins are); a locked account (403); a directory that is down (503); local accounts
untouched by LDAP; LDAPS and StartTLS with the test CA, and an unknown CA refused; a group removed in the
directory and one pass of `enclave users sync-groups` later the person's search no longer finds its
document; a person deleted or locked in the directory disabled by the next pass; and groups gone stale
while the directory is down: only public documents, and the admin overview says why.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from assistant.access import Access
from assistant.db.models import AuditEvent, User
from assistant.errors import DirectoryUnavailable
from enclave.identity.groups import GroupSync
from enclave.identity.ldap import LdapDirectory
from tests.conftest import _isolated_settings
from tests.server.conftest import PASSWORD, browser_login, index_corpus, make_person, start_server
from tests.slapd import Person, dead_ldap_url

ANA = Person("ana", "Ana Lopez", "ana-directory-password")  # in hr-leads, which is in hr
BEN = Person("ben", "Ben Berg", "ben-directory-password")  # in hr
CARL = Person("carl", "Carl Admin", "carl-directory-password")  # in it-admins, and in loop-a (a loop)
DORA = Person("dora", "Dora Locked", "dora-directory-password")  # locked in the directory
EVE = Person("eve", "Eve Leaving", "eve-directory-password")  # in hr; deleted, then locked, by the tests
FAY = Person("fay", "Fay Stale", "fay-directory-password")  # in hr; her groups go stale

HR_CORPUS = {
    "relocation.md": ("Relocation at the Tromso office: HR pays a relocation bonus of 4200 euros.",
                      Access.restricted(groups=["hr"])),
    "parking.md": ("Parking at the Tromso office: employees park in garage level P3.", Access.everyone()),
}  # fmt: skip


@pytest.fixture(scope="module")
def company(tmp_path_factory, embedder, llm, slapd):
    for person in (ANA, BEN, CARL, EVE, FAY):
        slapd.add_person(person)
    slapd.add_person(DORA, locked=True)
    slapd.add_member("hr-leads", ANA.dn)
    for person in (BEN, EVE, FAY):
        slapd.add_member("hr", person.dn)
    slapd.add_member("it-admins", CARL.dn)
    slapd.add_member("loop-a", CARL.dn)
    server, runtime = start_server(
        tmp_path_factory.mktemp("ldap-server"), embedder, llm, **slapd.settings(), group_sync_minutes=1440,
        login_attempts=3,
    )  # fmt: skip
    documents = index_corpus(runtime, HR_CORPUS)
    boss = make_person(runtime, server.url, "boss@example.com", "admin")
    yield server, runtime, documents, boss
    server.stop()


def sign_in(server, login: str, password: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/auth/login", json={"email": login, "password": password}, timeout=60)


def found_titles(client: httpx.Client, query: str) -> set[str]:
    response = client.get("/api/v1/search", params={"q": query, "k": 5})
    assert response.status_code == 200, response.text
    return {hit["title"] for hit in response.json()}


def audit_events(runtime, action: str, target: str) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target == target)).all()


def test_signing_in_with_a_directory_password_brings_nested_groups(company):
    server, runtime, _, _ = company
    response = sign_in(server, "ana", ANA.password)
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["email"], me["role"], me["groups"]) == ("ana@example.com", "employee", ["hr", "hr-leads"])
    # The e-mail finds the same person, and the same account.
    assert sign_in(server, "ana@example.com", ANA.password).json()["id"] == me["id"]
    with runtime.sessions() as session:
        ana = session.scalar(select(User).where(User.email == "ana@example.com"))
        assert (ana.auth_method, ana.subject, ana.name) == ("ldap", ANA.dn, "Ana Lopez")
    [first, *_] = audit_events(runtime, "sign_in", "ana@example.com")
    assert (first.via, first.outcome, first.details["groups"]) == ("ldap", "ok", ["hr", "hr-leads"])


def test_members_of_an_admin_group_are_admins_and_group_loops_end(company):
    server, _, _, _ = company
    me = sign_in(server, "carl", CARL.password).json()
    assert me["role"] == "admin" and me["groups"] == ["it-admins", "loop-a", "loop-b"]


def test_a_wrong_directory_password_is_refused_like_a_wrong_local_one_and_throttled(company):
    server, runtime, _, _ = company
    answers = [sign_in(server, "ben", "not-bens-password") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].json()["detail"] == "wrong e-mail or password"
    assert sign_in(server, "nobody-at-all", "whatever-password").status_code == 401
    # Three failures is this server's limit: even the right password waits now.
    assert sign_in(server, "ben", BEN.password).status_code == 429
    assert [e.outcome for e in audit_events(runtime, "sign_in", "ben")] == ["failed"] * 3 + ["denied"]  # throttled


def test_an_account_locked_in_the_directory_cannot_sign_in(company):
    response = sign_in(company[0], "dora", DORA.password)
    assert response.status_code == 403 and "disabled in the company directory" in response.json()["detail"]


def test_a_directory_that_is_down_answers_503_with_the_reason(company, monkeypatch):
    server, runtime, _, _ = company
    monkeypatch.setattr(runtime.settings, "ldap_url", dead_ldap_url())
    response = sign_in(server, "fay", FAY.password)
    assert response.status_code == 503
    assert "cannot be reached" in response.json()["detail"] and "Connection refused" in response.json()["detail"]


def test_local_accounts_keep_their_enclave_password(company):
    server, _, _, boss = company
    assert sign_in(server, boss.email, PASSWORD).status_code == 200
    assert sign_in(server, boss.email, "a wrong password").status_code == 401


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_the_directory_is_reached_over_tls_trusting_only_the_given_ca(slapd, transport):
    over = {"ldap_url": slapd.ldaps_url, "ldap_start_tls": False} if transport == "ldaps" else {}
    with LdapDirectory(_isolated_settings(**slapd.settings(**over))) as directory:
        assert directory.authenticate("ana", ANA.password).groups == ["hr", "hr-leads"]
    with pytest.raises(DirectoryUnavailable, match="certificate verify failed"):
        with LdapDirectory(_isolated_settings(**slapd.settings(**over, ldap_ca_file=None))) as directory:
            directory.authenticate("ana", ANA.password)


def test_a_group_removed_in_the_directory_is_gone_after_one_sync_pass(company, slapd, cli):
    server, runtime, _, _ = company
    ben = browser_login(server.url, "ben@example.com", BEN.password)  # "ben" itself is throttled by the test above
    assert "relocation.md" in found_titles(ben, "relocation bonus")

    slapd.remove_member("hr", BEN.dn)
    done = cli("users", "sync-groups", data_dir=runtime.settings.data_dir, env=_environment(runtime.settings))
    assert done.returncode == 0, done.stderr
    assert "ben@example.com: -hr" in done.stdout
    assert found_titles(ben, "relocation bonus") == {"parking.md"}
    [changed] = audit_events(runtime, "group_sync.changed", "ben@example.com")
    assert (changed.via, changed.details) == ("system", {"changes": ["-hr"]})


def test_people_deleted_or_locked_in_the_directory_are_disabled_by_the_next_pass(company, slapd):
    server, runtime, _, _ = company
    eve = browser_login(server.url, "eve", EVE.password)
    assert eve.get("/api/v1/auth/me").status_code == 200
    slapd.lock(EVE)
    report = GroupSync(runtime.settings, runtime.sessions).run()
    assert "eve@example.com" in report.disabled
    assert eve.get("/api/v1/auth/me").status_code == 401
    assert audit_events(runtime, "group_sync.disabled", "eve@example.com")


def test_stale_groups_show_only_public_documents_and_the_overview_says_why(company, monkeypatch):
    server, runtime, _, boss = company
    fay = browser_login(server.url, "fay", FAY.password)
    assert "relocation.md" in found_titles(fay, "relocation bonus")

    monkeypatch.setattr(runtime.settings, "ldap_url", dead_ldap_url())
    report = GroupSync(runtime.settings, runtime.sessions).run()
    assert "cannot be reached" in report.failed["fay@example.com"]
    assert "relocation.md" in found_titles(fay, "relocation bonus")  # within acl_max_staleness_minutes
    _age_groups(runtime, "fay@example.com", timedelta(hours=2))
    assert found_titles(fay, "relocation bonus") == {"parking.md"}

    overview = boss.client.get("/api/v1/admin/overview").json()["directory"]
    hidden = {h["email"]: h["reason"] for h in overview["public_only_people"]}
    assert overview["public_only"] >= 1 and "cannot be reached" in hidden["fay@example.com"]
    assert overview["failing"] >= 1 and "cannot be reached" in overview["last_error"]
    page = browser_login(server.url, boss.email, PASSWORD).get("/admin")
    assert "see only public documents" in page.text and "fay@example.com" in page.text
    assert "Connection refused" in page.text

    monkeypatch.undo()  # the directory answers again: so do fay's documents
    GroupSync(runtime.settings, runtime.sessions).run()
    assert "relocation.md" in found_titles(fay, "relocation bonus")


def _age_groups(runtime, email: str, by: timedelta) -> None:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.email == email))
        user.groups_synced_at -= by
        session.commit()


def _environment(settings) -> dict[str, str]:
    """The server's LDAP settings as the environment of an `enclave` command beside it."""
    keys = ("ldap_url", "ldap_start_tls", "ldap_ca_file", "ldap_kind", "ldap_bind_dn", "ldap_user_base", "ldap_group_base")
    env = {f"ENCLAVE_{k.upper()}": str(getattr(settings, k)) for k in keys}
    env["ENCLAVE_LDAP_BIND_PASSWORD"] = settings.ldap_bind_password.get_secret_value()
    env["ENCLAVE_LDAP_ADMIN_GROUPS"] = ",".join(settings.ldap_admin_groups)
    return env
