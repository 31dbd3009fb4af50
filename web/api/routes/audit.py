"""The audit log, read back by admins: who did what, newest first, filtered and a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query

from enclave import audit

from ..deps import AdminUser, DbSession
from ..schemas import AuditEventOut, AuditPage

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_events(
    _: AdminUser,
    db: DbSession,
    actor: str | None = Query(None, max_length=320, description="Only this actor (an e-mail), exactly."),
    action: str | None = Query(None, max_length=64, description="Only actions starting with this, e.g. `user.`."),
    outcome: Literal["ok", "denied", "failed"] | None = Query(None),
    since: datetime | None = Query(None, description="From this time on (ISO 8601; UTC when no zone is given)."),
    until: datetime | None = Query(None, description="Before this time."),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the previous page."),
):
    """Admins: audit events, newest first. Nothing here can change or delete one."""
    filters = audit.Filters(actor=actor, action=action, outcome=outcome, since=since, until=until)
    found, next_id = audit.events(db, filters, limit, before=int(cursor) if cursor else None)
    return AuditPage(items=[AuditEventOut.model_validate(e) for e in found],
                     next_cursor=None if next_id is None else str(next_id))  # fmt: skip
