"""The `enclave` command. Each noun lives in its own module; this one wires them together."""

from __future__ import annotations

import logging
import sys

import typer

from assistant.errors import ConfigurationError, Conflict, EnclaveError, InvalidRequest

from . import (
    audit,
    backups,
    connectors,
    doctor,
    evaluate,
    ingest,
    models,
    query,
    replay,
    serve,
    status,
    users,
)

app = typer.Typer(
    name="enclave",
    help="Enclave: a private assistant that answers from your documents, with citations, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest.ingest)
app.command("search")(query.search)
app.command("ask")(query.ask)
app.command("chat")(query.chat)
app.command("replay")(replay.replay)
app.command("status")(status.status)
app.command("config")(status.config)
app.command("serve")(serve.serve)
app.command("sync")(connectors.sync)
app.command("eval")(evaluate.evaluate)
app.command("doctor")(doctor.doctor)
app.command("backup")(backups.backup)
app.command("restore")(backups.restore)
app.add_typer(models.app, name="models")
app.add_typer(users.users_app, name="users")
app.add_typer(users.keys_app, name="apikeys")
app.add_typer(connectors.app, name="connectors")
app.add_typer(audit.app, name="audit")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except EnclaveError as error:
        typer.secho(f"Error: {error}", err=True, fg="red")
        sys.exit(exit_code(error))


def exit_code(error: EnclaveError) -> int:
    """2 when the command was given something wrong (a setting, an argument, a clash), else 1."""
    return 2 if isinstance(error, (ConfigurationError, InvalidRequest, Conflict)) else 1
