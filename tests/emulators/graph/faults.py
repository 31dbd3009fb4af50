"""Error responses, shaped as Microsoft documents them, raised from anywhere in a route."""

from __future__ import annotations

import uuid
from typing import NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.emulators.graph.tenant import App, now


class GraphFault(Exception):
    """Graph's ``{"error": {"code", "message", "innerError"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class SignInFault(Exception):
    """The identity platform's ``{"error", "error_description": "AADSTS…", "error_codes"}``."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


def not_found(message: str = "The resource could not be found.") -> NoReturn:
    raise GraphFault(404, "itemNotFound", message)


def require(caller: App, roles: frozenset[str]) -> None:
    if not caller.roles & roles:
        raise GraphFault(403, "accessDenied", "Access denied")


def answer_faults(app: FastAPI) -> None:
    @app.exception_handler(GraphFault)
    async def graph_fault(request: Request, fault: GraphFault):
        inner = {"date": now(), "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}
        body = {"error": {"code": fault.code, "message": fault.message, "innerError": inner}}
        return JSONResponse(body, fault.status, headers=fault.headers)

    @app.exception_handler(SignInFault)
    async def sign_in_fault(request: Request, fault: SignInFault):
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        body = {
            "error": fault.error,
            "error_description": f"{fault.description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {now()}",
            "error_codes": [fault.code],
            "timestamp": now(),
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={fault.code}",
        }
        return JSONResponse(body, fault.status)
