"""What routes depend on, as named types: the runtime, a database session, the caller.

A route's signature says what it needs (``user: CurrentUser``, ``_: AdminOnly``)
and authentication is never repeated. Callers authenticate with an API key
(``Authorization: Bearer enc_…``) or a browser session cookie; requests that
change state with a cookie must also carry the session's CSRF token in the
``X-CSRF-Token`` header (or a ``csrf_token`` form field).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.access import Viewer
from assistant.db.models import User
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


def _user_from_api_key(request: Request, db: Session) -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    record = accounts.resolve_api_key(db, key.strip())
    if record is None:
        raise unauthorized("invalid or revoked API key")
    db.commit()
    return record.user


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


def admin_only(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return user


AdminUser = Annotated[User, Depends(admin_only)]


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

