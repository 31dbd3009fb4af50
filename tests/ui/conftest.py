"""The web interface in a real headless browser: Debian's chromium driven by Playwright.

``ui_server`` is one real Enclave (uvicorn on a loopback port, the real embedder
and 0.5B model) for all UI tests, started with ``tests/server/conftest.py``'s
helpers: the small corpus, plus a document full of HTML injection. Each test
gets a fresh browser context (``context``, ``page``); when it ends, every request
the pages made must have gone to the server's own origin, and no page may have
thrown a JavaScript error or hit a Content-Security-Policy violation.

Chromium comes from the Debian package (``apt-get install chromium``), never
from ``playwright install``. Screenshots land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant import accounts
from assistant.access import Access
from enclave.runtime import Runtime
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.server.conftest import PASSWORD, Person, index_corpus, make_person, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Long enough for one answer from the 0.5B model on a small CPU, with room to spare.
ANSWER_TIMEOUT_MS = 120_000

INJECTION = (
    "Badge office notice. The badge office code word is marmalade. "
    'Old kiosks showed <img src=x onerror=alert(1)> and <script>alert("pwned")</script> '
    "and [a link](javascript:alert(3)) in their banner; that banner is retired."
)
INJECTION_TITLE = "Badge office <img src=x onerror=alert(7)>"
INJECTION_QUESTION = "What is the badge office code word?"


@dataclass
class UiServer:
    url: str
    runtime: Runtime
    admin: Person
    employee: Person
    documents: dict[str, str]
    folder: Path  # a folder on the server an admin can connect as a local-folder connector

    def add_user(self, email: str, role: str = "employee", must_change_password: bool = False) -> None:
        with self.runtime.sessions() as session:
            accounts.create_user(session, email, role, PASSWORD, [], must_change_password=must_change_password)
            session.commit()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory, embedder, llm) -> UiServer:
    tmp = tmp_path_factory.mktemp("ui")
    server, runtime = start_server(tmp, embedder, llm)
    documents = index_corpus(runtime)
    item = SourceDocument(  # plain text, so the markup reaches the index (and the snippet) verbatim
        external_id="badge-office.txt",
        title=INJECTION_TITLE,
        uri="file:///corpus/badge-office.txt",
        content=INJECTION.encode(),
        filename="badge-office.txt",
        access=Access.everyone(),
    )
    documents["badge-office.txt"] = runtime.sink.index(Source("files", "local"), item).document_id
    admin = make_person(runtime, server.url, "boss@example.com", "admin")
    employee = make_person(runtime, server.url, "ana@example.com", "employee", ["sales"])
    folder = tmp / "shared-folder"
    folder.mkdir()
    yield UiServer(server.url, runtime, admin, employee, documents, folder)
    server.stop()


@pytest.fixture(scope="session")
def browser():
    with chromium() as launched:
        yield launched


@contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright's sync API. While it runs, the thread has Playwright's
    event loop: asyncio.run() fails there, so only the UI tests (last in the run) keep one for the session;
    other modules open their own and close it with the module."""
    if not CHROMIUM.exists():
        message = "Chromium is not installed: apt-get install -y chromium (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip("!!! " + message + " !!!")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class BrowserWatch:
    """What the pages of one context did: every request, script errors, CSP violations, dialogs."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not _same_origin(url, self.origin)]


def _same_origin(url: str, origin: str) -> bool:
    # data: URLs are inline content, not requests to anywhere.
    return url.startswith(origin + "/") or url == origin or url.startswith("data:")


@pytest.fixture
def watch(ui_server) -> BrowserWatch:
    return BrowserWatch(ui_server.url)


@pytest.fixture
def make_context(browser, ui_server, watch):
    """``make_context(**options)``: a fresh browser context (its own cookies) on the UI server, watched."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=ui_server.url, **options)
        context.set_default_timeout(30_000)
        context.on("request", lambda request: watch.requests.append(request.url))
        context.on("page", lambda page: _watch_page(page, watch))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert watch.foreign_requests() == [], "pages must load nothing from other origins"
    assert watch.errors == [], "no script errors or Content-Security-Policy violations"
    assert watch.dialogs == [], "no page may open alert/confirm/prompt dialogs"


def _watch_page(page, watch: BrowserWatch) -> None:
    page.on("pageerror", lambda error: watch.errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda message: watch.errors.append(f"{page.url}: {message.text}")
        if message.type == "error" and _counts_as_error(message.text)
        else None,
    )

    def on_dialog(dialog):
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


def _counts_as_error(text: str) -> bool:
    # A failed fetch the page handles itself (401 after logout, 403 for employees) is logged
    # by Chromium as "Failed to load resource"; that is expected. Everything else is a bug.
    return not re.match(r"Failed to load resource: the server responded with a status of (401|403|404)", text)


@pytest.fixture
def context(make_context):
    return make_context(viewport={"width": 1280, "height": 860})


@pytest.fixture
def page(context):
    return context.new_page()


def log_in(page, email: str, password: str = PASSWORD, expect: str = "/") -> None:
    """Log in through the login form, and wait for the page it leads to."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(expect) + r"$"))


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path
