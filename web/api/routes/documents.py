"""Documents: upload and manage (admins), open the original of a citation (anyone allowed to see it).

Uploads, downloads and deletions are audited. A web replica (``enclave serve --role web``) queues each upload
for the workers and answers with its job (``status: queued``, ``job_id``; follow it with GET /api/v1/jobs/ID);
the all-in-one server indexes it at once.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePath
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from assistant.access import Access
from assistant.db.models import Document
from assistant.errors import NotFoundError
from enclave import audit, jobs
from enclave.uploads import UPLOADS, as_upload
from ingest.index import Source

from ..deps import AdminUser, AuditActor, DbSession, RuntimeDep, SearchingUser, ViewerDep
from ..schemas import DocumentOut, DocumentPage, Problem, UploadResult

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
NOT_FOUND = {404: {"model": Problem}}
# The original is served from Enclave's own origin: a document must never run script there.
SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@router.post("", response_model=list[UploadResult], responses={413: {"model": Problem}})
async def upload(
    request: Request,
    admin: AdminUser,
    actor: AuditActor,
    runtime: RuntimeDep,
    files: list[UploadFile] = File(
        description="One or more files (README: Documents Enclave reads), images included; a mail's attachments and a zip's files too."
    ),
    groups: str | None = Form(None, description="Comma-separated groups allowed to see them (default: everyone)."),
):
    """Admins: index uploaded files (or, on a web replica, queue them for a worker: ``queued`` with a
    ``job_id``). Each file gets its own status; one bad file never stops the rest."""
    access = Access.restricted(groups=groups.split(",")) if groups and groups.strip() else Access.everyone()
    limit = runtime.settings.max_upload_mb * 2**20
    queue = request.app.state.role == "web"
    results = []
    for upload_file in files:
        results.append(await _index_upload(runtime, upload_file, access, limit, admin.email if queue else None))
    await run_in_threadpool(_record_uploads, runtime, actor, results, groups)
    return results


def _record_uploads(runtime, actor: audit.Actor, results: list[UploadResult], groups: str | None) -> None:
    with runtime.sessions() as session:
        for result in results:
            target = f"document:{result.document_id}" if result.document_id else None
            audit.record(session, actor, "document.uploaded", target, "failed" if result.status == "failed" else "ok",
                         filename=result.filename, status=result.status, groups=groups or None, error=result.error)  # fmt: skip
        session.commit()


async def _index_upload(runtime, upload_file: UploadFile, access: Access, limit: int, queue_for: str | None
                        ) -> UploadResult:  # fmt: skip
    """Index the file now, or queue it for a worker on behalf of ``queue_for``."""
    content = await upload_file.read(limit + 1)
    item = as_upload(upload_file.filename, content[:limit], upload_file.content_type, access)
    if len(content) > limit:
        reason = f"larger than the {limit // 2**20} MB limit"
        result = await run_in_threadpool(runtime.sink.fail, UPLOADS, item.external_id, item.title, reason)
    elif queue_for is not None:
        job_id = await run_in_threadpool(jobs.queue_upload, runtime.sessions, item, queue_for)
        return UploadResult(filename=item.filename, status="queued", job_id=job_id)
    else:
        result = await run_in_threadpool(runtime.sink.index, UPLOADS, item)
    if result.outcome == "failed":
        return UploadResult(filename=item.filename, status="failed", error=result.reason)
    return UploadResult(filename=item.filename, status=result.outcome, document_id=result.document_id,
                        chunks=result.chunks)  # fmt: skip


@router.get("", response_model=DocumentPage)
def list_documents(
    _: AdminUser,
    runtime: RuntimeDep,
    source: str | None = Query(None, description="Only this source: files, upload, or connector-<id>."),
    q: str | None = Query(None, max_length=255, description="Filter by title."),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=500),
):
    """Admins: indexed documents, newest first, a page at a time."""
    found = runtime.documents.page(source, q, page, page_size)
    return DocumentPage(items=[DocumentOut.model_validate(d, from_attributes=True) for d in found.items],
                        total=found.total, page=page, page_size=page_size)  # fmt: skip


@router.get("/{doc_id}", response_model=DocumentOut, responses=NOT_FOUND)
def get_document(doc_id: str, _: AdminUser, runtime: RuntimeDep):
    """Admins: one document's record."""
    return DocumentOut.model_validate(_document(runtime, doc_id), from_attributes=True)


@router.delete("/{doc_id}", status_code=204, responses=NOT_FOUND)
async def delete_document(doc_id: str, _: AdminUser, actor: AuditActor, runtime: RuntimeDep):
    """Admins: remove a document, its chunks, its original and any failure of its source item from the index."""
    document = await run_in_threadpool(_document, runtime, doc_id)
    source = Source(id=document.source, type=document.source_type)
    await run_in_threadpool(runtime.sink.remove, source, [document.external_id])
    await run_in_threadpool(_record, runtime, actor, "document.deleted", document)


def _record(runtime, actor: audit.Actor, action: str, document: Document) -> None:
    with runtime.sessions() as session:
        audit.record(session, actor, action, f"document:{document.id}", title=document.title, source=document.source)
        session.commit()


@router.get("/{doc_id}/content", responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}})
def document_content(doc_id: str, _: SearchingUser, viewer: ViewerDep, actor: AuditActor, db: DbSession,
                     runtime: RuntimeDep):
    """The original file, for anyone allowed to see the document (others get 404); an API key needs the
    ``search`` scope."""
    document = runtime.documents.get(doc_id)
    if document is None or not Access.from_dict(document.access).allows(viewer) or not document.blob:
        audit.record(db, actor, "document.downloaded", f"document:{doc_id}", "denied", reason="not found or not allowed")
        db.commit()
        raise NotFoundError("document not found")
    try:
        content = runtime.blobs.read(document.blob)
    except FileNotFoundError as error:
        raise NotFoundError("the original of this document is no longer stored") from error
    audit.record(db, actor, "document.downloaded", f"document:{document.id}", title=document.title)
    db.commit()
    filename = PurePath(document.title).name
    media_type = document.mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "Content-Security-Policy": SANDBOX,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _document(runtime, doc_id: str) -> Document:
    document = runtime.documents.get(doc_id)
    if document is None:
        raise NotFoundError("document not found")
    return document
