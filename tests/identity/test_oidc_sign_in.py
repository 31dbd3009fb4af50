"""Signing in with a real, certified OpenID provider (npm's oidc-provider) through its own login pages.

Failure modes covered: a first sign-in that makes no account or loses the groups; documents of a group the
person is not in reaching them; a role that does not follow oidc_admin_groups at each sign-in (or changes
when that list is empty); cancelling at the provider, or the provider being down, ending anywhere but the
login page with a message and an audit event; password sign-in still open to everyone with
local_login = false, or closed to the break-glass admin; the whole way in a real browser, to an answer
from the person's own group's document.
"""

from __future__ import annotations

import re

import pytest

from assistant import accounts
from enclave.identity.oidc import OidcClient
from tests.identity.provider import browser_like, sign_in
from tests.server.conftest import PASSWORD
from tests.ui.conftest import ANSWER_TIMEOUT_MS

SALARY = "What raise does every employee receive in April?"


def signed_in(sso, login: str, **kwargs):
    client = browser_like(sso.tls)
    page = sign_in(client, sso.url, login, **kwargs)
    return client, page


def searched_titles(client, sso, query: str) -> set[str]:
    response = client.get(f"{sso.url}/api/v1/search", params={"q": query, "k": 5})
    response.raise_for_status()
    return {hit["title"] for hit in response.json()}


def test_a_first_sign_in_makes_the_account_with_the_directory_groups(sso):
    client, page = signed_in(sso, "olaf", next_path="/c/none")
    assert page.url == f"{sso.url}/c/none" and "Conversation not found" in page.text  # signed in, sent on

    olaf = sso.user("olaf@example.com")
    assert (olaf.name, olaf.role, olaf.auth_method, olaf.subject, olaf.groups) == (
        "Olaf Berg", "employee", "oidc", "olaf", ["staff"]
    )  # fmt: skip
    event = sso.audit()[0]
    assert (event.actor, event.via, event.outcome) == ("olaf@example.com", "oidc", "ok")
    # The session works like a password login's: the API answers, changes need the CSRF token.
    me = client.get(f"{sso.url}/api/v1/auth/me").json()
    assert me["email"] == "olaf@example.com" and me["csrf_token"]
    assert client.post(f"{sso.url}/api/v1/auth/logout").status_code == 403
    # Olaf is not in "hr": the salary review never reaches him, the public parking note does.
    assert searched_titles(client, sso, "salary review raise in April") == {"parking.md"}
    ana, _ = signed_in(sso, "ana")
    assert "salary-review.md" in searched_titles(ana, sso, "salary review raise in April")


def test_the_role_follows_the_admin_groups_at_every_sign_in(sso, monkeypatch):
    monkeypatch.setattr(sso.runtime.settings, "oidc_admin_groups", ["Enclave-Admins"])
    signed_in(sso, "boss")
    assert sso.user("boss@example.com").role == "admin"

    monkeypatch.setattr(sso.runtime.settings, "oidc_admin_groups", ["board"])
    signed_in(sso, "boss")
    assert sso.user("boss@example.com").role == "employee"

    with sso.runtime.sessions() as session:  # an Enclave admin promotes him by hand...
        accounts.find_user(session, "boss@example.com").role = "admin"
        session.commit()
    monkeypatch.setattr(sso.runtime.settings, "oidc_admin_groups", [])
    signed_in(sso, "boss")
    assert sso.user("boss@example.com").role == "admin"  # ...and with no admin groups, that stands


def test_cancelling_at_the_provider_lands_on_the_login_page(sso):
    _, page = signed_in(sso, "ana", consent=False)
    assert page.url.path == "/login" and "access denied or cancelled" in page.text
    event = sso.audit()[0]
    assert event.outcome == "failed" and "access_denied" in event.details["reason"]


def test_a_provider_that_is_down_lands_on_the_login_page(sso, monkeypatch):
    down = sso.runtime.settings.model_copy(update={"oidc_issuer": "https://127.0.0.1:9"})
    monkeypatch.setitem(sso.runtime.__dict__, "oidc", OidcClient(down, sso.runtime.sessions))
    page = browser_like(sso.tls).get(f"{sso.url}/auth/oidc/login")
    assert page.url.path == "/login" and "could not be reached" in page.text
    assert "127.0.0.1:9" in sso.audit()[0].details["reason"]


def test_with_local_login_off_only_enclaves_own_admins_use_a_password(sso, monkeypatch):
    monkeypatch.setattr(sso.runtime.settings, "local_login", False)
    with sso.runtime.sessions() as session:
        accounts.create_user(session, "clerk@example.com", "employee", PASSWORD)
        session.commit()
    first_admin_password = (sso.runtime.settings.data_dir / accounts.INITIAL_PASSWORD_FILE).read_text().strip()
    client = browser_like(sso.tls)

    refused = client.post(f"{sso.url}/api/v1/auth/login", json={"email": "clerk@example.com", "password": PASSWORD})
    assert refused.status_code == 403 and 'use "Sign in with Example Corp"' in refused.json()["detail"]
    signed_in(sso, "ana")  # a directory person has no password at all: refused the same way
    assert client.post(f"{sso.url}/api/v1/auth/login", json={"email": "ana@example.com", "password": "x"}).status_code == 403

    admin = {"email": sso.runtime.settings.admin_email, "password": first_admin_password}
    assert client.post(f"{sso.url}/api/v1/auth/login", json=admin).status_code == 200  # break-glass

    login_page = browser_like(sso.tls).get(f"{sso.url}/login").text
    assert re.search(r'<details class="auth-admin">\s*<summary>Administrator sign-in</summary>', login_page)


@pytest.mark.llm
def test_signing_in_with_the_provider_in_a_browser_and_asking(browser, sso):
    # Chromium does not know the tests' CA (Enclave's own calls to the provider do verify it).
    context = browser.new_context(base_url=sso.url, ignore_https_errors=True)
    context.set_default_timeout(30_000)
    # The provider's development pages import a web font; nothing may leave the machine.
    context.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_role("link", name="Sign in with Example Corp").click()
        page.get_by_placeholder("Enter any login").fill("ana")
        page.get_by_placeholder("and password").fill("any password will do")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{sso.url}/")

        box = page.get_by_label("Your question")
        box.fill(SALARY)
        box.press("Enter")
        answer = page.locator(".msg-assistant").last
        answer.locator(".msg-actions").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        assert "4.2" in answer.locator(".answer").inner_text()
        assert answer.locator(".source .source-title").first.inner_text() == "salary-review.md"
    finally:
        context.close()
