"""The audit log: who did what, when, from where, through which sign-in, and how it ended.

Rows are only ever added (the ORM and the database both refuse changes and
deletions). ``record`` is the one way to write one; web routes, the CLI, the
sync engine and the directory sync all call it. ``events`` reads them back
newest first, a page at a time, for the API and the admin page; ``export_lines``
streams them oldest first as JSON lines, for a SIEM.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from assistant.db.models import AuditEvent, as_utc

OUTCOMES = ("ok", "denied", "failed")
EXPORT_BATCH = 500


@dataclass(frozen=True)
class Actor:
    """Who acts: a person's e-mail (None for Enclave itself; the operating-system account for the CLI), how
    they got in (password, oidc, ldap, session, api_key:<id>, cli, system) and the address the request came
    from (the host's name for the CLI)."""

    email: str | None
    via: str
    address: str | None = None


SYSTEM = Actor(None, "system")


def cli_actor() -> Actor:
    """Whoever runs an ``enclave`` command on this host: the command line has no Enclave login."""
    return Actor(getpass.getuser(), "cli", socket.gethostname())


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str | None = None,
    outcome: str = "ok",
    **details,
) -> AuditEvent:
    """Add one event to ``session`` (the caller commits it with the change it describes)."""
    event = AuditEvent(
        actor=actor.email and actor.email[:320], via=actor.via, address=actor.address, action=action, target=target,
        outcome=outcome, details=details,
    )  # fmt: skip
    session.add(event)
    return event


@dataclass(frozen=True)
class Filters:
    """Which events: ``actor`` exactly, ``action`` by prefix ("user." finds every user event), ``outcome``
    exactly, and ``since`` <= at < ``until``."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> Select:
        query = select(AuditEvent)
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor.strip())
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action.strip(), autoescape=True))
        if self.outcome:
            query = query.where(AuditEvent.outcome == self.outcome)
        if self.since:
            query = query.where(AuditEvent.at >= as_utc(self.since))
        if self.until:
            query = query.where(AuditEvent.at < as_utc(self.until))
        return query


def events(session: Session, filters: Filters, limit: int, before: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """A page of events, newest first, and the cursor of the next (older) page, or None when this is the last.

    ``before`` is a cursor from an earlier page: only events older than it.
    """
    query = filters.query()
    if before is not None:
        query = query.where(AuditEvent.id < before)
    found = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    page = found[:limit]
    return page, (page[-1].id if len(found) > limit else None)


def as_dict(event: AuditEvent) -> dict:
    """One event as a SIEM reads it: ``at`` in ISO 8601 UTC."""
    return {
        "at": as_utc(event.at).isoformat().replace("+00:00", "Z"),
        "actor": event.actor,
        "via": event.via,
        "address": event.address,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "details": event.details or {},
    }


def export_lines(session: Session, filters: Filters) -> Iterator[str]:
    """Every matching event, oldest first, one JSON object a line; read from the database in batches."""
    query = filters.query().order_by(AuditEvent.id).execution_options(yield_per=EXPORT_BATCH)
    for event in session.scalars(query):
        yield json.dumps(as_dict(event), ensure_ascii=False) + "\n"
