"""The scaled-out backends as real servers on loopback ports, started by the tests themselves.

- ``llm_server``: llama-cpp-python's OpenAI-compatible server with the 0.5B model.
- ``chroma_server``: Chroma's own server (``chroma run``) over a throwaway folder.
- ``postgres``: a throwaway PostgreSQL cluster (initdb + pg_ctl), one fresh
  database per test through ``postgres_url``.

Each is a subprocess of the test session, listens on 127.0.0.1 only, and is
stopped (and its files removed) when the session ends. Nothing is started
system-wide. A server that does not come up fails the test with its log.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.config import DEFAULT_MODEL
from tests.conftest import TEST_CONTEXT_SIZE, settings_for

# The 0.5B model, served under its catalog name (as a compose deployment would set --model_alias).
SERVED_MODEL = DEFAULT_MODEL
CHROMA = Path(sys.executable).parent / "chroma"  # the console script installed with chromadb
POSTGRES_INSTALL = "apt-get install -y postgresql"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until_ready(process: subprocess.Popen, ready: Callable[[], bool], what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with status {process.returncode} before it was ready:\n{_tail(log)}")
        try:
            if ready():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"{what} was not ready after {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


# LLM server


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of ``python -m llama_cpp.server`` serving the 0.5B model."""
    server = LlamaServer(tmp_path_factory.mktemp("llm-server"), free_port(), threads=os.cpu_count() or 1)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class LlamaServer:
    """``python -m llama_cpp.server`` with the 0.5B model on a fixed port, so a test can stop and start it again.

    Needs llama-cpp-python's ``[server]`` extra (sse-starlette, starlette-context).
    """

    folder: Path
    port: int
    threads: int
    options: tuple[str, ...] = ()  # more of the server's own command-line options
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def start(self) -> None:
        from assistant.catalog import active_model

        missing = [m for m in ("sse_starlette", "starlette_context") if not _importable(m)]
        if missing:
            pytest.fail(f"llama_cpp.server needs {', '.join(missing)}: `pip install -c constraints.txt -e '.[test]'`")
        model = active_model(settings_for(data_dir=self.folder / "data"), SERVED_MODEL)  # says to pull it if missing
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model.path),
            "--model_alias", SERVED_MODEL,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(TEST_CONTEXT_SIZE),
            "--n_threads", str(self.threads),
            # Off: a waiting request must not cut the running one short, so only a client
            # that closes its connection stops a generation (as with llama-server and vLLM).
            "--interrupt_requests", "False",
            *self.options,
        ]  # fmt: skip
        with self.log.open("a") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until_ready(self.process, lambda: _http_ok(f"{self.url}/models"), "the llama.cpp server", self.log, 120)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# Chroma server


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[str]:
    """URL (``http://127.0.0.1:PORT``) of ``chroma run`` over a throwaway folder, telemetry off."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = folder / "server.log"
    # The Python client's product telemetry is switched off by this variable (and in
    # Enclave's client Settings); the Rust server sends none, and exports traces only
    # when a config file names an OpenTelemetry endpoint, which this one has not.
    environ = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    command = [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environ)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, lambda: _http_ok(f"{url}/api/v2/heartbeat"), "the Chroma server", log, timeout=60)
        yield url
    finally:
        stop(process)


# PostgreSQL


@dataclass(frozen=True)
class PostgresCluster:
    port: int
    bin_dir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"enclave_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def postgres_bin_dir() -> Path | None:
    """Debian's /usr/lib/postgresql/<version>/bin (newest first), else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _missing_postgres(reason: str) -> None:
    message = f"{reason}; install it with `{POSTGRES_INSTALL}` (the tests start their own throwaway cluster)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {message}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {message}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on a free loopback port, trust auth, superuser ``postgres``.

    PostgreSQL refuses to run as root, so under root the cluster belongs to the
    ``postgres`` OS user (created by the Debian package) and its commands run
    through ``runuser``. Its files live in a temporary folder removed afterwards.
    The server's time zone is deliberately not UTC, so a naive datetime
    anywhere in the application would show up as an hours-off value.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        _missing_postgres("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _missing_postgres("there is no `postgres` OS user to run the server as (PostgreSQL refuses root)")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="enclave-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()

    def run(*command: str) -> None:
        result = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120, cwd=root)
        if result.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}\n{_tail(log)}")

    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=200 -c timezone=America/Sao_Paulo"
    )
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync")  # fmt: skip
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    try:
        yield PostgresCluster(port, bin_dir)
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60, cwd=root,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> str:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database for this test.

    Its engine (``assistant.db.engine_for`` caches one per URL) keeps its pooled
    connections until the cluster is stopped at the end of the session.
    """
    return postgres.create_database()
