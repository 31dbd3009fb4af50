"""The FastAPI application: the REST API, the OpenAI-compatible endpoint, health checks and the web UI.

Every error Enclave raises for a user answers with the HTTP status of its type
(``STATUS_BY_ERROR``) and its message as the problem's detail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.routing import Route

from assistant import accounts
from assistant.errors import (
    ConfigurationError,
    Conflict,
    DirectoryUnavailable,
    EnclaveError,
    Forbidden,
    InvalidRequest,
    NotFoundError,
    Overloaded,
    SourceFailure,
    StorageFailure,
    UnreadableDocument,
)
from assistant.llm import GenerationCancelled
from enclave.backup_schedule import BackupSchedule
from enclave.runtime import Runtime
from enclave.worker import Worker

from .answering import Answering
from .api.deps import CurrentUser
from .api.routes import (
    access,
    admin,
    ask,
    audit,
    auth,
    connectors,
    conversations,
    documents,
    health,
    jobs,
    openai,
    users,
)
from .mcp import PATH as MCP_PATH
from .mcp import McpEndpoint
from .metrics import Metrics
from .middleware import BodySizeLimit, RequestMetrics
from .queue import FairQueue
from .ui import StaticAssets, sign_on
from .ui import router as ui_router

log = logging.getLogger("enclave.web")

# The API, one router per resource (the pages' router and the static files come after them).
API_ROUTERS = [
    m.router for m in (auth, ask, conversations, documents, jobs, users, connectors, admin, access, audit, openai, health)
]
ROLES = ("all", "web")


def create_app(runtime: Runtime, role: str = "all") -> FastAPI:
    """``role`` "all" also does the background work (syncs, group sync, backups, queued uploads) and indexes
    uploads itself; "web" leaves all of that to workers (``enclave serve --role worker``) and queues uploads."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    settings = runtime.settings
    worker = Worker(runtime) if role == "all" else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime.store.ping()
        with runtime.sessions() as session:
            password_file = accounts.ensure_first_admin(session, settings.admin_email, settings.data_dir)
        if password_file:
            log.warning("Created admin %s; its one-time password is in %s", settings.admin_email, password_file)
        _load_models_in_background(app, runtime)
        if worker:
            worker.start()
        async with mcp.running():
            yield
        if worker:
            worker.stop()

    app = FastAPI(
        title="Enclave",
        version="0.1.0",
        summary="A private assistant that answers from your documents, with citations. Nothing leaves the site.",
        lifespan=lifespan,
        # The schema needs a login like the rest; FastAPI's docs pages would load their scripts from a CDN.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema(_: CurrentUser) -> dict:
        """The OpenAPI description of the API, for any OpenAPI viewer or client generator."""
        return app.openapi()

    metrics = Metrics()
    app.state.runtime = runtime
    app.state.role = role
    app.state.scheduler = worker.scheduler if worker else None
    app.state.backups = worker.backups if worker else BackupSchedule(runtime)  # a web replica only shows them
    app.state.metrics = metrics
    queue = FairQueue(settings.queue_size, slots=lambda: runtime.llm().parallel if runtime.llm_loaded else 1)
    app.state.answering = Answering(lambda: runtime.assistant, queue, metrics)
    mcp = McpEndpoint(runtime, app.state.answering)
    app.router.routes.append(Route(MCP_PATH, mcp))  # the MCP endpoint (web/mcp.py): search and ask as tools

    for router in API_ROUTERS:
        app.include_router(router)
    app.include_router(ui_router)
    app.include_router(sign_on.router)
    app.mount("/static", StaticAssets(), name="static")
    _add_error_handlers(app)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_mb * 2**20)
    return app


def _load_models_in_background(app: FastAPI, runtime: Runtime) -> None:
    """Load the LLM and the embedding model side by side without holding up start-up.

    /healthz answers at once; /readyz says "loading" until both are in memory,
    so the first question waits for neither.
    """
    app.state.loading = {"model": "loading", "embedding_model": "loading"}

    def load(check: str, step: Callable[[], object]) -> None:
        try:
            step()
            app.state.loading[check] = "loaded"
        except Exception as error:  # reported by /readyz and the log; questions will fail with the reason
            app.state.loading[check] = f"error: {error}"
            log.error("Could not load the %s: %s", check.replace("_", " "), error)

    # The assistant brings the embedder, the vector store and the keyword index with it.
    for check, step in (("model", runtime.llm), ("embedding_model", lambda: runtime.assistant)):
        threading.Thread(target=load, args=(check, step), name=f"load-{check}", daemon=True).start()


# The HTTP status of each kind of error; a subclass answers as its nearest listed ancestor.
STATUS_BY_ERROR: dict[type[EnclaveError], int] = {
    InvalidRequest: 400,
    UnreadableDocument: 400,
    Forbidden: 403,
    NotFoundError: 404,
    Conflict: 409,
    Overloaded: 503,
    DirectoryUnavailable: 503,
    SourceFailure: 502,
    StorageFailure: 503,
    ConfigurationError: 500,
}


def status_for(error: EnclaveError) -> int:
    return next((STATUS_BY_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_BY_ERROR), 500)


def _openai_style(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def _problem(request: Request, status: int, detail, headers: dict | None = None) -> JSONResponse:
    if _openai_style(request):
        body = {"error": {"message": str(detail), "type": "invalid_request_error" if status < 500 else "server_error"}}
    else:
        body = {"detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return _problem(request, error.status_code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        problems = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        return _problem(request, 422, problems)

    @app.exception_handler(EnclaveError)
    async def enclave_error(request: Request, error: EnclaveError):
        retry = {"Retry-After": str(error.retry_after)} if isinstance(error, Overloaded) else None
        return _problem(request, status_for(error), str(error), retry)

    @app.exception_handler(GenerationCancelled)
    async def cancelled(request: Request, error: GenerationCancelled):
        return _problem(request, 499, "the client closed the request")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        return _problem(request, 500, f"internal error: {type(error).__name__}; see the server log")
