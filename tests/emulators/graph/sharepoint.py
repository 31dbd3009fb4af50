"""SharePoint's own REST API, as far as the connector reads it: a site's groups with their members.

``GET {site}/_api/web/sitegroups`` (``$expand=Users`` lists each group's
members; pages of the tenant's page size, linked by ``odata.nextLink``). With
``Accept: application/json;odata=nometadata`` the JSON carries no OData
metadata; otherwise the default, minimal metadata (``odata.metadata``,
``odata.type``) comes along.

The bearer token must be one the tenant issued for this SharePoint host, and
SharePoint refuses app-only tokens got with a client secret (401 ``Unsupported
app only token.``), as SharePoint Online does. Errors come as
``{"odata.error": {"code", "message": {"lang", "value"}}}``; 429 with
``Retry-After`` while the tenant throttles.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tests.emulators.graph.tenant import Site, SiteGroup, Tenant

READ_ROLES = frozenset({"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All"})


class RestRefusal(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def sharepoint_routes(current: Callable[[], Tenant]) -> APIRouter:
    router = APIRouter()

    @router.get("/_api/web/sitegroups")
    @router.get("/{site_path:path}/_api/web/sitegroups")
    def site_groups(request: Request, site_path: str = ""):
        try:
            site = _site(current(), request, site_path)
        except RestRefusal as refusal:
            return JSONResponse(refusal.body, refusal.status, headers=refusal.headers)
        groups = [_group_json(group, "Users" in request.query_params.get("$expand", "")) for group in site.groups]
        return _page(current(), groups, request)

    return router


def _site(tenant: Tenant, request: Request, site_path: str) -> Site:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    issued = tenant.tokens.get(token) if scheme.lower() == "bearer" else None
    if issued is None:
        raise RestRefusal(401, {"error_description": "Invalid JWT token. The token is expired or not yet valid."})
    if issued.audience != f"https://{tenant.sharepoint_host}":
        raise RestRefusal(401, {"error_description": f"Invalid audience Uri '{issued.audience}'."})
    if not issued.by_certificate:
        raise RestRefusal(
            401, {"error_description": "Unsupported app only token."},
            {"x-ms-diagnostics": '3000003;reason="Unsupported app only token.";category="invalid_client"'},
        )
    if tenant.throttled_requests > 0:
        tenant.throttled_requests -= 1
        raise RestRefusal(429, _odata_error("-2147024860, Microsoft.SharePoint.SPQueryThrottledException",
                                            "The request has been throttled."), {"Retry-After": str(tenant.retry_after_s)})
    if not issued.app.sharepoint_roles & READ_ROLES:
        raise RestRefusal(403, _odata_error("-2147024891, System.UnauthorizedAccessException",
                                            "Access denied. You do not have permission to perform this action or access this resource."))
    site = tenant.site_at(tenant.sharepoint_host, site_path)
    if site is None:
        raise RestRefusal(404, _odata_error("-2147024894, System.IO.FileNotFoundException", "File Not Found."))
    return site


def _odata_error(code: str, message: str) -> dict:
    return {"odata.error": {"code": code, "message": {"lang": "en-US", "value": message}}}


def _group_json(group: SiteGroup, with_users: bool) -> dict:
    body = {"Id": group.id, "Title": group.title, "LoginName": group.title, "PrincipalType": 8, "OnlyAllowMembersViewMembership": False}
    return body | {"Users": [dict(member) for member in group.members]} if with_users else body


def _page(tenant: Tenant, values: list[dict], request: Request) -> dict:
    start = int(request.query_params.get("$skiptoken", "0"))
    end = start + tenant.page_size
    minimal = "odata=nometadata" not in request.headers.get("accept", "")
    body: dict = {"odata.metadata": f"{request.base_url}_api/$metadata#SP.ApiData.Groups"} if minimal else {}
    body["value"] = [value | {"odata.type": "SP.Group"} if minimal else value for value in values[start:end]]
    if end < len(values):
        body["odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": end}))
    return body

