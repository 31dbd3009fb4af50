"""The admin overview, as JSON for the overview page and for monitoring scripts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from assistant import egress
from enclave.identity.groups import directory_health
from enclave.runtime import Runtime
from enclave.sources import service

from ..deps import AdminUser, RuntimeDep
from ..schemas import (
    RECENT_FAILURES,
    BackupState,
    ConnectorCounts,
    DirectoryState,
    EgressState,
    HiddenFor,
    ModelState,
    Overview,
    QueueState,
    RecentFailure,
    SourceSize,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
BUILT_IN_SOURCES = {"files": "Files (enclave ingest)", "upload": "Uploads"}


@router.get("/overview", response_model=Overview)
async def admin_overview(request: Request, _: AdminUser, runtime: RuntimeDep):
    """Admins: documents and chunks per source, the model, the queue, connectors, the latest ingest failures, and
    group sync (who sees only public documents because the directory has not answered, and why)."""
    return await run_in_threadpool(overview, runtime, request.app.state)


def overview(runtime: Runtime, state) -> Overview:
    """``state`` is the app's state: the answering queue and the model's loading status live there."""
    sizes = runtime.documents.sizes()
    with runtime.sessions() as session:
        records = service.records(session)
        health = directory_health(session, runtime.settings)
    names = {r.source_id: r.name for r in records}
    try:
        chunks, store_error = runtime.store.count(), None
    except Exception as error:  # the overview still shows the rest, and names the problem
        chunks, store_error = None, str(error)
    queue = state.answering.queue
    return Overview(
        documents=sum(size.documents for size in sizes),
        chunks=chunks,
        vector_store_error=store_error,
        sources=[
            SourceSize(source=s.source, name=source_name(s.source, names), source_type=s.source_type,
                       documents=s.documents, chunks=s.chunks)
            for s in sizes
        ],  # fmt: skip
        model=ModelState(
            name=runtime.model_name,
            backend=runtime.settings.llm_backend,
            status="loaded" if runtime.llm_loaded else state.loading["model"],
        ),
        queue=QueueState(depth=queue.depth, busy=queue.busy, max_waiting=queue.max_waiting),
        connectors=ConnectorCounts(
            total=len(records), paused=sum(r.paused for r in records), failing=sum(bool(r.last_error) for r in records)
        ),
        failures_total=runtime.documents.failure_count(),
        recent_failures=[
            RecentFailure(
                source=f.source,
                source_name=source_name(f.source, names),
                external_id=f.external_id,
                title=f.title,
                reason=f.reason,
                attempts=f.attempts,
                last_failed_at=f.last_failed_at,
            )
            for f in runtime.documents.failures(limit=RECENT_FAILURES)
        ],
        egress=EgressState(
            guarded=egress.GUARD.installed,
            refused=egress.GUARD.refused_total,
            recent=[f"{r.destination} from {r.origin}" for r in list(egress.GUARD.refusals)[-5:]],
        ),
        directory=DirectoryState(
            directories=health.methods,
            people=health.people,
            last_synced_at=health.last_synced_at,
            failing=health.failing,
            last_error=health.last_error,
            public_only=len(health.public_only),
            public_only_people=[HiddenFor(email=e, reason=r) for e, r in health.public_only[:RECENT_FAILURES]],
        ),
        backups=_backups(state.backups.status()),
    )


def _backups(status) -> BackupState | None:
    if status is None:
        return None
    latest = status.kept[-1].name if status.kept else None
    return BackupState(directory=str(status.directory), kept=len(status.kept), latest=latest, last_error=status.last_error)


def source_name(source: str, connectors: dict[str, str]) -> str:
    """A source as people know it: the connector's name, or what a built-in source is."""
    return connectors.get(source) or BUILT_IN_SOURCES.get(source, source)
