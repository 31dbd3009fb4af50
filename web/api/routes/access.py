"""Explaining access (admins): why a person may read a document, and searching as that person."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from assistant import accounts
from enclave import permissions

from ..deps import AdminUser, AnsweringDep, DbSession, RuntimeDep
from ..schemas import AccessExplanation, Problem, Reader, SearchHit
from .ask import search_hits

router = APIRouter(prefix="/api/v1/access", tags=["access"])

USER = Query(description="The person's e-mail.")


@router.get("/explain", response_model=AccessExplanation, responses={404: {"model": Problem}})
def explain(
    _: AdminUser, db: DbSession, runtime: RuntimeDep, user: str = USER, document: str = Query(description="A document id.")
):
    """Admins: may this person read this document, why (which group, named, public) or why not, and who else may."""
    found = permissions.explain(db, user, document, accounts.Freshness.from_settings(runtime.settings))
    return AccessExplanation(
        user=user.strip().lower(),
        document_id=document,
        title=found.title,
        allowed=found.allowed,
        because=found.because,
        readers=[Reader(principal=r.principal, people=r.people) for r in found.readers],
    )


@router.get("/search", response_model=list[SearchHit], responses={404: {"model": Problem}})
async def search_as(
    _: AdminUser,
    db: DbSession,
    runtime: RuntimeDep,
    answering: AnsweringDep,
    user: str = USER,
    q: str = Query(min_length=1, max_length=4000, description="What to look for."),
    k: int = Query(10, ge=1, le=50, description="How many chunks."),
):
    """Admins: what this person would find for ``q``: the same search, with their permissions (read-only)."""
    viewer = permissions.viewer_of(db, user, accounts.Freshness.from_settings(runtime.settings))
    return await run_in_threadpool(search_hits, answering, q, viewer, k)
