"""What the admin overview shows: the index per source, the model, the queue, connectors, ingest errors."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from assistant.db.models import ConnectorRecord, Document, IngestFailure
from assistant.runtime import Runtime

RECENT_FAILURES = 20
SOURCE_NAMES = {"files": "Files (enclave ingest)", "upload": "Uploads"}


class SourceSize(BaseModel):
    source: str = Field(description="files, upload, or connector-<id>.")
    name: str = Field(description="The connector's name, or what a built-in source is.")
    source_type: str = Field(description="local, upload, sharepoint or salesforce.")
    documents: int
    chunks: int


class ModelState(BaseModel):
    name: str
    backend: str = Field(description="llamacpp or openai.")
    status: str = Field(description="loaded, loading, or error: <why>.")


class QueueState(BaseModel):
    depth: int = Field(description="Questions waiting for the model.")
    busy: bool = Field(description="An answer is being generated now.")
    max_waiting: int


class ConnectorCounts(BaseModel):
    total: int
    paused: int
    failing: int = Field(description="Connectors whose last sync failed.")


class RecentFailure(BaseModel):
    source: str
    source_name: str
    external_id: str
    title: str
    reason: str
    attempts: int
    last_failed_at: datetime


class Overview(BaseModel):
    documents: int
    chunks: int | None = Field(description="Chunks in the vector store; null when it cannot be reached.")
    vector_store_error: str | None
    sources: list[SourceSize]
    model: ModelState
    queue: QueueState
    connectors: ConnectorCounts
    failures_total: int = Field(description="Items that could not be indexed, all sources.")
    recent_failures: list[RecentFailure] = Field(description=f"The latest {RECENT_FAILURES}.")


def compute_overview(runtime: Runtime, state) -> Overview:
    """``state`` is the app's state: the answering queue and the model's loading status live there."""
    with runtime.sessions() as db:
        chunk_sum = func.coalesce(func.sum(Document.chunk_count), 0)
        per_source = db.execute(
            select(Document.source, Document.source_type, func.count(), chunk_sum)
            .group_by(Document.source, Document.source_type)
            .order_by(Document.source)
        ).all()
        records = db.scalars(select(ConnectorRecord)).all()
        names = {r.source_id: r.name for r in records}
        connectors = ConnectorCounts(
            total=len(records), paused=sum(r.paused for r in records), failing=sum(bool(r.last_error) for r in records)
        )
        failures_total = db.scalar(select(func.count()).select_from(IngestFailure)) or 0
        recent = [
            RecentFailure(
                source=f.source,
                source_name=source_name(f.source, names),
                external_id=f.external_id,
                title=f.title,
                reason=f.reason,
                attempts=f.attempts,
                last_failed_at=f.last_failed_at,
            )
            for f in db.scalars(
                select(IngestFailure).order_by(IngestFailure.last_failed_at.desc()).limit(RECENT_FAILURES)
            )
        ]
    try:
        chunks, store_error = runtime.store.count(), None
    except Exception as error:  # the overview still shows the rest, and names the problem
        chunks, store_error = None, str(error)
    queue = state.answering.queue
    return Overview(
        documents=sum(row[2] for row in per_source),
        chunks=chunks,
        vector_store_error=store_error,
        sources=[
            SourceSize(source=source, name=source_name(source, names), source_type=kind, documents=count, chunks=size)
            for source, kind, count, size in per_source
        ],
        model=ModelState(
            name=model_name(runtime),
            backend=runtime.settings.llm_backend,
            status="loaded" if runtime.llm_loaded else state.loading["model"],
        ),
        queue=QueueState(depth=queue.depth, busy=queue.busy, max_waiting=queue.max_waiting),
        connectors=connectors,
        failures_total=failures_total,
        recent_failures=recent,
    )


def source_name(source: str, connectors: dict[str, str]) -> str:
    """A source as people know it: the connector's name, or what a built-in source is."""
    return connectors.get(source) or SOURCE_NAMES.get(source, source)


def model_name(runtime: Runtime) -> str:
    if runtime.llm_loaded:
        return runtime.llm().name
    if runtime.settings.llm_backend == "openai":
        return runtime.model or runtime.settings.model or f"the model served at {runtime.settings.llm_url}"
    from assistant.catalog import default_model_name

    return runtime.model or default_model_name(runtime.settings)
