"""`enclave serve` as people run it: a real process on a loopback port, owning the index."""

from __future__ import annotations

import socket
import subprocess

import httpx
import pytest

from tests.conftest import ENCLAVE, enclave_environment, run_enclave
from tests.polling import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def served(tmp_path, request):
    """(url, data dir, process) of `enclave serve`, once /healthz answers; ``indirect`` params are extra env."""
    data_dir = tmp_path / "data"
    port = free_port()
    process = subprocess.Popen(
        [str(ENCLAVE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=enclave_environment(data_dir, getattr(request, "param", None)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: healthy(url) or process.poll() is not None, "the server answer /healthz")
        assert process.poll() is None, process.stdout.read()
        yield url, data_dir, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_starts_with_a_first_admin_and_keeps_the_index_to_itself(served, tmp_path):
    url, data_dir, _ = served
    password_file = data_dir / "initial-admin-password"
    assert password_file.exists()
    login = httpx.post(f"{url}/api/v1/auth/login",
                       json={"email": "admin@enclave.local", "password": password_file.read_text().strip()})
    assert login.status_code == 200 and login.json()["must_change_password"] is True

    (tmp_path / "note.txt").write_text("A note.\n")
    blocked = run_enclave("ingest", str(tmp_path / "note.txt"), data_dir=data_dir)
    assert blocked.returncode == 2
    assert "in use by another Enclave process" in blocked.stderr and "web UI" in blocked.stderr
    status = run_enclave("status", data_dir=data_dir)
    assert status.returncode == 0 and "in use by the running server" in status.stdout


@pytest.mark.parametrize("served", [{"ENCLAVE_EMBEDDING_MODEL": "/nonexistent/minilm"}], indirect=True)
def test_serve_is_alive_before_its_models_load_and_names_one_that_cannot(served):
    url, _, process = served

    def embedding_model_state():
        checks = httpx.get(f"{url}/readyz", timeout=5).json()["checks"]
        return checks["embedding_model"] if checks["embedding_model"] != "loading" else None

    state = eventually(embedding_model_state, "the embedding model finish loading or fail")
    assert state.startswith("error: ") and "/nonexistent/minilm" in state
    ready = httpx.get(f"{url}/readyz", timeout=5)
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
    assert process.poll() is None
