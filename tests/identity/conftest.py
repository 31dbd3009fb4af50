"""Enclave signing people in with OpenID Connect, against real providers over real HTTPS.

``sso`` (one per test session): npm's certified oidc-provider in a node process, and an Enclave signing in
with it, over a public document and one for group "hr". ``tiny`` (one per module): the test-controlled
issuer of ``issuer.py`` and the Graph emulator (for Entra ID's group overage), with an Enclave signing in
with that issuer. Both Enclaves use the session's embedder and 0.5B model, and trust the tests' CA.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from assistant.access import Access
from assistant.db.models import AuditEvent, User
from enclave.runtime import Runtime
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.conftest import _isolated_settings as isolated_settings
from tests.emulators.graph import GraphEmulator
from tests.emulators.server import BackgroundServer, TestCA, make_ca
from tests.identity.issuer import CLIENT_ID, CLIENT_SECRET, TinyIssuer
from tests.identity.provider import OidcProvider
from tests.server.conftest import MODELS_DIR, start_server
from tests.ui.conftest import chromium
from web.app import create_app

SSO_CLIENT, SSO_SECRET = "enclave", "a-client-secret-for-tests"
# Logins at the provider, with the claims it gives about each.
PEOPLE = {
    "ana": {"email": "ana@example.com", "name": "Ana Lopez", "groups": ["hr", "staff"]},
    "olaf": {"email": "olaf@example.com", "name": "Olaf Berg", "groups": ["staff"]},
    "boss": {"email": "boss@example.com", "name": "Bo Boss", "groups": ["staff", "enclave-admins"]},
}
CORPUS = {
    "parking.md": ("Parking at the Tromso office: employees park in garage level P3. Visitors use level P1.", Access.everyone()),
    "salary-review.md": (
        "Salary review 2026: every employee receives a 4.2 percent raise in April, the HR budget says.",
        Access.restricted(groups=["hr"]),
    ),
}


@dataclass
class Deployment:
    url: str
    runtime: Runtime
    tls: TestCA

    def user(self, email: str) -> User | None:
        with self.runtime.sessions() as session:
            user = session.scalar(select(User).where(User.email == email))
            session.expunge_all()
            return user

    def audit(self) -> list[AuditEvent]:
        """The sign-in events, newest first."""
        with self.runtime.sessions() as session:
            events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id.desc())))
            session.expunge_all()
            return events


@dataclass
class TinyWorld(Deployment):
    issuer: TinyIssuer
    graph: GraphEmulator


class LateApp:
    """An ASGI app given its real app once that app's settings are known (they need the server's own port)."""

    app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def identity_tls(tmp_path_factory) -> TestCA:
    return make_ca(tmp_path_factory.mktemp("identity-tls"))


def _runtime(settings, embedder, llm) -> Runtime:
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    runtime._llm = llm
    for name, (text, access) in CORPUS.items():
        item = SourceDocument(external_id=name, title=name, uri=f"file:///corpus/{name}", content=text.encode(),
                              filename=name, access=access)  # fmt: skip
        runtime.sink.index(Source("files", "local"), item)
    return runtime


@pytest.fixture(scope="session")
def sso(tmp_path_factory, identity_tls, embedder, llm):
    tmp = tmp_path_factory.mktemp("sso")
    late = LateApp()
    server = BackgroundServer(late)
    client = {"client_id": SSO_CLIENT, "client_secret": SSO_SECRET, "redirect_uris": [f"{server.url}/auth/oidc/callback"]}
    provider = OidcProvider(tmp, identity_tls, [client], PEOPLE)
    settings = isolated_settings(
        data_dir=tmp / "data", models_dir=MODELS_DIR, max_answer_tokens=64, temperature=0,
        oidc_issuer=provider.issuer, oidc_client_id=SSO_CLIENT, oidc_client_secret=SSO_SECRET,
        oidc_ca_bundle=identity_tls.ca_pem, oidc_display_name="Example Corp",
    )  # fmt: skip
    runtime = _runtime(settings, embedder, llm)
    late.app = create_app(runtime)
    server.start()
    yield Deployment(server.url, runtime, identity_tls)
    server.stop()
    provider.stop()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, identity_tls, embedder, llm):
    issuer, graph = TinyIssuer(PEOPLE), GraphEmulator()
    with BackgroundServer(issuer.app, tls=identity_tls) as issuer_server, BackgroundServer(graph.app, tls=identity_tls) as graph_server:
        issuer.url = issuer_server.url
        server, runtime = start_server(
            tmp_path_factory.mktemp("tiny"), embedder, llm,
            oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
            oidc_ca_bundle=identity_tls.ca_pem, graph_url=graph_server.url,
        )  # fmt: skip
        yield TinyWorld(server.url, runtime, identity_tls, issuer, graph)
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for this module only (see tests/ui/conftest.py ``chromium``)."""
    with chromium() as launched:
        yield launched

