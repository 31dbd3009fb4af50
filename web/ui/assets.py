"""Static assets (CSS, JS, vendored libraries, icons) under /static, with cache-busting URLs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: browsers may cache it for good; a change gets a new URL.

    Templates use it for the tags they write. The ES modules a page's module imports by relative path
    are fetched by plain path, without ``v=``: those are served ``no-cache`` with an ETag, so a browser
    revalidates them (a 304 when unchanged) and never runs an old copy beside a new page module.
    """
    file = STATIC_DIR / path
    if not file.is_file():
        raise FileNotFoundError(f"no static asset {path!r} under {STATIC_DIR}")
    return f"/static/{path}?v={_fingerprint(path, file.stat().st_mtime_ns)}"


class StaticAssets(StaticFiles):
    """StaticFiles that says "never sniff" and lets versioned URLs be cached."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        versioned = b"v=" in scope.get("query_string", b"")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                cache = b"public, max-age=31536000, immutable" if versioned else b"no-cache"
                headers.append((b"cache-control", cache))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, with_headers)
