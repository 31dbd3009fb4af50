"""The org the Salesforce tests run against: a test CA, one HTTPS emulator, a freshly seeded org per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest

from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector
from tests.emulators.salesforce import Org, SalesforceEmulator
from tests.emulators.server import BackgroundServer, TestCA, make_ca

ROUTER_CASE = "Router drops connection every hour"
BILLING_CASE = "Invoice shows the wrong VAT rate"
PORTAL_CASE = "Cannot log in to the customer portal"
ROUTER_COMMENTS = (
    "Asked the customer for the router logs.",
    "Logs show overheating; replacement shipped.",
    "Customer confirms the new router is stable.",
)
ROUTER_ARTICLE = "Resetting the office router"
VPN_ARTICLE = "Configuring the VPN client"
MANUAL_PDF = b"%PDF-1.4 router manual, first edition"
PRICES_V2 = b"item,price\nrouter,120\n"


@dataclass(frozen=True)
class Seeded:
    """Ids of what every test's org starts with, by name."""

    accounts: dict[str, str]
    cases: dict[str, str]
    articles: dict[str, str]  # title -> Id of the Online version
    draft_article: str
    files: dict[str, str]  # title -> ContentDocument Id

    def expected_ids(self) -> set[str]:
        """The external ids a full sync yields: published articles, cases, accounts, readable files."""
        return (
            {f"Knowledge__kav:{i}" for i in self.articles.values()}
            | {f"Case:{i}" for i in self.cases.values()}
            | {f"Account:{i}" for i in self.accounts.values()}
            | {f"ContentDocument:{i}" for title, i in self.files.items() if title != "Team video"}
        )


def seed(org: Org) -> Seeded:
    # One bulk import: three accounts share a SystemModstamp, across a page boundary.
    with org.same_second():
        accounts = {
            "Acme Corporation": org.insert(
                "Account", Name="Acme Corporation", Type="Customer", Industry="Manufacturing",
                Website="https://acme.example", BillingCity="Lyon", BillingCountry="France",
                Description="Key account since 2019.",
            ),
            "Globex": org.insert("Account", Name="Globex", Type="Customer", Industry="Energy"),
            "Initech": org.insert("Account", Name="Initech", Type="Prospect", Industry="Technology"),
        }
    cases = {
        ROUTER_CASE: org.add_case(
            ROUTER_CASE, Status="Escalated", Priority="High", Origin="Phone",
            AccountId=accounts["Acme Corporation"], Description="The office router reboots every hour.",
        ),
        BILLING_CASE: org.add_case(BILLING_CASE, Priority="Medium", Origin="Email", AccountId=accounts["Globex"]),
        PORTAL_CASE: org.add_case(PORTAL_CASE, Status="Working", Priority="Low", Origin="Web", AccountId=accounts["Initech"]),
    }
    org.add_comment(cases[ROUTER_CASE], ROUTER_COMMENTS[0])
    org.add_comment(cases[ROUTER_CASE], ROUTER_COMMENTS[1], public=False)
    org.add_comment(cases[ROUTER_CASE], ROUTER_COMMENTS[2])
    org.add_comment(cases[PORTAL_CASE], "Asked which browser the customer uses.")
    articles = {
        ROUTER_ARTICLE: org.add_article(
            ROUTER_ARTICLE, "How to power-cycle the router safely.", "The router does not answer; what now?",
            "<p>Unplug the router, wait <b>30 seconds</b>, and plug it back in.</p>"
            "<ul><li>Check that the power LED turns green.</li><li>Call support if it blinks red &amp; amber.</li></ul>",
        ),
        VPN_ARTICLE: org.add_article(
            VPN_ARTICLE, "Set up remote access.", "How do I connect from home?",
            '<h2>Install</h2><p>Download the client from the <a href="https://intranet.example/vpn">intranet</a>.</p>',
        ),
        "Travel expense policy": org.add_article(
            "Travel expense policy", "What travel costs are refunded.", "Which class may I fly?",
            "<p>Book economy class for flights under 6 hours.</p>",
        ),
    }
    draft = org.add_article("Upcoming price changes", "Not yet published.", "", "<p>Draft</p>", status="Draft")
    files = {
        "Router manual": org.add_file("Router manual", "pdf", MANUAL_PDF),
        "Onboarding checklist": org.add_file("Onboarding checklist", "txt", b"1. Laptop\n2. Badge\n"),
        "Price list": org.add_file("Price list", "csv", b"item,price\nrouter,100\n"),
        "Team video": org.add_file("Team video", "mp4", b"\x00\x00\x00\x18ftypmp42"),
    }
    org.new_file_version(files["Price list"], PRICES_V2)
    return Seeded(accounts, cases, articles, draft, files)


@dataclass(frozen=True)
class SalesforceSite:
    org: Org
    seeded: Seeded
    url: str
    ca_bundle: Path

    def config(self, **overrides) -> SalesforceConfig:
        values = {
            "login_url": self.url,
            "client_id": Org.client_id,
            "client_secret": Org.client_secret,
            "groups": ["Support", "sales"],
            "ca_bundle": self.ca_bundle,
        }
        return SalesforceConfig.model_validate(values | overrides)

    def connector(self, **overrides) -> SalesforceConnector:
        return SalesforceConnector(self.config(**overrides))

    def record_url(self, object_name: str, record_id: str) -> str:
        return f"{self.url}/lightning/r/{object_name}/{record_id}/view"


@pytest.fixture(scope="session")
def salesforce_ca(tmp_path_factory) -> TestCA:
    return make_ca(tmp_path_factory.mktemp("salesforce-ca"))


@pytest.fixture(scope="session")
def salesforce_server(salesforce_ca) -> Iterator[tuple[SalesforceEmulator, str]]:
    emulator = SalesforceEmulator()
    with BackgroundServer(emulator.app, tls=salesforce_ca) as server:
        yield emulator, server.url


@pytest.fixture(autouse=True)
def requests_ca_bundle_set(monkeypatch) -> None:
    """As on many machines: a CA bundle in the environment that requests would let win over a session's own."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())


@pytest.fixture
def salesforce(salesforce_server, salesforce_ca) -> SalesforceSite:
    emulator, url = salesforce_server
    emulator.org = Org()
    return SalesforceSite(emulator.org, seed(emulator.org), url, salesforce_ca.ca_pem)
