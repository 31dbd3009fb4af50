"""A running Enclave server over real HTTP (uvicorn on a loopback port) with the real models.

``enclave_server`` starts one per test module, with its own data directory, a
small corpus, an admin (password already changed), an employee in group
"sales", and an API key for each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from assistant import accounts
from assistant.access import Access
from enclave.runtime import Runtime
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.conftest import _isolated_settings as isolated_settings
from tests.emulators.server import BackgroundServer
from web.app import create_app

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
PASSWORD = "a long enough password"

CORPUS = {
    "parking.md": ("Parking at the Tromso office: employees park in garage level P3. Visitors use level P1.", Access.everyone()),
    "sales-bonus.md": (
        "Sales bonus plan 2026: account executives earn a 7.5 percent commission on closed deals above quota.",
        Access.restricted(groups=["sales"]),
    ),
    "board-minutes.md": (
        "Board minutes: the board approved the acquisition of Fjordlight AS for 41 million kroner.",
        Access.restricted(users=["ceo@example.com"]),
    ),
}


@dataclass
class Person:
    email: str
    key: str
    client: httpx.Client = field(repr=False)


@dataclass
class EnclaveServer:
    url: str
    runtime: Runtime
    admin: Person
    employee: Person
    outsider: Person  # an employee in no group
    documents: dict[str, str]  # file name -> document id

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Client:
        return browser_login(self.url, email, password)


def browser_login(url: str, login: str, password: str = PASSWORD) -> httpx.Client:
    """A cookie-authenticated browser-like client, with its CSRF token as a default header."""
    client = httpx.Client(base_url=url, timeout=120)
    response = client.post("/api/v1/auth/login", json={"email": login, "password": password})
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def make_person(runtime: Runtime, url: str, email: str, role: str, groups=()) -> Person:
    with runtime.sessions() as session:
        user = accounts.create_user(session, email, role, PASSWORD, groups)
        key, _ = accounts.create_api_key(session, user, f"{email} test key")
        session.commit()
    client = httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {key}"})
    return Person(email, key, client)


def index_corpus(runtime: Runtime, corpus: dict[str, tuple[str, Access]] = CORPUS) -> dict[str, str]:
    """Index ``corpus`` (file name -> (text, access)); returns file name -> document id."""
    ids = {}
    for name, (text, access) in corpus.items():
        item = SourceDocument(external_id=name, title=name, uri=f"file:///corpus/{name}", content=text.encode(),
                              filename=name, access=access)
        ids[name] = runtime.sink.index(Source("files", "local"), item).document_id
    return ids


def start_server(tmp: Path, embedder, llm, **overrides) -> tuple[BackgroundServer, Runtime]:
    # Greedy decoding: the same question gets the same answer on every run.
    settings = isolated_settings(
        data_dir=tmp / "data", models_dir=MODELS_DIR, max_answer_tokens=64, temperature=0, **overrides
    )
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    runtime._llm = llm
    server = BackgroundServer(create_app(runtime)).start()
    return server, runtime


@pytest.fixture(scope="module")
def enclave_server(tmp_path_factory, embedder, llm):
    server, runtime = start_server(tmp_path_factory.mktemp("server"), embedder, llm)
    documents = index_corpus(runtime)
    admin = make_person(runtime, server.url, "boss@example.com", "admin")
    employee = make_person(runtime, server.url, "ana@example.com", "employee", ["sales"])
    outsider = make_person(runtime, server.url, "olaf@example.com", "employee")
    yield EnclaveServer(server.url, runtime, admin, employee, outsider, documents)
    server.stop()
