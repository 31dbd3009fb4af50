"""The compose deployment (compose.yaml, compose.gpu.yaml, .env.example) holds together.

Failure modes covered: a file that is not valid YAML; a service without a health check (compose could not
wait for it, and a dead one would go unnoticed); a port published by anything but the proxy; a service on
a network with a route out; an ENCLAVE_* variable that names no setting (Enclave would refuse to start);
the web role not scalable (a fixed container name or host port); a shell `$` that Compose would read as a
variable (a health check's `$(…)` must be written `$$(…)`); a file `docker compose config` rejects.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from assistant.config import Settings
from tests.conftest import REPO

COMPOSE = REPO / "compose.yaml"
GPU = REPO / "compose.gpu.yaml"
ENV_EXAMPLE = REPO / ".env.example"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return environment


def _setting_names() -> set[str]:
    return {f"ENCLAVE_{name.upper()}" for name in Settings.model_fields}


def test_the_services_are_all_there_with_a_health_check_each(compose):
    services = compose["services"]
    assert {"proxy", "app", "worker", "llm", "chroma", "db"} <= set(services)
    assert [name for name, service in services.items() if "healthcheck" not in service] == []
    assert services["llm"]["image"] == "ghcr.io/ggml-org/llama.cpp:server"
    assert "--parallel" in services["llm"]["command"]
    assert services["chroma"]["image"].startswith("chromadb/chroma")
    assert services["db"]["image"].startswith("postgres")


def test_only_the_proxy_publishes_ports_and_reaches_outside(compose):
    services = compose["services"]
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    assert compose["networks"]["internal"]["internal"] is True
    outside = [name for name, service in services.items() if set(service.get("networks", [])) - {"internal"}]
    assert outside == ["proxy"]


def test_the_roles_run_as_their_own_services_and_the_web_one_scales(compose):
    app, worker = compose["services"]["app"], compose["services"]["worker"]
    assert app["command"][:4] == ["enclave", "serve", "--role", "web"]
    assert worker["command"][:4] == ["enclave", "serve", "--role", "worker"]
    # `--scale app=3` needs no fixed name and no host port.
    assert "container_name" not in app and "ports" not in app
    assert "enclave-data" in compose["volumes"] and all(
        any(v.startswith("enclave-data:") for v in s["volumes"]) for s in (app, worker)
    )


def test_every_enclave_variable_passed_is_a_setting(compose):
    gpu = yaml.safe_load(GPU.read_text())
    passed = {
        name
        for document in (compose, gpu)
        for service in document["services"].values()
        for name in _environment(service)
        if name.startswith("ENCLAVE_")
    }
    in_env_example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.startswith("ENCLAVE_") and "=" in line
    }
    assert passed, "the Enclave services pass no settings"
    assert passed | in_env_example <= _setting_names()


def test_secrets_come_from_the_env_file(compose):
    app = _environment(compose["services"]["app"])
    assert "${ENCLAVE_SECRET_KEY" in app["ENCLAVE_SECRET_KEY"]
    assert "${POSTGRES_PASSWORD" in app["ENCLAVE_DATABASE_URL"]
    example = ENV_EXAMPLE.read_text()
    assert "POSTGRES_PASSWORD=\n" in example and "ENCLAVE_SECRET_KEY=\n" in example  # no secret is committed


def test_the_gpu_override_gives_the_model_server_a_gpu():
    llm = yaml.safe_load(GPU.read_text())["services"]["llm"]
    assert llm["image"].startswith("ghcr.io/ggml-org/llama.cpp:server-cuda")
    assert llm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


@pytest.mark.parametrize("path", [COMPOSE, GPU], ids=["cpu", "gpu"])
def test_every_dollar_sign_is_a_variable_or_escaped(path: Path):
    # Compose substitutes variables in every string, health checks' shell commands too: a `$` must start
    # `${NAME…}` or `$NAME`, or be doubled to reach the shell: the one form every Compose reads as a plain `$`
    # (Debian's docker-compose 1.29 refused the worker's `$(find …)` as an invalid interpolation).
    unescaped = path.read_text().replace("$$", "")
    assert [line.strip() for line in unescaped.splitlines() if re.search(r"\$(?![{_A-Za-z])", line)] == []


def _compose_plugin_missing() -> str | None:
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return "the docker client has no compose plugin (`docker compose version` fails)"
    return None


@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, GPU]], ids=["cpu", "gpu"])
def test_docker_compose_accepts_the_files(files: list[Path]):
    missing = _compose_plugin_missing()
    if missing:
        pytest.skip(f"`docker compose config` not checked: {missing}")
    command = ["docker", "compose", "--env-file", str(ENV_EXAMPLE)]
    for path in files:
        command += ["-f", str(path)]
    # .env.example leaves the secrets empty on purpose; `config` needs them set.
    environ = {"POSTGRES_PASSWORD": "example", "ENCLAVE_SECRET_KEY": "example", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home())}
    result = subprocess.run([*command, "config", "--quiet"], capture_output=True, text=True, timeout=60, env=environ)
    assert result.returncode == 0, result.stderr
