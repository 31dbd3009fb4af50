"""Asking questions (with conversations) and searching the index."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assistant.access import Viewer
from assistant.db.models import Conversation, Message, User, utcnow
from assistant.errors import NotFoundError
from assistant.llm import ChatMessage
from assistant.rag import Answer, Progress, Token, snippet
from enclave.conversations import withheld_answers
from enclave.runtime import Runtime

from ...answering import Answering
from ..deps import AnsweringDep, AskingUser, DbSession, RuntimeDep, SearchingUser, ViewerDep
from ..schemas import AskDebug, AskRequest, AskResponse, Problem, SearchHit

router = APIRouter(prefix="/api/v1", tags=["ask"])

TITLE_CHARS = 80
SSE_DESCRIPTION = (
    "With `stream: true` or `Accept: text/event-stream`: Server-Sent Events — `status` events "
    '(`{"text": …}`, what the answering is doing now: searching, writing, checking), `token` events '
    '(`{"text": …}`), then one `sources` event (the AskResponse fields), then `done`; '
    "an `error` event if generation fails. Only the checked answer streams, never a draft its check may "
    "still replace; the `answer` in `sources` is that same text."
)


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": SSE_DESCRIPTION},
        404: {"model": Problem},
        503: {"model": Problem, "description": "The model's queue is full; see Retry-After."},
    },
)
async def ask(body: AskRequest, request: Request, user: AskingUser, viewer: ViewerDep, db: DbSession,
              answering: AnsweringDep, runtime: RuntimeDep):
    """Answer a question from the documents the caller may see, citing them as [n]."""
    conversation = _conversation_for(db, user, body)
    # An earlier answer from a document the caller may no longer read must not reach the model again.
    withheld = withheld_answers(conversation.messages, viewer, runtime.documents)
    history = [ChatMessage(m.role, m.content) for m in conversation.messages if m.id not in withheld]
    # Waiting for the model can take minutes: hand the database connection back first, or a queue of
    # waiting questions uses up the pool and every request, the event loop's included, stalls on it.
    db.close()
    wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
    if not wants_stream:
        answer = await answering.answer(user.email, body.question, viewer, history, body.k, request)
        message_id = _save_answer(runtime, conversation.id, answer)
        return _response(answer, conversation.id, message_id, body.debug)

    answering.check_capacity()

    async def events() -> AsyncIterator[str]:
        try:
            async for event in answering.stream(user.email, body.question, viewer, history, body.k):
                if isinstance(event, Progress):
                    yield _sse("status", {"text": event.text})
                elif isinstance(event, Token):
                    yield _sse("token", {"text": event.text})
                else:
                    message_id = _save_answer(runtime, conversation.id, event)
                    yield _sse("sources", _response(event, conversation.id, message_id, body.debug).model_dump(exclude_none=True))
            yield _sse("done", {})
        except Exception as error:  # the stream has started: the error must travel as an event
            yield _sse("error", {"detail": f"generation failed: {error}"})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/search", response_model=list[SearchHit])
async def search(
    _: SearchingUser,
    viewer: ViewerDep,
    answering: AnsweringDep,
    q: str = Query(min_length=1, max_length=4000, description="What to look for."),
    k: int = Query(5, ge=1, le=50, description="How many chunks."),
):
    """The chunks that best match ``q`` among the documents the caller may see."""
    # In a worker thread: the first search may wait for the embedding model to finish loading.
    return await run_in_threadpool(search_hits, answering, q, viewer, k)


def search_hits(answering: Answering, q: str, viewer: Viewer, k: int) -> list[SearchHit]:
    """Search for the REST API, the MCP tool and the admin's search-as-a-person alike."""
    hits = answering.assistant().search(q, viewer, k)
    return [
        SearchHit(
            document_id=h.origin.document_id,
            chunk_id=h.chunk_id,
            title=h.origin.title,
            uri=h.origin.uri,
            source_type=h.origin.source_type,
            page=h.page,
            snippet=snippet(h.text),
            score=round(h.score, 4),
        )
        for h in hits
    ]


def _conversation_for(db: Session, user: User, body: AskRequest) -> Conversation:
    if body.conversation_id:
        conversation = db.get(Conversation, body.conversation_id)
        # Someone else's conversation is "not found": its existence is not revealed.
        if conversation is None or conversation.user_id != user.id:
            raise NotFoundError("conversation not found")
        return conversation
    title = " ".join(body.question.split())
    conversation = Conversation(
        id=str(uuid.uuid4()),
        user_id=user.id,
        title=title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…",
    )
    db.add(conversation)
    db.commit()
    return conversation


def _save_answer(runtime: Runtime, conversation_id: str, answer: Answer) -> str:
    with runtime.sessions() as session:
        return _save_exchange(session, session.get(Conversation, conversation_id), answer)


def _save_exchange(db: Session, conversation: Conversation, answer: Answer) -> str:
    message_id = str(uuid.uuid4())
    asked = utcnow()
    db.add(
        Message(id=str(uuid.uuid4()), conversation_id=conversation.id, role="user", content=answer.question, created_at=asked)
    )
    db.add(
        Message(
            id=message_id,
            conversation_id=conversation.id,
            role="assistant",
            content=answer.text,
            sources=[s.to_dict() for s in answer.sources],
            provenance=answer.provenance,
            # Strictly after the question, so the two never swap places when sorted.
            created_at=asked + timedelta(microseconds=1),
        )
    )
    conversation.updated_at = asked
    db.commit()
    return message_id


def _response(answer: Answer, conversation_id: str, message_id: str, debug: bool) -> AskResponse:
    return AskResponse(
        answer=answer.text,
        sources=[c.to_dict() for c in answer.sources],
        conversation_id=conversation_id,
        message_id=message_id,
        found_nothing=answer.found_nothing,
        outcome=answer.outcome,
        debug=AskDebug(standalone_question=answer.standalone_question, search_query=answer.search_query)
        if debug
        else None,
    )


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
