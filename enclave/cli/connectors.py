"""enclave connectors add | list | test | remove, and enclave sync"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.errors import ConfigurationError

from ..audit import cli_actor
from ..sources import service
from ..sources.sync import SyncEngine
from .common import RateColumn, err, out, runtime

app = typer.Typer(help="Connect SharePoint, Salesforce and local folders.", no_args_is_help=True)


@app.command("add")
def add(
    type_name: str = typer.Argument(..., metavar="TYPE", help="local, sharepoint or salesforce."),
    name: str = typer.Option(..., "--name", help="A name to refer to it by."),
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="JSON file with the source's settings."),
    schedule: int | None = typer.Option(None, "--schedule", min=1, help="Minutes between syncs (default 15)."),
) -> None:
    """Add a connector from a JSON settings file; the server syncs it within seconds.

    Example: enclave connectors add sharepoint --name Engineering --config sharepoint.json
    """
    try:
        settings = json.loads(config.read_text())
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{config} is not valid JSON: {error}") from error
    record = service.create(runtime(), type_name, name, settings, schedule, actor=cli_actor())
    out.print(f"Added connector {record.name} ({record.type}). Check it with `enclave connectors test {record.name}`.")


@app.command("list")
def list_connectors() -> None:
    """List connectors with their state, documents and last sync.

    Example: enclave connectors list
    """
    rt = runtime()
    table = Table("name", "type", "state", "documents", "last sync", "next sync", "last error")
    with rt.sessions() as session:
        for record in service.records(session):
            about = service.describe(session, record, rt.documents)
            table.add_row(
                record.name, record.type, about["state"], str(about["documents"]),
                f"{record.last_sync_at:%Y-%m-%d %H:%M}" if record.last_sync_at else "never",
                f"{about['next_sync_at']:%Y-%m-%d %H:%M}" if about["next_sync_at"] else "-",
                record.last_error or "",
            )
    out.print(table)


@app.command("test")
def test(name: str = typer.Argument(..., help="The connector's name.")) -> None:
    """Check a connector's credentials and reach (exit 1 when it fails).

    Example: enclave connectors test Engineering
    """
    rt = runtime()
    with rt.sessions() as session:
        record = service.find(session, name)
        result = service.try_connection(record.type, service.unsealed(rt, record))
    if not result.ok:
        err.print(f"[red]Failed:[/red] {result.message}")
        raise typer.Exit(1)
    out.print(f"OK: {result.message}")


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The connector's name."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete a connector and every document it indexed.

    Example: enclave connectors remove "Old share" --yes
    """
    rt = runtime(writes=True)
    with rt.sessions() as session:
        record = service.find(session, name)
    if not yes:
        typer.confirm(f"Delete {name} and its {rt.documents.count(record.source_id)} document(s)?", abort=True)
    removed = service.remove(rt, record.id, cli_actor())
    out.print(f"Removed {name} and {removed} document(s).")


def sync(
    name: str = typer.Argument(..., help="The connector's name."),
    full: bool = typer.Option(False, "--full", help="Load everything again instead of only changes."),
) -> None:
    """Run a connector's sync now, in the foreground (exit 1 when it or any item failed, or it ends with warnings).

    On a terminal, a status line counts the items seen, indexed, unchanged, failed and deleted, with items per second.

    Example: enclave sync Engineering --full
    """
    rt = runtime(writes=True)
    with rt.sessions() as session:
        record = service.find(session, name)
    service.sync_started(rt, cli_actor(), record.id, full)
    engine = SyncEngine(rt)
    # Sources stream their items without a count up front, so there is a rate but no time left.
    columns = SpinnerColumn(), TextColumn("{task.description}"), RateColumn("items"), TimeElapsedColumn()
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("starting")

        def show(p) -> None:
            bar.update(task, completed=p.seen, description=f"{p.phase}: {p.seen} seen, {p.indexed} indexed, "
                                         f"{p.unchanged} unchanged, {p.failed} failed, {p.deleted} deleted")

        run = engine.sync(record.id, full=full, on_progress=show)
    out.print(f"Sync {run.status}: {run.seen} seen, {run.indexed} indexed, {run.unchanged} unchanged, "
              f"{run.failed} failed, {run.deleted} deleted, {run.skipped} part(s) skipped; the index holds {run.held}.")
    for line in run.log:
        if " failed: " in line:
            out.print(f"  {line}")
    for warning in run.warnings:
        err.print(f"[yellow]warning: {warning}[/yellow]")
    if run.error:
        err.print(f"[red]{run.error}[/red]")
    if run.status != "succeeded" or run.failed:
        raise typer.Exit(1)
