"""Logging in and out, and changing one's own password; each attempt goes into the audit log."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.db.models import BrowserSession, User
from assistant.errors import InvalidRequest
from enclave import audit
from enclave.identity.sign_in import sign_in_with_ldap

from ..deps import SESSION_COOKIE, AuditActor, CurrentUser, DbSession, RuntimeDep, client_address
from ..schemas import LoginRequest, Me, PasswordChange, Problem

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _refuse_cross_site(request: Request) -> None:
    """A login posted from another site's page would log the victim into the attacker's account."""
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.headers.get("host"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "logins are accepted only from Enclave's own pages")


@router.post(
    "/login",
    response_model=Me,
    responses={401: {"model": Problem}, 403: {"model": Problem}, 429: {"model": Problem}, 503: {"model": Problem}},
)
def login(body: LoginRequest, request: Request, response: Response, db: DbSession, runtime: RuntimeDep):
    """Log in with e-mail and password; sets the session cookie. Failed attempts are throttled.

    With LDAP configured, anyone without an Enclave password signs in with their directory login (e-mail or
    user name) and password; 503 when the directory cannot be reached, 403 when it says the account is disabled.
    With ``local_login = false`` only Enclave's own admins may use an Enclave password (403 for everyone else).
    """
    _refuse_cross_site(request)
    address = client_address(request)
    email = body.email.strip().lower()
    actor = audit.Actor(email, "password", address)
    if not accounts.login_allowed(db, email, address, runtime.settings.login_attempts):
        audit.record(db, actor, "sign_in", email, "denied", reason="too many failed logins")
        db.commit()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins; wait 15 minutes",
            headers={"Retry-After": str(int(accounts.THROTTLE_WINDOW.total_seconds()))},
        )
    user = accounts.find_user(db, email)
    by_directory = bool(runtime.settings.ldap_url) and (user is None or user.auth_method != "local")
    if by_directory:
        # Not someone with an Enclave password: the directory checks it (and may make the account), and
        # audits the sign-in itself.
        user = sign_in_with_ldap(db, runtime.settings, body.email, body.password, address)
    else:
        if not accounts.may_use_password(user, runtime.settings.local_login):
            audit.record(db, actor, "sign_in", email, "denied", reason="password sign-in is turned off for this account")
            db.commit()
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"password sign-in is turned off for this account; use \"Sign in with {runtime.settings.oidc_display_name}\"",
            )
        if not accounts.verify_password(user, body.password):
            audit.record(db, actor, "sign_in", email, "failed", reason="unknown account" if user is None else "wrong password")
            user = None
    if user is None:
        accounts.record_login_failure(db, email, address)
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong e-mail or password")
    if user.disabled:
        audit.record(db, actor, "sign_in", email, "denied", reason="account disabled")
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this account is disabled; ask an admin")
    accounts.clear_login_failures(db, email, address)
    if not by_directory:
        audit.record(db, actor, "sign_in", email)
    browser = open_browser_session(request, response, db, user, runtime.settings.session_hours)
    db.commit()
    return Me.model_validate(user).model_copy(update={"csrf_token": browser.csrf_token})


def open_browser_session(request: Request, response: Response, db: Session, user: User, hours: int) -> BrowserSession:
    """Sign ``user`` in on this browser: a new session and its cookie (the caller commits). Every way of
    signing in through the browser ends here, so they all get the same cookie and CSRF token."""
    token, browser = accounts.open_session(db, user, hours)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return browser


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, user: CurrentUser, actor: AuditActor, db: DbSession):
    """End this browser session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        browser = db.get(BrowserSession, accounts.token_hash(token))
        if browser:
            db.delete(browser)
            audit.record(db, actor, "sign_out", user.email)
            db.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def me(request: Request, user: CurrentUser):
    """Who is logged in, with the CSRF token a browser must send on changes."""
    return Me.model_validate(user).model_copy(update={"csrf_token": getattr(request.state, "csrf_token", None)})


@router.post("/password", status_code=204, responses={400: {"model": Problem}})
def change_password(body: PasswordChange, request: Request, user: CurrentUser, actor: AuditActor, db: DbSession,
                    runtime: RuntimeDep):
    """Change your own password (required after the first login with a generated one). Logs out other sessions."""
    if not accounts.verify_password(user, body.current_password):
        audit.record(db, actor, "password.changed", user.email, "failed", reason="wrong current password")
        db.commit()
        raise InvalidRequest("the current password is wrong")
    if body.new_password == body.current_password:
        raise InvalidRequest("choose a password different from the current one")
    accounts.set_password(db, user, body.new_password, keep_session=request.cookies.get(SESSION_COOKIE))
    audit.record(db, actor, "password.changed", user.email)
    db.commit()
    if user.email == runtime.settings.admin_email:
        # The one-time password is spent; leave no copy of it on disk.
        (runtime.settings.data_dir / accounts.INITIAL_PASSWORD_FILE).unlink(missing_ok=True)
