"""Admins connect sources, test them, sync them and watch their runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from assistant.db.models import ConnectorRecord
from assistant.secrets import SecretBox
from enclave.sources import service
from enclave.sources.configs import updated

from ..deps import AdminUser, AuditActor, DbSession, RuntimeDep
from ..schemas import (
    ConnectorCreate,
    ConnectorOut,
    ConnectorTest,
    ConnectorTestChanges,
    ConnectorType,
    ConnectorUpdate,
    Problem,
    RowId,
    SyncRequest,
    SyncRunOut,
    TestOutcome,
)

router = APIRouter(prefix="/api/v1/connectors", tags=["connectors"])
ERRORS = {400: {"model": Problem}, 404: {"model": Problem}}


def _wake_scheduler(request: Request) -> None:
    """Start what was asked for now where this process syncs too (role all); workers see it within seconds."""
    if request.app.state.scheduler is not None:
        request.app.state.scheduler.wake()


@router.get("/types", response_model=list[ConnectorType])
def connector_types(_: AdminUser):
    """The kinds of source Enclave can connect, with the fields each needs and help on each."""
    return service.types()


@router.get("", response_model=list[ConnectorOut])
def list_connectors(_: AdminUser, db: DbSession, runtime: RuntimeDep):
    """Every connector with its state, the latest sync's progress, and when it syncs next."""
    return [service.describe(db, record, runtime.documents) for record in service.records(db)]


@router.post("", response_model=ConnectorOut, status_code=201, responses=ERRORS)
def create_connector(body: ConnectorCreate, request: Request, _: AdminUser, actor: AuditActor, db: DbSession,
                     runtime: RuntimeDep):
    """Connect a source. Its first sync starts at once."""
    record = service.create(runtime, body.type, body.name, body.config, body.schedule_minutes, actor=actor)
    _wake_scheduler(request)  # a new connector is due at once
    return service.describe(db, db.get(ConnectorRecord, record.id), runtime.documents)


@router.post("/test", response_model=TestOutcome)
async def test_new_connector(body: ConnectorTest, _: AdminUser):
    """Try settings before saving them: a real sign-in and a real call to the source."""
    return await run_in_threadpool(service.try_connection, body.type, body.config)


@router.get("/{connector_id}", response_model=ConnectorOut, responses=ERRORS)
def get_connector(connector_id: RowId, _: AdminUser, db: DbSession, runtime: RuntimeDep):
    """One connector with its state, its latest sync's progress and its document count."""
    return service.describe(db, service.get(db, connector_id), runtime.documents)


@router.patch("/{connector_id}", response_model=ConnectorOut, responses=ERRORS)
def update_connector(connector_id: RowId, body: ConnectorUpdate, _: AdminUser, actor: AuditActor, db: DbSession,
                     runtime: RuntimeDep):
    """Rename, re-configure, re-schedule, pause or resume a connector."""
    service.change(runtime, connector_id, actor=actor, **body.model_dump(exclude_unset=True))
    return service.describe(db, db.get(ConnectorRecord, connector_id), runtime.documents)


@router.delete("/{connector_id}", status_code=204, responses=ERRORS)
async def delete_connector(connector_id: RowId, _: AdminUser, actor: AuditActor, runtime: RuntimeDep):
    """Delete a connector and remove every document it indexed."""
    await run_in_threadpool(service.remove, runtime, connector_id, actor)


@router.post("/{connector_id}/test", response_model=TestOutcome, responses=ERRORS)
async def test_connector(
    connector_id: RowId, _: AdminUser, db: DbSession, runtime: RuntimeDep, body: ConnectorTestChanges | None = None
):
    """Check a saved connector's credentials and reach; with ``config``, as it would be after those
    changes (nothing is saved; secrets sent as ******** or left out keep their stored values)."""
    record = service.get(db, connector_id)
    if body is not None and body.config:
        try:
            config = updated(record.type, record.config, body.config, SecretBox(runtime.settings))
        except ValidationError as error:
            return TestOutcome(ok=False, message=service.readable(error))
    else:
        config = service.unsealed(runtime, record)
    return await run_in_threadpool(service.try_connection, record.type, config)


@router.post("/{connector_id}/sync", status_code=202, responses=ERRORS)
def sync_connector(connector_id: RowId, request: Request, _: AdminUser, actor: AuditActor, db: DbSession,
                   runtime: RuntimeDep, body: SyncRequest | None = None):
    """Sync now (changes only, or everything with ``full``); follow it with GET …/runs."""
    full = bool(body and body.full)
    service.sync_started(runtime, actor, connector_id, full)
    service.request_sync(db, connector_id, full=full)
    _wake_scheduler(request)
    return {"queued": True}


@router.get("/{connector_id}/runs", response_model=list[SyncRunOut], responses=ERRORS)
def list_runs(connector_id: RowId, _: AdminUser, db: DbSession, limit: int = 20):
    """The latest syncs, newest first, with their counts, error and log."""
    return service.runs(db, connector_id, min(limit, 100))
