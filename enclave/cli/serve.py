"""enclave serve"""

from __future__ import annotations

import typer

from assistant.accounts import INITIAL_PASSWORD_FILE
from enclave.data_dir import check_writable
from enclave.runtime import Runtime

from .common import err, load_settings


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: the host setting, 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default: the port setting, 8000)."),
) -> None:
    """Run the web UI, the REST API and the OpenAI-compatible endpoint.

    Example: enclave serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from web.app import create_app

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    check_writable(settings)
    runtime = Runtime(settings, index_lock="exclusive")
    # Opened here, not in the app's start-up: a damaged database or index stops the command with its path.
    runtime.open_storage()
    app = create_app(runtime)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err.print(f"Enclave is starting at [bold]http://{shown}:{port}/[/bold]")
    password_file = settings.data_dir / INITIAL_PASSWORD_FILE
    err.print(
        f"First login: {settings.admin_email}, password in {password_file.resolve()} "
        "(created on first start, removed once changed)."
    )
    # asyncio's own loop, not uvloop: uvloop opens connections in C, out of the egress guard's sight.
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True, loop="asyncio")
