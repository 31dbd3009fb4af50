"""Enclave beyond one box: the compose topology as processes on loopback, end to end.

PostgreSQL, a Chroma server, two llama.cpp servers (the 0.5B model, one thread each), two web replicas
(``enclave serve --role web``) and two workers (``--role worker``), all real processes sharing one set of
settings, as compose.yaml runs them. Each worker runs in its own UTS namespace where ``unshare`` allows it,
so it has a host name of its own, as a container would: a claim of one worker is then trusted by the other
until its lease runs out, never judged by a process id the other cannot see.

Failure modes covered: a web replica indexing (or losing) an upload instead of queueing it, the job not
reaching a worker or its outcome not visible on another replica; a sign-in valid only on the replica that
made it; a connector synced by both workers, or by none; a worker killed mid-sync leaving its connector
claimed for ever, or documents indexed twice when another takes over; a stopped model server failing
questions instead of leaving them to the other, never used again once back, or a 503 without Retry-After
when none is up.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from assistant.db import session_factory
from assistant.db.models import ConnectorRecord, Document, SyncRun
from tests.backends.conftest import LlamaServer, free_port, stop, wait_until_ready
from tests.conftest import ENCLAVE, REPO, TEST_ANSWER_CHECK, TEST_CONTEXT_SIZE, settings_for

pytestmark = pytest.mark.llm

LEASE_SECONDS = 3
NEW_PASSWORD = "a long enough password for the replicas"
QUESTION = "What is the access code of the server room in Building C?"
SERVER_ROOM = "The server room in Building C opens with access code 7391. Visitors must be escorted by staff."
BIG_FOLDER_FILES = 300


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "--uts", "true"], capture_output=True).returncode == 0


@dataclass
class Deployment:
    environ: dict[str, str]
    database_url: str
    chroma_url: str
    folder: Path
    llms: list[LlamaServer]
    webs: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    worker_logs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def sessions(self):
        return session_factory(self.database_url)

    def start_web(self, name: str) -> None:
        port = free_port()
        log = self.folder / f"{name}.log"
        command = [str(ENCLAVE), "serve", "--role", "web", "--host", "127.0.0.1", "--port", str(port)]
        process = self._spawn(command, log)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200, name, log, 240)
        self.webs.append(url)

    def start_worker(self, name: str) -> None:
        log = self.folder / f"{name}.log"
        heartbeat = self.folder / f"{name}.alive"
        command = [str(ENCLAVE), "serve", "--role", "worker", "--heartbeat", str(heartbeat)]
        if _unshare_works():  # a host name of its own, as in its own container
            command = ["unshare", "--uts", "sh", "-c", f'hostname {name} && exec "$@"', "sh", *command]
        process = self._spawn(command, log)
        wait_until_ready(process, heartbeat.exists, name, log, 120)
        self.workers.append(process)
        self.worker_logs.append(log)

    def _spawn(self, command: list[str], log: Path) -> subprocess.Popen:
        with log.open("w") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self.environ, cwd=self.folder)  # fmt: skip
        self.processes.append(process)
        return process


@pytest.fixture(scope="module")
def deployment(postgres, chroma_server, tmp_path_factory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("scale-out")
    llms = [LlamaServer(folder / f"llm{n}", free_port(), threads=1) for n in (1, 2)]
    for server in llms:
        server.folder.mkdir()
        server.start()
    database_url = postgres.create_database()
    settings = settings_for(data_dir=folder / "data")  # the test's own settings: the models folder, sizes
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ENCLAVE_")},
        "PYTHONPATH": str(REPO),
        "ENCLAVE_CONFIG": str(folder / "no-enclave.toml"),
        "ENCLAVE_DATA_DIR": str(folder / "data"),
        "ENCLAVE_MODELS_DIR": str(settings.models_dir),
        "ENCLAVE_DATABASE_URL": database_url,
        "ENCLAVE_CHROMA_URL": chroma_server,
        "ENCLAVE_COLLECTION": f"scale-out-{os.getpid()}",
        "ENCLAVE_LLM_BACKEND": "openai",
        "ENCLAVE_LLM_URL": ",".join(server.url for server in llms),
        "ENCLAVE_SECRET_KEY": Fernet.generate_key().decode(),
        "ENCLAVE_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
        "ENCLAVE_CONTEXT_SIZE": str(TEST_CONTEXT_SIZE),
        "ENCLAVE_MAX_ANSWER_TOKENS": "48",
        "ENCLAVE_TEMPERATURE": "0",
        "ENCLAVE_ANSWER_CHECK": TEST_ANSWER_CHECK,
        "ENCLAVE_TOP_K": "2",
    }
    deployment = Deployment(environ, database_url, chroma_server, folder, llms)
    try:
        for name in ("worker-1", "worker-2"):
            deployment.start_worker(name)
        for name in ("web-a", "web-b"):
            deployment.start_web(name)
        yield deployment
    finally:
        for process in reversed(deployment.processes):
            stop(process)
        for server in llms:
            server.stop()


@pytest.fixture(scope="module")
def admin(deployment) -> httpx.Client:
    """The first admin signed in on replica A (its one-time password changed there)."""
    password = (deployment.folder / "data" / "initial-admin-password").read_text().strip()
    client = httpx.Client(base_url=deployment.webs[0], timeout=180)
    response = client.post("/api/v1/auth/login", json={"email": "admin@enclave.local", "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    changed = client.post("/api/v1/auth/password", json={"current_password": password, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text
    return client


def on(client: httpx.Client, url: str) -> httpx.Client:
    """The same signed-in browser (cookie and CSRF token), talking to another replica."""
    other = httpx.Client(base_url=url, timeout=180, headers=dict(client.headers))
    other.cookies = client.cookies
    return other


def eventually(check: Callable[[], object], what: str, timeout: float = 180) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout:.0f} s: {what}")
        time.sleep(0.5)


def test_a_sign_in_on_one_replica_is_valid_on_the_other(deployment, admin):
    replica_b = on(admin, deployment.webs[1])
    me = replica_b.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == "admin@enclave.local"
    # A change sent to B with the CSRF token A handed out is accepted; without it, refused.
    assert replica_b.post("/api/v1/auth/password", json={"current_password": NEW_PASSWORD,
                                                         "new_password": NEW_PASSWORD + "!"}).status_code == 204
    without_token = httpx.Client(base_url=deployment.webs[1], cookies=admin.cookies)
    assert without_token.post("/api/v1/auth/logout").status_code == 403
    assert admin.get("/api/v1/auth/me").status_code == 200  # A still knows the session


def test_an_upload_on_one_replica_is_indexed_by_a_worker_and_cited_on_the_other(deployment, admin):
    uploaded = admin.post("/api/v1/documents", files={"files": ("server-room.md", SERVER_ROOM.encode(), "text/markdown")})
    assert uploaded.status_code == 200, uploaded.text
    [result] = uploaded.json()
    assert result["status"] == "queued" and result["document_id"] is None  # the web replica did not index it

    replica_b = on(admin, deployment.webs[1])
    job = eventually(lambda: (j := replica_b.get(f"/api/v1/jobs/{result['job_id']}").json())["status"] in
                     ("done", "failed") and j, "the worker indexes the upload")  # fmt: skip
    assert (job["status"], job["outcome"], job["filename"]) == ("done", "added", "server-room.md")
    assert job["chunks"] >= 1 and job["finished_at"] >= job["started_at"]

    hits = replica_b.get("/api/v1/search", params={"q": "server room access code"}).json()
    assert hits[0]["title"] == "server-room.md"
    answer = replica_b.post("/api/v1/ask", json={"question": QUESTION}).json()
    assert "7391" in answer["answer"]
    assert answer["sources"][0]["title"] == "server-room.md"
    original = replica_b.get(answer["sources"][0]["uri"])  # the original, stored by the worker, opens on B
    assert original.status_code == 200 and original.content == SERVER_ROOM.encode()


def _runs(deployment, connector_id: int) -> list[SyncRun]:
    with deployment.sessions() as session:
        query = select(SyncRun).where(SyncRun.connector_id == connector_id).order_by(SyncRun.id)
        return list(session.scalars(query))


def _folder(root: Path, files: int) -> Path:
    root.mkdir()
    for n in range(files):
        (root / f"note-{n:03d}.txt").write_text(f"Meeting note {n}: the team agreed on action item number {n * 7}.\n")
    return root


def test_a_connector_both_workers_see_due_is_synced_by_exactly_one(deployment, admin):
    share = _folder(deployment.folder / "small-share", 5)
    created = admin.post("/api/v1/connectors", json={"type": "local", "name": "Small share",
                                                     "config": {"path": str(share), "watch": False}})  # fmt: skip
    assert created.status_code == 201, created.text
    connector_id = created.json()["id"]

    # Both workers look every few seconds; give them several looks after the sync has finished.
    run = eventually(lambda: [r for r in _runs(deployment, connector_id) if r.finished_at], "the first sync")[0]
    time.sleep(12)
    runs = _runs(deployment, connector_id)
    assert [(r.status, r.seen, r.indexed) for r in runs] == [("succeeded", 5, 5)]
    ran_it = [log.name for log in deployment.worker_logs if f"run {run.id}: " in log.read_text()]
    assert len(ran_it) == 1, ran_it
    # Its progress is seen on every replica, from the database.
    for url in deployment.webs:
        [latest] = on(admin, url).get(f"/api/v1/connectors/{connector_id}/runs").json()
        assert (latest["id"], latest["status"], latest["indexed"]) == (run.id, "succeeded", 5)


def test_a_worker_killed_mid_sync_is_taken_over_once_its_lease_runs_out(deployment, admin):
    share = _folder(deployment.folder / "big-share", BIG_FOLDER_FILES)
    created = admin.post("/api/v1/connectors", json={"type": "local", "name": "Big share",
                                                     "config": {"path": str(share), "watch": False}})  # fmt: skip
    connector_id = created.json()["id"]

    def running_past_the_lease():
        runs = [r for r in _runs(deployment, connector_id) if r.status == "running" and r.indexed >= 20]
        return runs and (time.monotonic() - started) > LEASE_SECONDS + 1 and runs[0]

    started = time.monotonic()
    first = eventually(running_past_the_lease, "a sync running longer than its lease (the heartbeat keeps it)")
    with deployment.sessions() as session:
        owner = session.get(ConnectorRecord, connector_id).sync_owner
    assert [r.id for r in _runs(deployment, connector_id)] == [first.id]  # the other worker did not take it
    syncing = [log for log in deployment.worker_logs if f"run {first.id}: " in log.read_text()]
    [victim] = [p for p, log in zip(deployment.workers, deployment.worker_logs, strict=True) if log in syncing]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)

    def finished_again():
        runs = _runs(deployment, connector_id)
        return len(runs) >= 2 and runs[-1].finished_at is not None and runs

    runs = eventually(finished_again, "the other worker resumes the sync", timeout=300)
    assert runs[0].status == "failed" and "interrupted" in runs[0].error
    assert runs[-1].status == "succeeded"
    if _unshare_works():  # the claim named the worker's own host, so only its lease running out freed it
        assert owner.startswith("worker-")
    with deployment.sessions() as session:
        source = f"connector-{connector_id}"
        count = session.scalar(select(func.count()).select_from(Document).where(Document.source == source))
        chunks = session.scalar(select(func.sum(Document.chunk_count)).where(Document.source == source))
        assert session.get(ConnectorRecord, connector_id).sync_owner is None
    assert count == BIG_FOLDER_FILES
    # Each document once in the vector store too: exactly the chunks the records say.
    import chromadb

    host, port = deployment.chroma_url.removeprefix("http://").split(":")
    collection = chromadb.HttpClient(host=host, port=int(port)).get_collection(deployment.environ["ENCLAVE_COLLECTION"])
    stored = collection.get(where={"source": source}, include=[])["ids"]
    assert len(stored) == len(set(stored)) == chunks


def _ask(client: httpx.Client) -> httpx.Response:
    return client.post("/api/v1/ask", json={"question": QUESTION})


def _answered_by(server: LlamaServer) -> int:
    return server.log.read_text().count("POST /v1/chat/completions")


def test_questions_go_to_the_model_server_that_is_up_and_back_to_one_that_returns(deployment, admin):
    first, second = deployment.llms
    first.stop()
    for _ in range(2):
        response = _ask(admin)
        assert response.status_code == 200 and "7391" in response.json()["answer"]

    second.stop()
    refused = _ask(admin)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
    assert "no language model server answers" in refused.json()["detail"]

    before = _answered_by(first)
    first.start()
    time.sleep(6)  # past the next health check of the server that was down
    response = _ask(admin)
    assert response.status_code == 200 and "7391" in response.json()["answer"]
    assert _answered_by(first) > before
