"""What Enclave refuses from an OpenID provider, proved against a test issuer whose tokens the test controls.

Failure modes covered: an ID token whose signature is broken, one for another client (audience), one that
has expired, a sign-in replayed with its state, each refused with a message on the login page and a failed
sign_in audit event; a provider that rotates its signing key (accepted, the keys are read again); Entra
ID's group overage (the groups read from Microsoft Graph, every page, with the sign-in's access token).
"""

from __future__ import annotations

import time

import pytest

from tests.identity.issuer import Scenario
from tests.identity.provider import browser_like

STALE_MESSAGE = "That sign-in had expired or was already used"
REJECTED_MESSAGE = "answered in a way Enclave cannot trust"


@pytest.fixture
def scenario(tiny):
    """The next ID token's scenario; back to the right token after the test."""
    tiny.issuer.scenario = Scenario()
    yield tiny.issuer.scenario
    tiny.issuer.scenario = Scenario()


def sign_in(tiny, next_path: str = "/"):
    client = browser_like(tiny.tls)
    return client, client.get(f"{tiny.url}/auth/oidc/login", params={"next": next_path})


def assert_refused(tiny, response, message: str, reason: str) -> None:
    assert response.url.path == "/login" and response.url.params["sign_in"]
    assert message in response.text, response.text
    assert "Traceback" not in response.text and "enclave_session" not in response.cookies
    event = tiny.audit()[0]
    assert (event.via, event.outcome) == ("oidc", "failed")
    assert reason in event.details["reason"], event.details


def test_the_right_token_signs_the_person_in_with_their_groups(tiny, scenario):
    client, page = sign_in(tiny, next_path="/admin")
    # An employee is sent on to the page asked for, which tells them it is for admins: they are signed in.
    assert page.url.path == "/admin" and page.status_code == 403
    me = client.get(f"{tiny.url}/api/v1/auth/me").json()
    assert me["email"] == "ana@example.com" and me["groups"] == ["hr", "staff"]
    assert tiny.audit()[0].outcome == "ok"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"break_signature": True}, "BadSignatureError"),
        ({"claims": {"aud": "another-client"}}, "aud"),
        ({"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}}, "ExpiredTokenError"),
        ({"claims": {"nonce": "not-the-one-sent"}}, "nonce"),
        ({"claims": {"iss": "https://impostor.example.com"}}, "iss"),
    ],
    ids=["tampered-signature", "wrong-audience", "expired", "wrong-nonce", "wrong-issuer"],
)
def test_a_token_that_does_not_hold_up_is_refused(tiny, scenario, change, reason):
    for name, value in change.items():
        setattr(scenario, name, value)
    _, page = sign_in(tiny)
    assert_refused(tiny, page, REJECTED_MESSAGE, reason)


def test_a_replayed_state_is_refused(tiny, scenario):
    client = browser_like(tiny.tls, follow_redirects=False)
    provider = client.get(f"{tiny.url}/auth/oidc/login")
    flow_cookie = client.cookies["enclave_oidc_flow"]
    callback = client.get(provider.headers["location"]).headers["location"]
    first = client.get(callback)
    assert first.headers["location"] == "/"

    replay = browser_like(tiny.tls)
    replay.cookies.set("enclave_oidc_flow", flow_cookie)
    assert_refused(tiny, replay.get(callback), STALE_MESSAGE, "already used")


def test_a_state_from_another_browser_is_refused(tiny, scenario):
    client = browser_like(tiny.tls, follow_redirects=False)
    callback = client.get(client.get(f"{tiny.url}/auth/oidc/login").headers["location"]).headers["location"]
    stranger = browser_like(tiny.tls)  # the victim's browser, lured to the attacker's callback link
    assert_refused(tiny, stranger.get(callback), STALE_MESSAGE, "no sign-in was under way")


def test_a_rotated_signing_key_is_fetched_and_accepted(tiny, scenario):
    sign_in(tiny)  # the keys are known now
    tiny.issuer.rotate_keys()
    client, page = sign_in(tiny)
    assert page.url.path == "/" and client.get(f"{tiny.url}/api/v1/auth/me").status_code == 200


def test_groups_overage_reads_every_group_from_microsoft_graph(tiny, scenario):
    groups = {f"00000000-0000-0000-0000-{n:012d}": f"Team {n}" for n in range(230)}
    scenario.access_token = tiny.graph.people.sign_in("ana@example.com", groups)
    scenario.claims = {"groups": None, "_claim_names": {"groups": "src1"},
                       "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/tenant/users/x/getMemberObjects"}}}  # fmt: skip
    client, page = sign_in(tiny)
    assert page.url.path == "/"

    user = tiny.user("ana@example.com")
    assert len(user.groups) == 2 * len(groups)  # each group by id and by name; the directory role is no group
    assert "00000000-0000-0000-0000-000000000229" in user.groups and "team 229" in user.groups
    pages = tiny.graph.requests_to("/v1.0/me/transitiveMemberOf")
    assert len(pages) == 3 and all(r.authorization == f"Bearer {scenario.access_token}" for r in pages)


def test_groups_overage_without_graph_access_is_refused(tiny, scenario):
    scenario.claims = {"groups": None, "_claim_names": {"groups": "src1"}}
    _, page = sign_in(tiny)  # the access token is none Graph knows
    assert_refused(tiny, page, "could not read your groups", "401 Client Error")
