"""Single sign-on through the company's OpenID Connect provider: the browser's round trip there and back.

``GET /auth/oidc/login`` sends the browser to the provider with a fresh state, nonce and PKCE verifier, kept
in a ten-minute cookie sealed with the server's secret key (httponly, same-site lax, secure over https).
``GET /auth/oidc/callback`` finishes the flow (``enclave.identity.oidc``), makes or updates the person's
account (groups; the role too when ``oidc_admin_groups`` is set), opens a browser session as the password
login does, audits the sign-in and goes on to the page the person first asked for. Every failure is audited
and lands on the login page with a message saying what happened, never a traceback.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.config import Settings
from assistant.errors import EnclaveError
from assistant.secrets import SecretBox
from enclave.audit import Actor, record
from enclave.identity.oidc import (
    ACCOUNT,
    DENIED,
    FLOW_SECONDS,
    REJECTED,
    Flow,
    Person,
    SignInFailed,
)

from ..api.deps import DbSession, RuntimeDep
from ..api.routes.auth import client_address, open_browser_session
from .routes import redirect, safe_next

log = logging.getLogger("enclave.web.sign_on")

router = APIRouter(prefix="/auth/oidc", include_in_schema=False)  # browser redirects, not API

FLOW_COOKIE = "enclave_oidc_flow"


@router.get("/login")
def start(request: Request, runtime: RuntimeDep, db: DbSession, next: str | None = Query(None)):
    """Leave for the provider's sign-in page."""
    settings = runtime.settings
    if runtime.oidc is None:
        return redirect("/login")
    try:
        url, flow = runtime.oidc.start(_redirect_uri(request, settings), safe_next(next))
    except SignInFailed as failure:
        return _failed(request, db, failure.kind, str(failure))
    response = redirect(url)
    response.set_cookie(
        FLOW_COOKIE,
        SecretBox(settings).seal(flow.to_json()),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET, which lax cookies go with
        secure=request.url.scheme == "https",
        path=router.prefix,
    )
    return response


@router.get("/callback", name="oidc_callback")
def finish(
    request: Request,
    runtime: RuntimeDep,
    db: DbSession,
    state: str | None = Query(None),
    code: str | None = Query(None),
    error: str | None = Query(None),
    error_description: str | None = Query(None),
):
    """Come back from the provider: signed in, or on the login page with the reason."""
    if runtime.oidc is None:
        return redirect("/login")
    flow = _flow(request, runtime.settings)
    try:
        if error:
            kind = DENIED if error in ("access_denied", "consent_required", "login_required") else REJECTED
            raise SignInFailed(kind, f"the provider answered {error}: {error_description or 'no description'}")
        person = runtime.oidc.finish(flow, state, code)
        user = _account(db, person, runtime.settings)
    except SignInFailed as failure:
        return _failed(request, db, failure.kind, str(failure))
    except accounts.AccountError as refusal:
        return _failed(request, db, ACCOUNT, str(refusal), person.email)
    record(db, _actor(request, user.email), "sign_in", target=user.email, outcome="ok", groups=len(user.groups), role=user.role)
    response = redirect(flow.next)
    response.delete_cookie(FLOW_COOKIE, path=router.prefix)
    open_browser_session(request, response, db, user, runtime.settings.session_hours)
    db.commit()
    return response


def _account(db: Session, person: Person, settings: Settings):
    admin_groups = set(accounts.normalise_groups(settings.oidc_admin_groups))
    groups = accounts.normalise_groups(person.groups)
    return accounts.sign_in_directory_person(
        db,
        method="oidc",
        subject=person.subject,
        email=person.email,
        email_verified=person.email_verified,
        name=person.name,
        groups=groups,
        admin=bool(admin_groups & set(groups)) if admin_groups else None,
    )


def _flow(request: Request, settings: Settings) -> Flow | None:
    sealed = request.cookies.get(FLOW_COOKIE)
    if not sealed:
        return None
    try:
        return Flow.from_json(SecretBox(settings).open(sealed))
    except (EnclaveError, ValueError, TypeError):  # tampered with, or sealed under another key
        return None


def _redirect_uri(request: Request, settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + router.prefix + "/callback"
    return str(request.url_for("oidc_callback"))


def _failed(request: Request, db: Session, kind: str, detail: str, email: str | None = None) -> RedirectResponse:
    log.warning("Single sign-on failed (%s): %s", kind, detail)
    db.rollback()
    record(db, _actor(request, email), "sign_in", outcome="failed", reason=detail, kind=kind)
    db.commit()
    response = redirect(f"/login?sign_in={kind}")
    response.delete_cookie(FLOW_COOKIE, path=router.prefix)
    return response


def _actor(request: Request, email: str | None) -> Actor:
    return Actor(email, "oidc", client_address(request))
