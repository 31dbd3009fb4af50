"""What routes depend on, as named types: the runtime, a database session, the caller.

A route's signature says what it needs (``user: CurrentUser``, ``_: AdminUser``,
``actor: AuditActor``) and authentication is never repeated. Callers authenticate
with an API key (``Authorization: Bearer enc_…``) or a browser session cookie;
requests that change state with a cookie must also carry the session's CSRF
token in the ``X-CSRF-Token`` header (or a ``csrf_token`` form field).

A key works only for its scopes (``search``, ``ask``, ``admin``), narrowed to
what its owner's role allows, and only until it expires; a browser session has
everything its role allows. Refusals for a missing role or scope are audited.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.access import Viewer
from assistant.db.models import User, as_utc
from enclave import audit
from enclave.runtime import Runtime
from web.answering import Answering

SESSION_COOKIE = "enclave_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Reachable while a first-time password is still unchanged.
PASSWORD_CHANGE_PATHS = {"/api/v1/auth/me", "/api/v1/auth/password", "/api/v1/auth/logout"}


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_db(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def unauthorized(detail: str = "authentication required") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class KeyCaller:
    """Who an API key acts for, and what it may do."""

    user: User
    key_id: int
    scopes: frozenset[str]
    expires_at: datetime | None

    @property
    def via(self) -> str:
        return f"api_key:{self.key_id}"


def authenticate_key(db: Session, key: str) -> KeyCaller:
    """The caller behind ``key``, or 401: unknown, revoked or expired key, disabled owner."""
    record = accounts.resolve_api_key(db, key.strip())
    if record is None:
        raise unauthorized("invalid or revoked API key")
    if accounts.key_expired(record):
        raise unauthorized("API key expired")
    if record.user.disabled:
        raise unauthorized("this account is disabled; ask an admin")
    db.commit()
    return KeyCaller(record.user, record.id, accounts.key_scopes(record), record.expires_at and as_utc(record.expires_at))


def bearer_key(request: Request) -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key if scheme.lower() == "bearer" and key.strip() else None


def _user_from_api_key(request: Request, db: Session) -> User | None:
    key = bearer_key(request)
    if key is None:
        return None
    caller = authenticate_key(db, key)
    request.state.via, request.state.scopes, request.state.expires_at = caller.via, caller.scopes, caller.expires_at
    return caller.user


async def _user_from_cookie(request: Request, db: Session) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    browser = accounts.resolve_session(db, token)
    if browser is None:
        raise unauthorized("your session has expired; log in again")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        if not sent or not hmac.compare_digest(sent, browser.csrf_token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    request.state.csrf_token = browser.csrf_token
    request.state.via, request.state.scopes = "session", accounts.role_scopes(browser.user)
    request.state.expires_at = None
    return browser.user


async def _form_csrf(request: Request) -> str | None:
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return (await request.form()).get("csrf_token")
    return None


async def current_user(request: Request, db: DbSession) -> User:
    user = _user_from_api_key(request, db) or await _user_from_cookie(request, db)
    if user is None:
        raise unauthorized()
    if user.disabled:
        # Checked on every request, so a disabled person's open sessions and API keys stop at once.
        raise unauthorized("this account is disabled; ask an admin")
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "change your initial password first (POST /api/v1/auth/password)")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def audit_actor(request: Request, user: CurrentUser) -> audit.Actor:
    """The caller as the audit log names them: e-mail, ``session`` or ``api_key:<id>``, address."""
    return audit.Actor(user.email, request.state.via, client_address(request))


AuditActor = Annotated[audit.Actor, Depends(audit_actor)]


def _refuse(request: Request, db: Session, user: User, reason: str, needs: str) -> HTTPException:
    """A 403, recorded in the audit log first (with the endpoint tried and what it needs)."""
    actor = audit.Actor(user.email, request.state.via, client_address(request))
    audit.record(db, actor, "access.denied", f"{request.method} {request.url.path}", "denied", reason=reason, needs=needs)
    db.commit()
    return HTTPException(status.HTTP_403_FORBIDDEN, reason)


def require_scope(scope: str) -> Callable[..., User]:
    """A dependency: the caller, if their key (or session) has ``scope``; else 403, audited."""

    def caller_with_scope(request: Request, user: CurrentUser, db: DbSession) -> User:
        if scope not in request.state.scopes:
            raise _refuse(request, db, user, f"this API key does not have the {scope!r} scope", scope)
        return user

    return caller_with_scope


def admin_only(request: Request, user: CurrentUser, db: DbSession) -> User:
    if not user.is_admin:
        raise _refuse(request, db, user, "admins only", "admin")
    return require_scope("admin")(request, user, db)


AdminUser = Annotated[User, Depends(admin_only)]


@dataclass(frozen=True)
class Grant:
    """What the caller may do right now: their scopes (a key's, or all their role allows) and until when."""

    is_admin: bool
    scopes: frozenset[str]
    expires_at: datetime | None


def grant(request: Request, user: CurrentUser) -> Grant:
    return Grant(user.is_admin and "admin" in request.state.scopes, request.state.scopes, request.state.expires_at)


CallerGrant = Annotated[Grant, Depends(grant)]
SearchingUser = Annotated[User, Depends(require_scope("search"))]
AskingUser = Annotated[User, Depends(require_scope("ask"))]


def viewer(user: CurrentUser, runtime: RuntimeDep) -> Viewer:
    return accounts.viewer_for(user, accounts.Freshness.from_settings(runtime.settings))


ViewerDep = Annotated[Viewer, Depends(viewer)]


def get_answering(request: Request) -> Answering:
    return request.app.state.answering


AnsweringDep = Annotated[Answering, Depends(get_answering)]


def audience(route) -> str:
    """Who may call ``route``, read off its dependency tree: "admins", "users" (anyone signed in or with an API
    key) or "anyone". The authorization tests and the README's endpoint table both use it, so neither can
    forget a route."""
    calls, pending = set(), [route.dependant]
    while pending:
        current = pending.pop()
        calls.add(current.call)
        pending += current.dependencies
    return "admins" if admin_only in calls else "users" if current_user in calls else "anyone"

