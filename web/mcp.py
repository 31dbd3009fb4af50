"""Enclave's search and ask as MCP tools, served over streamable HTTP at /mcp for MCP clients (Claude
Desktop, VS Code, agents), with the official ``mcp`` SDK.

Every HTTP request must carry an API key (``Authorization: Bearer enc_…``); a missing, unknown, revoked or
expired key is answered 401 here, before the MCP layer reads the body. Each tool needs its scope on the key
(``search``, ``ask``) and sees only what the key's owner may read (the REST API's Viewer); answers come
from the same ``Answering`` queue and pipeline as the REST API. Every tool call is audited (``mcp.search``,
``mcp.ask``). The server is stateless: nothing of one request is kept for the next, so no MCP session
can outlive or change hands with the key that opened it.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from assistant import accounts
from assistant.errors import EnclaveError
from enclave import audit
from enclave.runtime import Runtime

from .answering import Answering
from .api.deps import KeyCaller, authenticate_key, bearer_key, client_address, unauthorized
from .api.routes.ask import search_hits
from .api.schemas import SearchHit

PATH = "/mcp"
MAX_HITS = 20


class CitedDocument(BaseModel):
    n: int = Field(description="The number the answer cites it by, as [n].")
    document_id: str
    title: str


class McpAnswer(BaseModel):
    answer: str = Field(description="The answer, citing its sources as [n].")
    citations: list[CitedDocument]
    outcome: str = Field(description="answered, quoted, premise_corrected, not_said or nothing_found.")


class McpEndpoint:
    """The /mcp endpoint: an ASGI app that authenticates the key, then hands the request to the SDK."""

    def __init__(self, runtime: Runtime, answering: Answering):
        self.runtime = runtime
        self.answering = answering
        self.server = MCPServer(
            "enclave",
            instructions="Search and ask the company's documents that the API key's user may read; answers cite them.",
        )
        self.server.add_tool(self._search_tool(), name="search", description="The passages that best match a query.")
        self.server.add_tool(self._ask_tool(), name="ask", description="A cited answer to a question from the documents.")
        # Host and Origin checks guard cookie-less servers against DNS rebinding; here every request needs a
        # key a rebinding page cannot know, and the server is reached under the company's own host name.
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def running(self):
        """Run this inside the app's lifespan: the SDK's session manager serves requests only meanwhile."""
        return self.server.session_manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            caller = await run_in_threadpool(self._authenticate, request)
        except HTTPException as refusal:
            response = JSONResponse({"detail": refusal.detail}, refusal.status_code, headers=refusal.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["enclave_caller"] = (caller, client_address(request))
        await self.server.session_manager.handle_request(scope, receive, send)

    def _authenticate(self, request: Request) -> KeyCaller:
        key = bearer_key(request)
        if key is None:
            raise unauthorized("an API key is required: Authorization: Bearer enc_…")
        with self.runtime.sessions() as session:
            caller = authenticate_key(session, key)
        if caller.user.must_change_password:
            raise HTTPException(403, "the key's user must first change their initial password")
        return caller

    def _search_tool(self):
        async def search(query: str, ctx: Context, k: int = 5) -> list[SearchHit]:
            """The passages that best match ``query`` among the documents you may read (``k`` of them, at most 20)."""
            _, viewer = await self._allowed(ctx, "search", "mcp.search")
            found = await run_in_threadpool(search_hits, self.answering, query, viewer, max(1, min(k, MAX_HITS)))
            await self._record(ctx, "mcp.search", "ok", documents=sorted({h.document_id for h in found}))
            return found

        return search

    def _ask_tool(self):
        async def ask(question: str, ctx: Context) -> McpAnswer:
            """A short answer to ``question`` from the documents you may read, citing them as [n]."""
            caller, viewer = await self._allowed(ctx, "ask", "mcp.ask")
            try:
                answer = await self.answering.answer(caller.user.email, question, viewer)
            except EnclaveError as error:  # a full queue, say: the client's model reads why
                raise ToolError(str(error)) from error
            citations = [CitedDocument(n=c.number, document_id=c.hit.origin.document_id, title=c.hit.origin.title)
                         for c in answer.sources]  # fmt: skip
            await self._record(ctx, "mcp.ask", "ok", answer=answer.outcome, documents=[c.document_id for c in citations])
            return McpAnswer(answer=answer.text, citations=citations, outcome=answer.outcome)

        return ask

    async def _allowed(self, ctx: Context, scope: str, action: str):
        """The caller and what they may see, if their key has ``scope``; else a tool error, audited."""
        caller, _ = _caller(ctx)
        if scope not in caller.scopes:
            await self._record(ctx, action, "denied", reason=f"the API key does not have the {scope!r} scope")
            raise ToolError(f"this API key does not have the {scope!r} scope; create one that has it")
        return caller, accounts.viewer_for(caller.user, accounts.Freshness.from_settings(self.runtime.settings))

    async def _record(self, ctx: Context, action: str, outcome: str, **details) -> None:
        caller, address = _caller(ctx)

        def write() -> None:
            with self.runtime.sessions() as session:
                actor = audit.Actor(caller.user.email, caller.via, address)
                audit.record(session, actor, action, None, outcome, **details)
                session.commit()

        await run_in_threadpool(write)


def _caller(ctx: Context) -> tuple[KeyCaller, str]:
    return ctx.request_context.request.state.enclave_caller
