"""enclave serve"""

from __future__ import annotations

import logging
import signal
import threading
from enum import Enum
from pathlib import Path

import typer

from assistant.accounts import INITIAL_PASSWORD_FILE
from assistant.errors import ConfigurationError
from enclave.data_dir import check_writable
from enclave.runtime import Runtime
from enclave.worker import Worker

from .common import err, load_settings


class Role(str, Enum):
    all = "all"
    web = "web"
    worker = "worker"


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: the host setting, 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default: the port setting, 8000)."),
    role: Role = typer.Option(
        Role.all,
        "--role",
        help="all: everything in one process; web: only HTTP (uploads are queued for workers); worker: only "
        "syncs, group sync, backups and queued uploads, no HTTP.",
    ),
    heartbeat: Path | None = typer.Option(
        None, "--heartbeat", help="A worker touches this file every 10 s, for a container health check."
    ),
) -> None:
    """Run the web UI, the REST API and the OpenAI-compatible endpoint, and the background work.

    Several web replicas and workers can share one deployment (README: Scaling out).

    Example: enclave serve --host 0.0.0.0 --port 8000
    enclave serve --role worker --heartbeat /tmp/worker-alive
    """
    settings = load_settings()
    if role is not Role.all and not settings.chroma_url:
        raise ConfigurationError(
            f"--role {role.value} runs beside other Enclave services, which share the index through a Chroma "
            "server: set chroma_url (and database_url for PostgreSQL)"
        )
    check_writable(settings)
    runtime = Runtime(settings, index_lock="exclusive")
    # Opened here, not in the app's start-up: a damaged database or index stops the command with its path.
    runtime.open_storage()
    if role is Role.worker:
        _work(runtime, heartbeat)
    else:
        _serve_http(runtime, role, host or settings.host, port or settings.port)


def _work(runtime: Runtime, heartbeat: Path | None) -> None:
    logging.getLogger("enclave").setLevel(logging.INFO)  # what each sync and job does, in the worker's log
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    err.print("Enclave worker is starting: syncs, group sync, backups and queued uploads (no HTTP).")
    Worker(runtime).run_until(stop, heartbeat)


def _serve_http(runtime: Runtime, role: Role, host: str, port: int) -> None:
    import uvicorn

    from web.app import create_app

    settings = runtime.settings
    app = create_app(runtime, role.value)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err.print(f"Enclave is starting at [bold]http://{shown}:{port}/[/bold]")
    password_file = settings.data_dir / INITIAL_PASSWORD_FILE
    err.print(
        f"First login: {settings.admin_email}, password in {password_file.resolve()} "
        "(created on first start, removed once changed)."
    )
    # asyncio's own loop, not uvloop: uvloop opens connections in C, out of the egress guard's sight.
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True, loop="asyncio")
