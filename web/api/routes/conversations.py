"""A user's own conversations, and feedback on answers. Other users' are 404, never 403."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.db.models import Conversation, Feedback, Message, User
from assistant.errors import NotFoundError
from enclave.conversations import WITHHELD_ANSWER, withheld_answers

from ..deps import AdminUser, CurrentUser, DbSession, RuntimeDep, ViewerDep
from ..schemas import (
    ConversationOut,
    ConversationSummary,
    ConversationUpdate,
    FeedbackIn,
    FeedbackOut,
    MessageOut,
    Problem,
)

router = APIRouter(prefix="/api/v1", tags=["conversations"])
NOT_FOUND = {404: {"model": Problem}}


def own_conversation(db: Session, user: User, conversation_id: str) -> Conversation:
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user.id:
        raise NotFoundError("conversation not found")
    return conversation


@router.get("/conversations", response_model=list[ConversationSummary])
def list_conversations(
    user: CurrentUser, db: DbSession, q: str | None = Query(None, max_length=255, description="Filter by title.")
):
    """Your conversations, most recent first."""
    query = select(Conversation).where(Conversation.user_id == user.id)
    if q:
        query = query.where(Conversation.title.ilike(f"%{q}%"))
    return db.scalars(query.order_by(Conversation.updated_at.desc())).all()


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=NOT_FOUND)
def get_conversation(conversation_id: str, user: CurrentUser, viewer: ViewerDep, db: DbSession, runtime: RuntimeDep):
    """One of your conversations with its messages, and your rating of each answer. An answer made from a
    document you may no longer read is withheld: its text says so, with no sources or provenance."""
    conversation = own_conversation(db, user, conversation_id)
    withheld = withheld_answers(conversation.messages, viewer, runtime.documents)
    ratings = dict(
        db.execute(
            select(Feedback.message_id, Feedback.rating)
            .join(Message)
            .where(Message.conversation_id == conversation.id, Feedback.user_id == user.id)
        ).all()
    )
    messages = [
        MessageOut(
            id=m.id,
            role=m.role,
            content=WITHHELD_ANSWER if m.id in withheld else m.content,
            sources=[] if m.id in withheld else m.sources,
            provenance=None if m.id in withheld else m.provenance,
            created_at=m.created_at,
            rating=ratings.get(m.id),
        )
        for m in conversation.messages
    ]
    return ConversationOut(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=messages,
    )


@router.patch("/conversations/{conversation_id}", response_model=ConversationSummary, responses=NOT_FOUND)
def rename_conversation(conversation_id: str, body: ConversationUpdate, user: CurrentUser, db: DbSession):
    """Rename one of your conversations."""
    conversation = own_conversation(db, user, conversation_id)
    conversation.title = body.title.strip() or conversation.title
    db.commit()
    return conversation


@router.delete("/conversations/{conversation_id}", status_code=204, responses=NOT_FOUND)
def delete_conversation(conversation_id: str, user: CurrentUser, db: DbSession):
    """Delete one of your conversations and its messages."""
    db.delete(own_conversation(db, user, conversation_id))
    db.commit()


@router.post("/messages/{message_id}/feedback", status_code=204, responses=NOT_FOUND)
def give_feedback(message_id: str, body: FeedbackIn, user: CurrentUser, db: DbSession):
    """Rate one of your answers up or down, with an optional comment (rating again replaces it)."""
    message = db.get(Message, message_id)
    if message is None or message.role != "assistant":
        raise NotFoundError("message not found")
    own_conversation(db, user, message.conversation_id)
    feedback = db.scalar(select(Feedback).where(Feedback.message_id == message_id, Feedback.user_id == user.id))
    if feedback is None:
        feedback = Feedback(message_id=message_id, user_id=user.id)
        db.add(feedback)
    feedback.rating, feedback.comment = body.rating, (body.comment or "").strip() or None
    db.commit()


@router.get("/feedback", response_model=list[FeedbackOut])
def list_feedback(
    _: AdminUser,
    db: DbSession,
    rating: str | None = Query(None, pattern="^(up|down)$", description="Only this rating."),
    limit: int = Query(100, ge=1, le=1000),
):
    """Admins: rated answers, newest first, with the question, answer, sources and comment."""
    query = select(Feedback, Message, User).join(Message, Feedback.message_id == Message.id).join(User)
    if rating:
        query = query.where(Feedback.rating == rating)
    rows = db.execute(query.order_by(Feedback.created_at.desc()).limit(limit)).all()
    return [_feedback_out(db, feedback, message, user) for feedback, message, user in rows]


def _feedback_out(db: Session, feedback: Feedback, message: Message, user: User) -> FeedbackOut:
    question = db.scalar(
        select(Message.content)
        .where(Message.conversation_id == message.conversation_id, Message.role == "user", Message.created_at < message.created_at)
        .order_by(Message.created_at.desc())
        .limit(1)
    )
    return FeedbackOut(
        id=feedback.id,
        rating=feedback.rating,
        comment=feedback.comment,
        created_at=feedback.created_at,
        user_email=user.email,
        message_id=message.id,
        question=question or "",
        answer=message.content,
        sources=message.sources,
        provenance=message.provenance,
    )
