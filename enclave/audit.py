"""The audit log: who did what, when, from where, through which sign-in, and how it ended.

Rows are only ever added. ``record`` is the one way to write one; web routes,
the CLI, the sync engine and the directory sync all call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from assistant.db.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a person's e-mail (None for Enclave itself), how they signed in (password, oidc, ldap,
    api_key:<id>, cli, system) and the address the request came from."""

    email: str | None
    via: str
    address: str | None = None


SYSTEM = Actor(None, "system")


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
        actor=actor.email, via=actor.via, address=actor.address, action=action, target=target,
        outcome=outcome, details=details,
    )  # fmt: skip
    session.add(event)
    return event
