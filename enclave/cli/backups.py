"""enclave backup PATH | restore PATH"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from enclave import backup as backups
from enclave.audit import Actor

from .common import err, load_settings, out, runtime

CLI = Actor(None, "cli")


def backup(path: Path = typer.Argument(..., help="A new (or empty) folder to write the backup into.")) -> None:
    """Back up the data directory, consistently even while `enclave serve` runs, and verify the copy.

    Index writes pause while the files are copied; the copy is then opened and searched, and a
    manifest (files with sha256, counts, version, migration) is written beside it.

    Example: enclave backup /srv/backups/enclave-2026-01-31
    """
    rt = runtime()
    with Progress(SpinnerColumn(), TextColumn("[bold]Backing up, then verifying the copy"), TimeElapsedColumn(),
                  console=err, transient=True):  # fmt: skip
        made = backups.create(rt, path, CLI)
    checked = "verified by a search" if "found" in made.manifest["verified"] else made.manifest["verified"]["search"]
    out.print(f"Backed up {made.documents} document(s), {made.chunks} chunk(s) to {made.path}; {checked}.")


def restore(
    path: Path = typer.Argument(..., help="A folder written by `enclave backup`."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where to restore to (default: the data_dir setting)."),
) -> None:
    """Restore a backup onto an empty data directory, after checking every file against its manifest.

    A PostgreSQL backup's dump goes into the database that database_url names, which must have no tables.

    Example: enclave restore /srv/backups/enclave-2026-01-31 --data-dir /srv/enclave/data
    """
    settings = load_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    manifest = backups.restore(path, settings, CLI)
    out.print(
        f"Restored {manifest['documents']} document(s), {manifest['chunks']} chunk(s) from {manifest['created_at']} "
        f"into {settings.data_dir.resolve()}."
    )
    if any(f["path"] == backups.SETTINGS_FILE for f in manifest["files"]):
        out.print(f"The backup also holds the settings file: {Path(path) / backups.SETTINGS_FILE}")
