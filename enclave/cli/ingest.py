"""enclave ingest PATH... [--prune]"""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.access import Access

from ..folders import ingest_paths
from .common import counting_progress, out, runtime


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders to index; folders are walked recursively."),
    prune: bool = typer.Option(False, "--prune", help="Also remove documents whose files no longer exist."),
    groups: str | None = typer.Option(
        None, "--groups", help="Comma-separated groups allowed to see these documents (default: everyone)."
    ),
) -> None:
    """Index files so Enclave can answer from them. Unchanged files are skipped.

    On a terminal, a progress bar shows files done of the total, files per second and the time left.

    Example: enclave ingest samples/ ~/Documents/policies --prune
    """
    access = Access.restricted(groups=groups.split(",")) if groups else Access.everyone()
    sink = runtime(writes=True).sink
    with counting_progress("files", transient=True) as progress:
        task = progress.add_task("finding files…", total=None, label="Ingesting")
        summary = ingest_paths(
            sink,
            paths,
            access=access,
            prune=prune,
            on_found=lambda total: progress.update(task, total=total, description=""),
            on_file=lambda path, outcome: progress.update(task, advance=1, description=f"{path.name}: {outcome}"),
        )

    out.print(
        f"Added {len(summary.added)}, updated {len(summary.updated)}, unchanged {len(summary.unchanged)}, "
        f"failed {len(summary.failed)} file(s); {summary.chunks_written} chunk(s) written"
        + (f"; {summary.ocr_pages} page(s) read by OCR." if summary.ocr_pages else ".")
    )
    if prune:
        out.print(f"Pruned {len(summary.pruned)} document(s) whose files are gone.")
        for path in summary.pruned:
            out.print(f"  - {path}")
    if summary.failed:
        out.print("[red]Failed:[/red]")
        for path, reason in summary.failed:
            out.print(f"  {path}: {reason}")
        raise typer.Exit(1)
