"""Scratch data directories and the enclave command, kept apart from the developer's own setup."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRATCH = Path(__file__).resolve().parent / ".scratch"  # git-ignored
MODELS_DIR = REPO / "models"
SAMPLES = REPO / "samples"
# .venv/bin/enclave: the console script beside the interpreter running the benchmark.
ENCLAVE = Path(sys.executable).parent / "enclave"


def fresh_dir(name: str) -> Path:
    """An empty folder under the scratch root (emptied if it exists)."""
    path = SCRATCH / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def isolate(data_dir: Path) -> None:
    """Point this process's Enclave settings at ``data_dir``: no ENCLAVE_* variable or enclave.toml of
    the developer's applies (the benchmarks measure the defaults)."""
    for variable in [name for name in os.environ if name.startswith("ENCLAVE_")]:
        del os.environ[variable]
    os.environ.update(enclave_environment(data_dir))


def enclave_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of an enclave process working in ``data_dir``, with ``settings`` as ENCLAVE_*."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENCLAVE_")}
    environment.update(
        ENCLAVE_CONFIG=str(data_dir / "absent-enclave.toml"),
        ENCLAVE_DATA_DIR=str(data_dir),
        ENCLAVE_MODELS_DIR=str(MODELS_DIR),
        **{f"ENCLAVE_{name.upper()}": value for name, value in settings.items()},
    )
    return environment


def enclave(data_dir: Path, *arguments: str, stdin: str | None = None) -> str:
    """Run ``enclave ARGUMENTS`` in ``data_dir``; returns its output, raises with it on failure."""
    done = subprocess.run(
        [str(ENCLAVE), *arguments],
        env=enclave_environment(data_dir),
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"enclave {' '.join(arguments)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def api_key(data_dir: Path, email: str = "bench@enclave.local", role: str = "employee") -> str:
    """Add a person with the CLI and return a new API key acting as them."""
    # A password of their own: a generated one must be changed before the account may ask anything.
    password = secrets.token_urlsafe(16)
    enclave(data_dir, "users", "add", email, "--role", role, "--password-stdin", stdin=password + "\n")
    return enclave(data_dir, "apikeys", "create", "--user", email, "--name", "benchmark").strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
