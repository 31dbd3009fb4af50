"""enclave audit export: the audit log as JSON lines, for a SIEM."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import typer

from assistant.db import session_factory
from assistant.errors import InvalidRequest

from .. import audit
from .common import err, load_settings

app = typer.Typer(help="The audit log: who did what, when, from where.", no_args_is_help=True)


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidRequest(f"{option} {text!r} is not an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T08:00") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("export")
def export(
    since: str | None = typer.Option(None, "--since", help="From this date or time on (ISO 8601; UTC unless a zone is given)."),
    until: str | None = typer.Option(None, "--until", help="Before this date or time."),
    output: Path | None = typer.Option(None, "--output", dir_okay=False, help="Write to this file (default: standard output)."),
) -> None:
    """Write audit events, oldest first, one JSON object a line (at, actor, via, address, action, target, outcome,
    details), for a SIEM. Events are read in batches, so a long log never has to fit in memory.

    Example: enclave audit export --since 2026-12-01 --output audit-december.jsonl
    """
    filters = audit.Filters(since=_moment(since, "--since"), until=_moment(until, "--until"))
    sessions = session_factory(load_settings().effective_database_url)
    written = 0
    with sessions() as session, (output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout)) as sink:
        for line in audit.export_lines(session, filters):
            sink.write(line)
            written += 1
    with sessions() as session:
        audit.record(session, audit.cli_actor(), "audit.exported", str(output) if output else "stdout", events=written,
                     since=since, until=until)  # fmt: skip
        session.commit()
    if output:
        err.print(f"Wrote {written} event(s) to {output}.")
