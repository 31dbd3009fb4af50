"""Liveness, readiness and metrics: open to probes, as monitoring systems expect (except metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from assistant import egress
from enclave.sources import service

from ..deps import AdminUser, RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz():
    """The process is alive (it answers even while a long answer streams)."""
    # async: answered on the event loop itself, never queued behind busy worker threads.
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, runtime: RuntimeDep):
    """Ready to answer: both models are loaded and the database and vector store respond (503 otherwise)."""
    loading = request.app.state.loading
    checks = {
        "model": "loaded" if runtime.llm_loaded else loading["model"],
        "embedding_model": "loaded" if runtime.embedder_loaded else loading["embedding_model"],
    }
    for name, probe in (("database", lambda: _ping_database(runtime)), ("vector_store", runtime.store.ping)):
        try:
            await run_in_threadpool(probe)
            checks[name] = "ok"
        except Exception as error:  # any failure means not ready; say which
            checks[name] = f"error: {error}"
    ready = all(state in ("loaded", "ok") for state in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, runtime: RuntimeDep, _: AdminUser):
    """Prometheus metrics (admins or an admin's API key)."""
    collected = request.app.state.metrics
    documents, chunks = await run_in_threadpool(_index_size, runtime)
    collected.documents.set(documents)
    collected.chunks.set(chunks)
    collected.egress_refused.set(egress.GUARD.refused_total)
    collected.connector_last_sync.clear()
    for name, status in await run_in_threadpool(_latest_sync_statuses, runtime):
        collected.connector_last_sync.labels(connector=name, status=status).set(1)
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)


def _ping_database(runtime) -> None:
    with runtime.sessions() as session:
        session.execute(text("SELECT 1"))


def _latest_sync_statuses(runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        latest = ((record.name, service.latest_run(session, record.id)) for record in service.records(session))
        return [(name, run.status) for name, run in latest if run is not None]


def _index_size(runtime) -> tuple[int, int]:
    return runtime.documents.count(), runtime.store.count()
