"""The pages of the web interface, and the admin overview they show.

Pages are rendered on the server and filled in by small scripts under
``web/static/js`` that call the REST API. A page request without a session
redirects to /login; one from a user who must still change their first password
goes to /password; admin pages answer 403 to everyone else (checked here, not
only by hiding links). Every page carries a strict Content-Security-Policy:
scripts and styles come from Enclave's own origin only, nothing inline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assistant import accounts
from assistant.db.models import BrowserSession, Conversation
from assistant.errors import NotFoundError
from enclave import audit, permissions
from enclave.identity import oidc

from ..api.deps import SESSION_COOKIE, DbSession, RuntimeDep, client_address
from ..api.routes import admin
from ..api.routes.ask import search_hits
from .assets import TEMPLATES_DIR, static_url

router = APIRouter()  # pages; each is left out of the OpenAPI schema (it documents the API)

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["static"] = static_url

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ADMIN_SECTIONS = [
    ("overview", "/admin", "Overview"),
    ("connectors", "/admin/connectors", "Connectors"),
    ("documents", "/admin/documents", "Documents"),
    ("users", "/admin/users", "Users & API keys"),
    ("access", "/admin/access", "Access"),
    ("feedback", "/admin/feedback", "Feedback"),
    ("audit", "/admin/audit", "Audit log"),
]
AUDIT_PAGE_SIZE = 100


# What the login page says when single sign-on failed (the kinds of ``enclave.identity.oidc``; details are audited).
SIGN_IN_FAILURES = {
    oidc.UNREACHABLE: "Your company's sign-in service could not be reached. Try again in a minute; if it keeps "
    "failing, tell your administrator.",
    oidc.DENIED: "Your company's sign-in did not let you in (access denied or cancelled). If you need Enclave, "
    "ask your administrator for access.",
    oidc.STALE_FLOW: "That sign-in had expired or was already used. Please sign in again.",
    oidc.REJECTED: "Your company's sign-in answered in a way Enclave cannot trust, so you were not signed in. "
    "Try again; if it keeps failing, tell your administrator.",
    oidc.NO_EMAIL: "Your company's sign-in did not say your e-mail address. Ask your administrator to release "
    "the email claim to Enclave.",
    oidc.GROUPS: "Enclave could not read your groups from your company's directory, so you were not signed in. "
    "Tell your administrator.",
    oidc.ACCOUNT: "Your Enclave account cannot sign in (it may be disabled). Ask an administrator.",
}


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never //elsewhere or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _browser_session(request: Request, db: Session) -> BrowserSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    return accounts.resolve_session(db, token) if token else None


class PageGuard:
    """Resolves the browser session of a page request, or says where the browser must go instead."""

    def __init__(self, admin: bool = False, allow_password_change: bool = False):
        self.admin = admin
        self.allow_password_change = allow_password_change

    def __call__(self, request: Request, db: DbSession) -> BrowserSession | Response:
        browser = _browser_session(request, db)
        if browser is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect("/login" + ("" if here == "/" else f"?next={quote(here, safe='')}"))
        if browser.user.must_change_password and not self.allow_password_change:
            return redirect("/password")
        if self.admin and not browser.user.is_admin:
            actor = audit.Actor(browser.user.email, "session", client_address(request))
            audit.record(db, actor, "access.denied", f"GET {request.url.path}", "denied", reason="admins only", needs="admin")
            db.commit()
            return render(
                request,
                "error.html",
                status_code=403,
                browser=browser,
                title="Admins only",
                message="This page is for administrators. Ask an admin if you need something changed.",
            )
        return browser


SignedIn = Annotated[BrowserSession | Response, Depends(PageGuard())]
SignedInAdmin = Annotated[BrowserSession | Response, Depends(PageGuard(admin=True))]
ChangingPassword = Annotated[BrowserSession | Response, Depends(PageGuard(allow_password_change=True))]


# Public and employee pages


@router.get("/login", include_in_schema=False)
def login_page(
    request: Request,
    db: DbSession,
    runtime: RuntimeDep,
    next: str | None = Query(None),
    sign_in: str | None = Query(None),
):
    target = safe_next(next)
    browser = _browser_session(request, db)
    if browser is not None:
        return redirect("/password" if browser.user.must_change_password else target)
    settings = runtime.settings
    return render(
        request,
        "login.html",
        next=target,
        sign_on=settings.oidc_display_name if settings.oidc_issuer else None,  # never blocked by a bad oidc setting
        local_login=settings.local_login,
        # With LDAP, people may sign in with a directory user name, which is no e-mail address.
        directory_login=bool(settings.ldap_url),
        sign_in_error=SIGN_IN_FAILURES.get(sign_in or ""),
    )


@router.get("/password", include_in_schema=False)
def password_page(request: Request, browser: ChangingPassword):
    if isinstance(browser, Response):
        return browser
    return render(request, "password.html", browser=browser, forced=browser.user.must_change_password)


@router.get("/", include_in_schema=False)
def chat_page(request: Request, browser: SignedIn):
    if isinstance(browser, Response):
        return browser
    return render(request, "chat.html", browser=browser, conversation_id="")


@router.get("/c/{conversation_id}", include_in_schema=False)
def conversation_page(conversation_id: str, request: Request, browser: SignedIn, db: DbSession):
    if isinstance(browser, Response):
        return browser
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != browser.user_id:
        return render(
            request,
            "error.html",
            status_code=404,
            browser=browser,
            title="Conversation not found",
            message="It may have been deleted. Start a new one from the chat.",
        )
    return render(request, "chat.html", browser=browser, conversation_id=conversation.id)


# Admin pages


def _admin_page(request: Request, browser: BrowserSession | Response, section: str, template: str, **context):
    if isinstance(browser, Response):
        return browser
    return render(request, template, browser=browser, section=section, sections=ADMIN_SECTIONS, **context)


@router.get("/admin", include_in_schema=False)
async def admin_overview_page(request: Request, browser: SignedInAdmin, runtime: RuntimeDep):
    if isinstance(browser, Response):
        return browser
    overview = await run_in_threadpool(admin.overview, runtime, request.app.state)
    return _admin_page(request, browser, "overview", "admin/overview.html", overview=overview)


@router.get("/admin/connectors", include_in_schema=False)
def admin_connectors_page(request: Request, browser: SignedInAdmin):
    return _admin_page(request, browser, "connectors", "admin/connectors.html")


@router.get("/admin/documents", include_in_schema=False)
def admin_documents_page(request: Request, browser: SignedInAdmin, runtime: RuntimeDep):
    return _admin_page(
        request, browser, "documents", "admin/documents.html", max_upload_mb=runtime.settings.max_upload_mb
    )


@router.get("/admin/users", include_in_schema=False)
def admin_users_page(request: Request, browser: SignedInAdmin):
    return _admin_page(request, browser, "users", "admin/users.html")


@router.get("/admin/access", include_in_schema=False)
async def admin_access_page(
    request: Request,
    browser: SignedInAdmin,
    db: DbSession,
    runtime: RuntimeDep,
    user: str | None = Query(None),
    document: str | None = Query(None),
    q: str | None = Query(None, max_length=4000),
):
    """Explain one document's readers (and one person's verdict), or search as a person, read-only."""
    if isinstance(browser, Response):
        return browser
    found = {"user": user, "document": document, "q": q, "readers": None, "hits": None}
    freshness = accounts.Freshness.from_settings(runtime.settings)
    try:
        if document:
            found |= _explain(db, user, document, freshness)
        if user and q:
            viewer = permissions.viewer_of(db, user, freshness)
            found["hits"] = await run_in_threadpool(search_hits, request.app.state.answering, q, viewer, 10)
    except NotFoundError as error:
        found["error"] = str(error)
    return _admin_page(request, browser, "access", "admin/access.html", **found)


def _explain(db: Session, user: str | None, document_id: str, freshness: accounts.Freshness) -> dict:
    if not user:
        title, readers = permissions.readers_of(db, document_id)
        return {"title": title, "readers": readers}
    explanation = permissions.explain(db, user, document_id, freshness)
    return {"title": explanation.title, "readers": explanation.readers, "explanation": explanation}


@router.get("/admin/feedback", include_in_schema=False)
def admin_feedback_page(request: Request, browser: SignedInAdmin):
    return _admin_page(request, browser, "feedback", "admin/feedback.html")



@router.get("/admin/audit", include_in_schema=False)
def admin_audit_page(
    request: Request,
    browser: SignedInAdmin,
    db: DbSession,
    actor: str = "",
    action: str = "",
    outcome: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
):
    """The audit log as a table, filtered by a plain GET form (no script): the same query as GET /api/v1/audit."""
    if isinstance(browser, Response):
        return browser
    form = {"actor": actor, "action": action, "outcome": outcome, "since": since, "until": until}
    problems = []
    filters = audit.Filters(
        actor=actor or None,
        action=action or None,
        outcome=outcome if outcome in audit.OUTCOMES else None,
        since=_form_time(since, "From", problems),
        until=_form_time(until, "Until", problems),
    )
    before = int(cursor) if cursor.isdigit() and len(cursor) <= 18 else None
    found, next_id = audit.events(db, filters, AUDIT_PAGE_SIZE, before) if not problems else ([], None)
    older = f"/admin/audit?{urlencode({**form, 'cursor': next_id})}" if next_id else None
    return _admin_page(request, browser, "audit", "admin/audit.html", events=found, form=form,
                       outcomes=audit.OUTCOMES, problems=problems, older=older)  # fmt: skip


def _form_time(text: str, label: str, problems: list[str]) -> datetime | None:
    """A time from the filter form (an HTML datetime-local, so UTC as the page says), or None when empty."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        problems.append(f"{label}: {text!r} is not a date and time such as 2026-12-01T08:00")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
