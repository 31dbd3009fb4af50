"""Work a web replica hands to the workers through the database: uploaded files to index.

A web replica started with ``--role web`` never indexes: it stores the upload as
a queued job and answers with the job's id at once; any worker claims the job
(exactly one, with an owner and a lease renewed while it runs), indexes the file
through the ingestion sink and records the outcome, which ``GET /api/v1/jobs/ID``
shows on every replica. A job whose worker died is claimed again once its lease
has run out; indexing the same upload twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.access import Access
from assistant.db.models import Job, utcnow
from assistant.errors import NotFoundError
from ingest.documents import SourceDocument
from ingest.index import document_id

from .leases import Heartbeat, owner
from .runtime import Runtime
from .sink import IndexResult
from .uploads import UPLOADS, as_upload

log = logging.getLogger("enclave.jobs")

UPLOAD = "upload"
POLL_SECONDS = 1.0


def queue_upload(sessions: sessionmaker[Session], item: SourceDocument, created_by: str | None) -> int:
    """Queue an uploaded file for a worker to index; returns the job's id."""
    payload = {"filename": item.filename, "content_type": item.mime_type, "access": item.access.to_dict()}
    with sessions() as session:
        job = Job(kind=UPLOAD, status="queued", payload=payload, content=item.content, created_by=created_by)
        session.add(job)
        session.commit()
        return job.id


def get(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFoundError("job not found")
        return job


def _claimable(now):
    return or_(Job.status == "queued", (Job.status == "running") & (Job.lease_until < now))


class JobRunner:
    """Claims queued jobs one at a time and runs them (a worker's job loop)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.lease = timedelta(seconds=runtime.settings.sync_lease_seconds)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ran = self.run_next()
            except Exception:  # the database is away for a moment: try again shortly
                log.exception("the job loop failed; trying again")
                ran = False
            if not ran:
                self._stopping.wait(POLL_SECONDS)

    def run_next(self) -> bool:
        """Claim the oldest job that is free and run it; False when there was none."""
        claimant = owner()
        job = self._claim(claimant)
        if job is None:
            return False
        payload = job.payload
        item = as_upload(payload["filename"], job.content or b"", payload["content_type"],
                         Access.from_dict(payload["access"]))  # fmt: skip
        with Heartbeat(lambda: self._renew(job.id, claimant), self.lease.total_seconds() / 3, f"job {job.id}"):
            try:
                result = self.runtime.sink.index(UPLOADS, item)
            except Exception as error:  # a bug: the job fails visibly, the worker lives on
                log.exception("job %s failed", job.id)
                reason = f"unexpected error: {type(error).__name__}: {error}"
                result = IndexResult("failed", document_id(UPLOADS.id, item.external_id), reason=reason)
        self._finish(job.id, claimant, result)
        return True

    def _claim(self, claimant: str) -> Job | None:
        now = utcnow()
        with self.runtime.sessions() as session:
            candidates = session.scalars(select(Job.id).where(_claimable(now)).order_by(Job.id).limit(10)).all()
            for job_id in candidates:
                claimed = session.execute(
                    update(Job)
                    .where(Job.id == job_id, _claimable(now))
                    .values(status="running", owner=claimant, lease_until=now + self.lease, started_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                session.commit()
                if claimed:
                    return session.get(Job, job_id)
        return None

    def _renew(self, job_id: int, claimant: str) -> bool:
        with self.runtime.sessions() as session:
            renewed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.owner == claimant, Job.status == "running")
                .values(lease_until=utcnow() + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
            return bool(renewed)

    def _finish(self, job_id: int, claimant: str, result: IndexResult) -> None:
        outcome = {"outcome": result.outcome, "document_id": result.document_id, "chunks": result.chunks}
        with self.runtime.sessions() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.owner == claimant)
                .values(status="failed" if result.outcome == "failed" else "done", result=outcome,
                        error=result.reason, content=None, owner=None, lease_until=None, finished_at=utcnow())
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            session.commit()
