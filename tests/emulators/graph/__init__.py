"""Microsoft Entra ID's token endpoint, Microsoft Graph v1.0 file APIs and SharePoint's site groups, in memory.

Serve ``GraphEmulator().app`` with ``BackgroundServer`` over HTTPS: the same
port is the sign-in host (``/{tenant}/...``, see ``identity.py``), Graph
(``/v1.0/...``, see ``files.py``) and the tenant's SharePoint REST API
(``/sites/{site}/_api/...``, see ``sharepoint.py``; a connector reaches it
through its ``sharepoint_url``). Shapes follow Microsoft's documentation:
sites by path, drives, a driveItem by id (``$select`` honoured), driveItem
delta paged by ``@odata.nextLink`` and ending with an ``@odata.deltaLink``, the
``deleted`` facet, content as a 302 to a pre-authenticated URL on another host
(``localhost``) that refuses a bearer token, permissions (users, groups, site
groups, sharing links), and the error responses: 401 for a missing or revoked
token, 403 without the Graph roles, 404 ``itemNotFound`` for an item that is
gone, 410 ``resyncRequired`` for an expired delta link, 429 with
``Retry-After``, 500 ``generalException`` for an item the tenant marks failing.

Tests change the ``Tenant`` between syncs and flip its fault switches; every
request is recorded in ``GraphEmulator.requests``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request

from tests.emulators.graph.directory import SignedInPeople, my_groups_routes
from tests.emulators.graph.directory_sync import directory_routes
from tests.emulators.graph.faults import answer_faults
from tests.emulators.graph.files import graph_routes
from tests.emulators.graph.identity import sign_in_routes
from tests.emulators.graph.sharepoint import sharepoint_routes
from tests.emulators.graph.tenant import (
    Drive,
    Item,
    Site,
    SiteGroup,
    Tenant,
    group_grant,
    sharing_link,
    site_group_grant,
    user_grant,
)

__all__ = [
    "GraphEmulator", "Recorded", "Tenant", "Site", "SiteGroup", "Drive", "Item",
    "user_grant", "group_grant", "site_group_grant", "sharing_link",
]


@dataclass(frozen=True)
class Recorded:
    method: str
    host: str
    path: str
    authorization: str | None
    prefer: str | None = None


class GraphEmulator:
    """The FastAPI app over ``tenant``, which a test may replace with a fresh one."""

    def __init__(self, tenant: Tenant | None = None):
        self.tenant = tenant or Tenant()
        self.requests: list[Recorded] = []
        self.app = FastAPI()
        self.app.middleware("http")(self._record)
        answer_faults(self.app)
        self.app.include_router(sign_in_routes(lambda: self.tenant))
        self.app.include_router(graph_routes(lambda: self.tenant))
        self.app.include_router(directory_routes(lambda: self.tenant))
        self.people = SignedInPeople()  # people signed in through Entra ID, for /me (directory.py)
        self.app.include_router(my_groups_routes(self.people))
        self.app.include_router(sharepoint_routes(lambda: self.tenant))

    def requests_to(self, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if path_part in r.path]

    async def _record(self, request: Request, call_next):
        headers = request.headers
        recorded = Recorded(request.method, headers.get("host", ""), request.url.path, headers.get("authorization"), headers.get("prefer"))
        self.requests.append(recorded)
        return await call_next(request)
