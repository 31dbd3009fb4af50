"""The two questions auditors ask: why may this person read this document, and who may read it.

Both read what retrieval itself uses (the document's ACL and ``accounts.viewer_for``), so the answer given
here is the answer search gives, fail-closed staleness included.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.access import Access, Viewer
from assistant.db.models import Document, User, as_utc
from assistant.errors import NotFoundError


@dataclass(frozen=True)
class Reader:
    """One entry of a document's ACL (``everyone``, ``user:<email>``, ``group:<name>``, ``role:admin``) and
    the Enclave accounts that read through it now."""

    principal: str
    people: list[str]


@dataclass(frozen=True)
class Explanation:
    title: str
    allowed: bool
    because: list[str]
    readers: list[Reader]


def explain(session: Session, email: str, document_id: str, freshness: accounts.Freshness) -> Explanation:
    """Whether the person ``email`` may read document ``document_id``, why (or why not), and all its readers."""
    user, document = person(session, email), _document(session, document_id)
    access = Access.from_dict(document.access)
    because = _reasons(user, access, freshness)
    allowed = bool(because)
    return Explanation(document.title, allowed, because or _refusals(user, access, freshness), readers(session, access))


def readers_of(session: Session, document_id: str) -> tuple[str, list[Reader]]:
    """A document's title and everyone who may read it."""
    document = _document(session, document_id)
    return document.title, readers(session, Access.from_dict(document.access))


def viewer_of(session: Session, email: str, freshness: accounts.Freshness) -> Viewer:
    """What the person ``email`` may see, as search sees it (to search as them)."""
    return accounts.viewer_for(person(session, email), freshness)


def person(session: Session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise NotFoundError(f"no user {email.strip().lower()}")
    return user


def _document(session: Session, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id}")
    return document


def readers(session: Session, access: Access) -> list[Reader]:
    """Who may read a document with ``access``: each ACL entry with the (enabled) accounts it covers."""
    people = [u for u in session.scalars(select(User).order_by(User.email)) if not u.disabled]
    found = [Reader("everyone", [])] if access.public else []
    found += [Reader(f"user:{email}", [u.email for u in people if u.email == email]) for email in sorted(access.users)]
    found += [Reader(f"group:{g}", [u.email for u in people if g in (u.groups or ())]) for g in sorted(access.groups)]
    return [*found, Reader("role:admin", [u.email for u in people if u.is_admin])]


def _reasons(user: User, access: Access, freshness: accounts.Freshness) -> list[str]:
    if user.disabled:
        return []
    viewer = accounts.viewer_for(user, freshness)
    if viewer.sees_everything:
        return ["an admin: admins see every document"]
    reasons = ["the document is public: everyone signed in may read it"] if access.public else []
    if viewer.email in access.users:
        reasons.append(f"{viewer.email} is named in the document's permissions")
    reasons += [f"member of the group {g}{_group_origin(user)}" for g in sorted(viewer.groups & access.groups)]
    return reasons


def _refusals(user: User, access: Access, freshness: accounts.Freshness) -> list[str]:
    if user.disabled:
        return ["the account is disabled"]
    stale = accounts.groups_staleness(user, freshness)
    if stale:
        return [f"only public documents are shown to {user.email} until their groups are read again ({stale})"]
    groups = ", ".join(user.groups or ()) or "none"
    return [f"{user.email} is not named in the document's permissions and none of their groups ({groups}) may read it"]


def _group_origin(user: User) -> str:
    if user.auth_method not in accounts.DIRECTORY_METHODS:
        return " (set in Enclave)"
    synced = user.groups_synced_at and as_utc(user.groups_synced_at)
    return f" (from the directory, read {synced:%Y-%m-%d %H:%M} UTC)" if synced else " (from the directory)"
