"""Work queued for the workers (uploads accepted by a web replica), visible from every replica."""

from __future__ import annotations

from fastapi import APIRouter

from enclave import jobs

from ..deps import AdminUser, RuntimeDep
from ..schemas import JobOut, Problem, RowId

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut, responses={404: {"model": Problem}})
def get_job(job_id: RowId, _: AdminUser, runtime: RuntimeDep):
    """Admins: a queued upload's progress: queued, running (a worker indexes it), done or failed, with the outcome."""
    job = jobs.get(runtime.sessions, job_id)
    result = job.result or {}
    return JobOut(
        id=job.id, kind=job.kind, status=job.status, filename=job.payload.get("filename"),
        outcome=result.get("outcome"), document_id=result.get("document_id"), chunks=result.get("chunks") or 0,
        error=job.error, created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip
