"""Documents: upload and manage (admins), open the original of a citation (anyone allowed to see it)."""

from __future__ import annotations

import mimetypes
from pathlib import PurePath
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from assistant.access import Access
from assistant.db.models import Document
from connectors.models import SourceDocument
from ingest.index import Source, document_id
from ingest.parse import ParseError

from ..deps import AdminUser, DbSession, RuntimeDep, ViewerDep
from ..schemas import DocumentOut, DocumentPage, Problem, UploadResult

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
UPLOADS = Source(id="upload", type="upload")
NOT_FOUND = {404: {"model": Problem}}
# The original is served from Enclave's own origin: a document must never run script there.
SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@router.post("", response_model=list[UploadResult], responses={413: {"model": Problem}})
async def upload(
    _: AdminUser,
    runtime: RuntimeDep,
    files: list[UploadFile] = File(description="One or more files (PDF, DOCX, PPTX, XLSX, HTML, Markdown, text, EML, CSV)."),
    groups: str | None = Form(None, description="Comma-separated groups allowed to see them (default: everyone)."),
):
    """Admins: index uploaded files. Each file gets its own status; one bad file never stops the rest."""
    access = Access.restricted(groups=groups.split(",")) if groups and groups.strip() else Access.everyone()
    limit = runtime.settings.max_upload_mb * 2**20
    results = []
    for upload_file in files:
        results.append(await _index_upload(runtime, upload_file, access, limit))
    return results


async def _index_upload(runtime, upload_file: UploadFile, access: Access, limit: int) -> UploadResult:
    name = PurePath(upload_file.filename or "unnamed").name or "unnamed"
    content = await upload_file.read(limit + 1)
    if len(content) > limit:
        return UploadResult(filename=name, status="failed", error=f"larger than the {limit // 2**20} MB limit")
    doc_id = document_id(UPLOADS.id, name)
    item = SourceDocument(
        external_id=name,
        title=name,
        uri=f"/api/v1/documents/{doc_id}/content",
        content=content,
        filename=name,
        mime_type=upload_file.content_type if upload_file.content_type != "application/octet-stream" else None,
        access=access,
    )
    try:
        result = await run_in_threadpool(runtime.indexer.index, UPLOADS, item)
    except ParseError as error:
        await run_in_threadpool(runtime.indexer.record_failure, UPLOADS, name, name, str(error))
        return UploadResult(filename=name, status="failed", error=str(error))
    return UploadResult(filename=name, status=result.outcome, document_id=result.document_id, chunks=result.chunks)


@router.get("", response_model=DocumentPage)
def list_documents(
    _: AdminUser,
    db: DbSession,
    source: str | None = Query(None, description="Only this source: files, upload, or connector-<id>."),
    q: str | None = Query(None, max_length=255, description="Filter by title."),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
):
    """Admins: indexed documents, newest first, a page at a time."""
    query = select(Document)
    if source:
        query = query.where(Document.source == source)
    if q:
        query = query.where(Document.title.ilike(f"%{q}%"))
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    items = db.scalars(query.order_by(Document.indexed_at.desc()).offset((page - 1) * page_size).limit(page_size)).all()
    return DocumentPage(items=[DocumentOut.model_validate(d, from_attributes=True) for d in items], total=total,
                        page=page, page_size=page_size)


@router.get("/{doc_id}", response_model=DocumentOut, responses=NOT_FOUND)
def get_document(doc_id: str, _: AdminUser, db: DbSession):
    """Admins: one document's record."""
    return DocumentOut.model_validate(_document(db, doc_id), from_attributes=True)


@router.delete("/{doc_id}", status_code=204, responses=NOT_FOUND)
async def delete_document(doc_id: str, _: AdminUser, db: DbSession, runtime: RuntimeDep):
    """Admins: remove a document and its chunks from the index."""
    _document(db, doc_id)
    await run_in_threadpool(runtime.indexer.remove_documents, [doc_id])


@router.get("/{doc_id}/content", responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}})
def document_content(doc_id: str, viewer: ViewerDep, db: DbSession, runtime: RuntimeDep):
    """The original file, for anyone allowed to see the document (others get 404)."""
    document = db.get(Document, doc_id)
    if document is None or not Access.from_dict(document.access).allows(viewer) or not document.blob:
        raise HTTPException(404, "document not found")
    try:
        content = runtime.blobs.read(document.blob)
    except FileNotFoundError as error:
        raise HTTPException(404, "the original of this document is no longer stored") from error
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


def _document(db, doc_id: str) -> Document:
    document = db.get(Document, doc_id)
    if document is None:
        raise HTTPException(404, "document not found")
    return document
