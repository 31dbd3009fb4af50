"""In the browser, with LDAP: a directory user name signs in on the login form (no e-mail address needed), and
the admin overview shows who sees only public documents while the directory is down, and why."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from assistant.db.models import User
from enclave.identity.groups import GroupSync
from tests.server.conftest import PASSWORD, make_person, start_server
from tests.slapd import Person, dead_ldap_url
from tests.ui.conftest import log_in

HANA = Person("hana", "Hana Field", "hana-directory-password")


@pytest.fixture(scope="module")
def ldap_ui(tmp_path_factory, embedder, llm, slapd):
    slapd.add_person(HANA)
    slapd.add_member("engineering", HANA.dn)
    server, runtime = start_server(tmp_path_factory.mktemp("ldap-ui"), embedder, llm, **slapd.settings(),
                                   group_sync_minutes=1440)  # fmt: skip
    make_person(runtime, server.url, "boss@example.com", "admin")
    yield server, runtime
    server.stop()


def test_a_directory_user_name_signs_in_and_the_overview_explains_stale_groups(browser, ldap_ui, monkeypatch):
    server, runtime = ldap_ui
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page, "hana", HANA.password)
    assert page.get_by_label("E-mail or user name").count() == 0  # signed in: the chat, not the form

    monkeypatch.setattr(runtime.settings, "ldap_url", dead_ldap_url())
    GroupSync(runtime.settings, runtime.sessions).run()
    with runtime.sessions() as session:
        session.scalar(select(User).where(User.email == "hana@example.com")).groups_synced_at -= timedelta(hours=2)
        session.commit()

    admin = browser.new_context(base_url=server.url).new_page()
    log_in(admin, "boss@example.com", PASSWORD, expect="/")
    admin.goto("/admin")
    directory = admin.locator("[data-section=directory]")
    assert re.search(r"1 see only public documents", directory.inner_text())
    row = directory.get_by_role("row", name=re.compile("hana@example.com"))
    assert "Connection refused" in row.inner_text()
    context.close()
    admin.context.close()
