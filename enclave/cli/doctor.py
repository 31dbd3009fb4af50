"""enclave doctor [--repair] [--json]"""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from enclave.doctor import diagnose

from .common import err, out, runtime


def doctor(
    repair: bool = typer.Option(False, "--repair", help="Also fix what can be fixed without losing anything."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON (for monitoring)."),
) -> None:
    """Check that nothing indexed is lost and the appliance is safe to run; exit 0 only when all checks hold.

    Checks the egress guard, the models' sha256, the database migrations, that the database, the vector
    store and the keyword index hold the same documents and chunks, free space, and the secret key's mode.

    Example: enclave doctor --repair
    """
    rt = runtime(writes=repair)
    with Progress(
        TextColumn("[bold]Checking"), BarColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=err, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=None)

        def report(what: str, done: int, total: int | None) -> None:
            progress.update(task, description=what, completed=done, total=total)

        checks = diagnose(rt, repair=repair, progress=report)
    healthy = all(check.ok for check in checks)
    if as_json:
        print(json.dumps({"ok": healthy, "checks": [check.as_dict() for check in checks]}, indent=2))
    else:
        for check in checks:
            mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
            hint = " (enclave doctor --repair fixes it)" if not check.ok and check.repairable else ""
            out.print(f"{mark} {check.name}: {check.detail}{hint}")
    if not healthy:
        raise typer.Exit(1)
