"""The application database's tables (SQLAlchemy 2 declarative models).

Every change here needs a migration in ``assistant/db/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON, datetime: DateTime(timezone=True)}


class Document(Base):
    """One indexed document; its chunks live in the vector store under the same id."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    source_type: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    uri: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer, default=0)
    access: Mapped[dict] = mapped_column(default=dict)
    details: Mapped[dict] = mapped_column(default=dict)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    blob: Mapped[str | None] = mapped_column(String(64))
    modified_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class IngestFailure(Base):
    """An item that could not be indexed, with the reason; removed once it indexes."""

    __tablename__ = "ingest_failures"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person. ``auth_method`` says who vouches for them: Enclave's own password ("local"), an OpenID
    provider ("oidc", ``subject`` its stable id) or an LDAP directory ("ldap", ``subject`` the entry's DN).
    For directory people, ``groups`` is what the directory said at ``groups_synced_at``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "admin" or "employee"
    groups: Mapped[list] = mapped_column(default=list)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    auth_method: Mapped[str] = mapped_column(String(16), default="local")
    subject: Mapped[str | None] = mapped_column(String(512), index=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    groups_synced_at: Mapped[datetime | None]
    groups_sync_error: Mapped[str | None] = mapped_column(Text)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ApiKey(Base):
    """A key for internal tools; only its hash is stored. It acts as its user."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(default=lambda: ["search", "ask", "admin"])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class BrowserSession(Base):
    """A logged-in browser; the cookie holds a token whose hash is the id."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class AuditEvent(Base):
    """One thing someone did, or tried to: append-only (nothing updates or deletes these rows)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(320), index=True)  # an e-mail, or None for Enclave itself
    via: Mapped[str] = mapped_column(String(32))  # password, oidc, ldap, api_key:<id>, session, cli, system
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. sign_in, key.created, document.deleted
    target: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, denied, failed
    details: Mapped[dict] = mapped_column(default=dict)


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


# The database refuses too (triggers, migration 0008); these catch the mistake in Enclave's own code first,
# with a clear message, whichever way the ORM was asked.
@event.listens_for(Session, "before_flush")
def _no_changed_audit_events(session: Session, _context, _instances) -> None:
    changed = [o for o in session.dirty if isinstance(o, AuditEvent) and session.is_modified(o)]
    if changed or any(isinstance(o, AuditEvent) for o in session.deleted):
        raise AuditLogIsAppendOnly("audit events are never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_audit_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AuditLogIsAppendOnly("audit events are never changed or deleted")


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        order_by="Message.created_at", cascade="all, delete-orphan", passive_deletes=True
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(default=list)
    # For answers: how they were made (rag.Assistant._provenance), so they can be explained and replayed.
    provenance: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[str] = mapped_column(String(8))  # "up" or "down"
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorRecord(Base):
    """A configured source. Its secrets are sealed in ``config``; ``checkpoint`` is where its next sync resumes."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict] = mapped_column(default=dict)
    schedule_minutes: Mapped[int] = mapped_column(Integer, default=15)
    paused: Mapped[bool] = mapped_column(default=False)
    checkpoint: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sync_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Who is syncing it now, and until when the claim holds without renewal.
    sync_owner: Mapped[str | None] = mapped_column(String(255))
    sync_lease_until: Mapped[datetime | None]
    # "Sync now" asked for (by any web replica or the CLI) and not yet started; the worker that claims it clears it.
    sync_requested_at: Mapped[datetime | None]
    sync_requested_full: Mapped[bool] = mapped_column(default=False)

    @property
    def source_id(self) -> str:
        return f"connector-{self.id}"


class SyncRun(Base):
    """One sync of a connector: live progress while it runs, the outcome and a log after."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    # running, succeeded, warning (done, but parts were skipped or the counts need a look), failed, deferred
    status: Mapped[str] = mapped_column(String(16), default="running")
    full: Mapped[bool] = mapped_column(default=False)
    phase: Mapped[str] = mapped_column(String(64), default="starting")
    seen: Mapped[int] = mapped_column(Integer, default=0)
    indexed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # parts of the source the account may not read
    warnings: Mapped[list] = mapped_column(default=list)
    held: Mapped[int | None]  # documents the index holds for the source once the run ended
    error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Job(Base):
    """Work a web replica hands to the workers (an upload to index): queued, running, done or failed.

    A worker claims a queued job, or a running one whose claim expired (its worker died), with an
    owner and a lease; ``content`` holds the upload until it is indexed, ``result`` says how it went.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "upload"
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    payload: Mapped[dict] = mapped_column(default=dict)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(320))
    owner: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class TaskLease(Base):
    """A periodic task of the workers (group sync, the daily backup): who runs it now, and when it is due next,
    so several workers run each once."""

    __tablename__ = "task_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]


class SpentSignInState(Base):
    """An OpenID Connect sign-in that finished: its state (hashed) is refused when it comes back again,
    on whichever replica it arrives."""

    __tablename__ = "spent_sign_in_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
