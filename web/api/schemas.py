"""Request and response bodies of the REST API. They are its documentation (OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, AliasPath, BaseModel, ConfigDict, Field

from assistant.db.models import as_utc

# SQLite hands back times without their zone; they are UTC, and the API says so.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
# A database row's id in a path: bounded like the column, so a huge number is a 422, not a database error.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class Problem(BaseModel):
    detail: str | list = Field(description="What went wrong, in words.")


# Asking and searching


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "How many vacation days do new employees get?", "k": 5}]},
    )

    question: str = Field(min_length=1, max_length=4000, description="The question, in plain words.")
    conversation_id: str | None = Field(None, description="Continue this conversation; omit to start a new one.")
    k: int | None = Field(None, ge=1, le=50, description="Chunks to retrieve (default: the server's top_k).")
    stream: bool = Field(False, description="Answer with Server-Sent Events: token…, sources, done.")
    debug: bool = Field(False, description="Also return how the question was searched (the `debug` field).")


PAGE = "The page (of a PDF) or slide the passage is on; the original opens there at /content#page=N."


class Source(BaseModel):
    n: int = Field(description="The number the answer cites it by, as [n].")
    id: str = Field(description="Document id; GET /api/v1/documents/{id}/content opens the original.")
    chunk_id: str
    title: str
    uri: str = Field(description="Where the document lives: a file path, SharePoint or Salesforce URL.")
    source_type: str = Field(description="local, upload, sharepoint or salesforce.")
    page: int | None = Field(None, description=PAGE)
    snippet: str = Field(description="The passage the answer used, shortened around its quoted sentence.")
    quote: str = Field("", description="The sentence of the passage the answer rests on (the UI highlights it).")
    score: float = Field(description="Cosine similarity of the passage to the question.")


class Provenance(BaseModel):
    """How an answer was made, recorded when it was given; `enclave replay MESSAGE_ID` answers again from it."""

    model: dict | None = Field(description="The model's name and its file's sha256 (null when no model ran).")
    prompt_version: str = Field(description="Version of Enclave's prompts.")
    question: str = Field(description="The question as answered (a follow-up made standalone).")
    retrieved: list[dict] = Field(description="Chunks read for evidence: chunk_id, document_id, cosine score, fused hybrid score.")
    evidence: list[dict] = Field(
        description="Candidate sentences (n, chunk_id, text, score), whether the answer cites each, and check_yes: "
        "the check model's probability that it answers the question (null where it did not read it)."
    )
    drafts: list[str] = Field(description="What the model wrote, attempt by attempt, before the check.")
    verdict: dict = Field(description="The check's findings: the sentence chosen, whether the premise and the answer hold.")
    outcome: Literal["answered", "quoted", "premise_corrected", "not_said", "nothing_found"] = Field(
        description="answered (written and checked), quoted (the draft failed twice: the evidence is quoted), "
        "premise_corrected, not_said, or nothing_found."
    )
    settings: dict = Field(description="The settings that shaped it (top_k, temperature, answer_check, …).")


class AskDebug(BaseModel):
    standalone_question: str = Field(
        description="The question as retrieval understood it: a follow-up rewritten from the conversation "
        "into a question that stands on its own (the question itself when there was no conversation)."
    )
    search_query: str = Field(
        description="The text searched for: the standalone question, led by the previous question when "
        "the follow-up still refers back to it."
    )


class AskResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": "New employees receive 26 vacation days per year [1].",
                    "sources": [
                        {
                            "n": 1,
                            "id": "d3f1…",
                            "chunk_id": "d3f1…:0",
                            "title": "handbook.md",
                            "uri": "file:///srv/docs/handbook.md",
                            "source_type": "local",
                            "snippet": "Time off. New employees receive 26 vacation days…",
                            "score": 0.71,
                        }
                    ],
                    "conversation_id": "6f1c…",
                    "message_id": "a9b2…",
                }
            ]
        }
    )

    answer: str
    sources: list[Source]
    conversation_id: str
    message_id: str
    found_nothing: bool = Field(False, description="True when no document was relevant, so nothing was generated.")
    outcome: str = Field(
        "answered",
        description="answered, quoted (the evidence itself), premise_corrected (the question assumes what the documents "
        "do not say), not_said (the documents do not answer: the closest passages are quoted) or nothing_found.",
    )
    debug: AskDebug | None = Field(None, description="How the question was searched; only when asked for with `debug`.")


class SearchHit(BaseModel):
    document_id: str
    chunk_id: str
    title: str
    uri: str
    source_type: str
    page: int | None = Field(None, description=PAGE)
    snippet: str
    score: float


# Conversations and feedback


class MessageOut(BaseModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    sources: list[Source] = []
    provenance: Provenance | None = Field(None, description="For answers: how it was made.")
    created_at: UtcDatetime
    rating: Literal["up", "down"] | None = None


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ConversationOut(ConversationSummary):
    messages: list[MessageOut]


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=255)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rating": "down", "comment": "Wrong office"}]})

    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=4000)


class FeedbackOut(BaseModel):
    id: int
    rating: Literal["up", "down"]
    comment: str | None
    created_at: UtcDatetime
    user_email: str
    message_id: str
    question: str
    answer: str
    sources: list[Source]
    provenance: Provenance | None = None


# Documents


class ReadReport(BaseModel):
    """How a document's text was read: from its text layer, by OCR, or parsed whole (formats without pages)."""

    format: str = Field(description="pdf, image, docx, pptx, xlsx, html, markdown, text, email or csv.")
    pages: int | None = Field(None, description="Pages of a PDF, or frames of an image.")
    text_pages: int | None = Field(None, description="Pages read from their text layer.")
    ocr_pages: int | None = Field(None, description="Pages read with OCR (scans, images).")
    ocr_confidence: float | None = Field(None, description="Tesseract's mean word confidence on those pages, 0-100.")
    tables: int | None = Field(None, description="Tables found in a PDF, kept as rows and columns.")
    warnings: list[str] = Field([], description="Pages that could not be read, and why; the rest was indexed.")
    revision: int | None = Field(
        None, description="Revision of the format's reader, where it was revised; an older one is read again."
    )


class DocumentOut(BaseModel):
    id: str
    source: str
    source_type: str
    title: str
    uri: str
    mime_type: str | None
    size: int
    chunk_count: int
    access: dict
    modified_at: UtcDatetime | None
    indexed_at: UtcDatetime
    read: ReadReport | None = Field(
        None, validation_alias=AliasPath("details", "read"), description="What was read (null: indexed before it was noted)."
    )


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    page: int
    page_size: int


class Reader(BaseModel):
    principal: str = Field(description="An entry of the document's ACL: everyone, user:<email>, group:<name> or role:admin.")
    people: list[str] = Field(description="The Enclave accounts that read the document through it now.")


class AccessExplanation(BaseModel):
    user: str
    document_id: str
    title: str
    allowed: bool
    because: list[str] = Field(description="Why the person may read it, or why not.")
    readers: list[Reader] = Field(description="Everyone who may read the document, and through what.")


class UploadResult(BaseModel):
    filename: str
    status: Literal["added", "updated", "unchanged", "failed", "queued"]
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None
    job_id: int | None = Field(None, description="On a web replica: the queued job indexing it (GET /api/v1/jobs/ID).")


class JobOut(BaseModel):
    """Work queued for the workers, and how it went."""

    id: int
    kind: Literal["upload"]
    status: Literal["queued", "running", "done", "failed"]
    filename: str | None = Field(None, description="The uploaded file's name.")
    outcome: Literal["added", "updated", "unchanged", "failed"] | None = Field(
        None, description="Once done: what indexing the file did."
    )
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None


# Accounts


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Literal["admin", "employee"]
    groups: list[str]
    must_change_password: bool
    disabled: bool = Field(False, description="A disabled user can neither log in nor use their API keys.")
    created_at: UtcDatetime


class Me(UserOut):
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token on cookie-authenticated changes.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    role: Literal["admin", "employee"] = "employee"
    groups: list[str] = []
    password: str | None = Field(None, description="Omit to generate one, returned once; it must be changed at first login.")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "employee"] | None = None
    groups: list[str] | None = None
    disabled: bool | None = Field(None, description="true: the user's sessions and API keys stop working at once.")
    password: str | None = Field(None, description="A new password; the user must change it at next login.")


class CreatedUser(UserOut):
    password: str | None = Field(None, description="The generated password, shown this once.")


KeyScope = Literal["search", "ask", "admin"]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "helpdesk bot", "scopes": ["ask"], "expires_in_days": 90}]},
    )

    name: str = Field(min_length=1, max_length=255, description="What will use it, e.g. 'helpdesk bot'.")
    user_email: str | None = Field(None, description="Admins only: create it for this user (default: yourself).")
    scopes: list[KeyScope] = Field(
        ["search", "ask", "admin"], min_length=1,
        description="What the key may do: search, ask (ask, chat completions, MCP ask), admin (admin endpoints, "
        "only if its user is an admin). A key never does more than its user may.",
    )  # fmt: skip
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Stop working after this many days (default: never).")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    user_email: str
    scopes: list[KeyScope]
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class CreatedApiKey(ApiKeyOut):
    key: str = Field(description="The key, shown this once. Send it as Authorization: Bearer <key>.")


# Connectors


class ConnectorType(BaseModel):
    type: str
    label: str
    schema_: dict = Field(alias="schema", description="The config's JSON schema: fields, types, defaults and help.")

    model_config = ConfigDict(populate_by_name=True)


class ConnectorCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"type": "local", "name": "Policies share", "config": {"path": "/srv/shared/policies"}}]
        },
    )

    type: str = Field(description="local, sharepoint or salesforce (see GET /api/v1/connectors/types).")
    name: str = Field(min_length=1, max_length=255)
    config: dict = Field(description="The source's settings; see its schema.")
    schedule_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60, description="Minutes between syncs (default 15).")


class ConnectorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    config: dict | None = Field(None, description="Changed settings; a secret sent as ******** (or left out) is kept.")
    schedule_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    paused: bool | None = None


class ConnectorTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    config: dict


class ConnectorTestChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict | None = Field(None, description="Unsaved changes to test with; secrets as ******** keep their stored value.")


class TestOutcome(BaseModel):
    ok: bool
    message: str = Field(description="What worked, or what to fix, in words for an admin.")


class SyncProgress(BaseModel):
    phase: str
    seen: int
    indexed: int
    unchanged: int
    failed: int
    deleted: int
    skipped: int = Field(0, description="Parts of the source (objects, sites, libraries) the account may not read.")


class ConnectorProgress(SyncProgress):
    per_minute: float | None = Field(
        description="Items seen per minute, from the sync's start to its end (or to now while it runs)."
    )


class ConnectorOut(BaseModel):
    id: int
    name: str
    type: str
    label: str
    config: dict = Field(description="Settings, with secrets shown as ********.")
    schedule_minutes: int
    paused: bool
    state: Literal["idle", "syncing", "warning", "error", "paused"]
    progress: ConnectorProgress | None = Field(description="Counts of the latest (or current) sync.")
    warnings: list[str] = Field(description="What the latest sync warns about: parts skipped, counts that do not add up.")
    last_sync_at: UtcDatetime | None
    next_sync_at: UtcDatetime | None
    last_error: str | None
    documents: int


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = Field(False, description="Load everything again instead of only changes.")


class SyncRunOut(SyncProgress):
    id: int
    status: Literal["running", "succeeded", "warning", "failed", "deferred"]
    full: bool
    error: str | None
    warnings: list[str]
    held: int | None = Field(description="Documents the index held for the source once the run ended.")
    log: list[str]
    started_at: UtcDatetime
    finished_at: UtcDatetime | None


# The admin overview

RECENT_FAILURES = 20


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
    last_failed_at: UtcDatetime


class EgressState(BaseModel):
    guarded: bool = Field(description="Whether the egress guard watches this process's connections.")
    refused: int = Field(description="Connections refused since the process started.")
    recent: list[str] = Field(description="The latest refusals: destination, and the code that tried.")


class HiddenFor(BaseModel):
    email: str
    reason: str = Field(description="When their groups were last read, and why they could not be read since.")


class DirectoryState(BaseModel):
    directories: list[str] = Field(description="Where groups are read from: ldap, oidc (Microsoft Graph); empty: none.")
    people: int = Field(description="Enabled people who sign in through a directory.")
    last_synced_at: UtcDatetime | None = Field(description="The latest successful read of someone's groups.")
    failing: int = Field(description="People whose groups could not be read at the last try.")
    last_error: str | None
    public_only: int = Field(description="People shown only public documents now: their groups are too old to trust.")
    public_only_people: list[HiddenFor] = Field(description=f"The first {RECENT_FAILURES} of them, with why.")
class BackupState(BaseModel):
    directory: str = Field(description="Where scheduled backups go (the backup_dir setting).")
    kept: int = Field(description="Complete backups there now.")
    latest: str | None = Field(description="Name of the newest backup, if any.")
    last_error: str | None = Field(description="Why the latest scheduled backup failed; null after a success.")


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
    egress: EgressState
    directory: DirectoryState = Field(description="Group sync: how fresh everyone's groups are.")
    backups: BackupState | None = Field(None, description="Scheduled backups; null when backup_dir is unset.")


# The audit log


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcDatetime
    actor: str | None = Field(description="The person's e-mail (the OS account for the CLI); null for Enclave itself.")
    via: str = Field(description="password, oidc, ldap, session, api_key:<id>, cli or system.")
    address: str | None = Field(description="The client's address (the host's name for the CLI).")
    action: str = Field(description="What was done or tried, e.g. sign_in, user.role_changed, key.created, mcp.ask.")
    target: str | None = Field(description="What it was done to: an e-mail, api_key:<id>, connector:<id>, document:<id>, …")
    outcome: Literal["ok", "denied", "failed"]
    details: dict


class AuditPage(BaseModel):
    items: list[AuditEventOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last.")
