"""Microsoft Graph v1.0: sites by path, their drives, driveItems, their children, delta, permissions and content.

Delta honours ``Prefer: deltashowsharingchanges`` (items whose permissions alone
changed are listed, marked ``@microsoft.graph.sharedChanged``) and
``hierarchicalsharing`` (only the item whose permissions were set, not those
inheriting from it). Without the first, permission changes are not listed.

Every route needs a bearer token the tenant issued for Graph (401 otherwise), answers 429
while the tenant is throttling, and 403 when the app lacks the Graph roles. An
item that is gone (or never was) answers 404 ``itemNotFound``; one the tenant
marks failing answers 500 ``generalException``, whatever is asked of it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tests.emulators.graph.faults import GraphFault, not_found, require
from tests.emulators.graph.identity import PUBLIC_GRAPH_RESOURCE
from tests.emulators.graph.shapes import (
    drive_json,
    item_json,
    permission_json,
    selected,
    site_json,
)
from tests.emulators.graph.tenant import App, Drive, Item, Tenant

SHARED_CHANGED = "@microsoft.graph.sharedChanged"
SITE_ROLES = frozenset({"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All"})
FILE_ROLES = SITE_ROLES | {"Files.Read.All", "Files.ReadWrite.All"}


def graph_routes(current: Callable[[], Tenant]) -> APIRouter:
    router = APIRouter()

    def caller_app(request: Request) -> App:
        return _caller(current(), request)

    signed_in = Depends(caller_app)

    @router.get("/v1.0/sites/{site_id}/drives")
    def drives(site_id: str, request: Request, caller: App = signed_in):
        require(caller, FILE_ROLES)
        site = current().site(site_id) or not_found("Requested site could not be found")
        return _page(current(), [drive_json(d) for d in site.drives], request)

    @router.get("/v1.0/sites/{reference:path}")
    def site_by_path(reference: str, caller: App = signed_in):
        require(caller, SITE_ROLES)
        hostname, _, path = reference.partition(":")
        site = current().site_at(hostname, path.rstrip(":")) or not_found("Requested site could not be found")
        if site.web_url in current().forbidden:
            raise GraphFault(403, "accessDenied", "Access denied")
        return site_json(site)

    @router.get("/v1.0/drives/{drive_id}/root/delta")
    def delta(drive_id: str, request: Request, token: str | None = None, caller: App = signed_in):
        return _delta(current(), _drive(current(), drive_id, caller), token, request)

    @router.get("/v1.0/drives/{drive_id}/items/{item_id}/children")
    def children(drive_id: str, item_id: str, request: Request, caller: App = signed_in):
        drive = _drive(current(), drive_id, caller)
        select = request.query_params.get("$select")
        listed = [selected(item_json(drive, child, in_delta=False), select) for child in drive.children(_live_item(drive, item_id))]
        return _page(current(), listed, request)

    @router.get("/v1.0/drives/{drive_id}/items/{item_id}")
    def item(drive_id: str, item_id: str, request: Request, caller: App = signed_in):
        drive = _drive(current(), drive_id, caller)
        return selected(item_json(drive, _live_item(drive, item_id), in_delta=False), request.query_params.get("$select"))

    @router.get("/v1.0/drives/{drive_id}/items/{item_id}/permissions")
    def permissions(drive_id: str, item_id: str, request: Request, caller: App = signed_in):
        drive = _drive(current(), drive_id, caller)
        grants = drive.effective_permissions(_live_item(drive, item_id))
        return _page(current(), [permission_json(n, grant) for n, grant in enumerate(grants)], request)

    @router.get("/v1.0/drives/{drive_id}/items/{item_id}/content")
    def content(drive_id: str, item_id: str, request: Request, caller: App = signed_in):
        drive = _drive(current(), drive_id, caller)
        item = _live_item(drive, item_id)
        grant = secrets.token_urlsafe(24)
        current().download_grants[grant] = (drive.id, item.id)
        # On another host, as SharePoint's download URLs are: a client must not send its token there.
        url = request.url.replace(hostname="localhost", path="/_layouts/15/download.aspx", query="")
        return RedirectResponse(f"{url}?UniqueId={item.guid}&tempauth={grant}", status_code=302)

    @router.get("/_layouts/15/download.aspx")
    def download(request: Request, tempauth: str = ""):
        if request.headers.get("authorization"):
            raise GraphFault(401, "unauthenticated", "A pre-authenticated download URL takes no Authorization header.")
        drive_id, item_id = current().download_grants.get(tempauth) or not_found("Unknown or expired download link")
        return Response(_live_item(current().drive(drive_id), item_id).content, media_type="application/octet-stream")

    return router


def _caller(tenant: Tenant, request: Request) -> App:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GraphFault(401, "InvalidAuthenticationToken", "Access token is empty.")
    issued = tenant.tokens.get(token)
    if issued is None:
        raise GraphFault(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    if issued.audience != PUBLIC_GRAPH_RESOURCE:
        raise GraphFault(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    caller = issued.app
    if tenant.throttled_requests > 0:
        tenant.throttled_requests -= 1
        raise GraphFault(429, "activityLimitReached", "The request has been throttled", {"Retry-After": str(tenant.retry_after_s)})
    if not caller.roles:  # a token with no application permission at all
        raise GraphFault(403, "AccessDenied", "Either scp or roles claim need to be present in the token.")
    return caller


def _drive(tenant: Tenant, drive_id: str, caller: App) -> Drive:
    require(caller, FILE_ROLES)
    if drive_id in tenant.forbidden:
        raise GraphFault(403, "accessDenied", "Access denied")
    return tenant.drive(drive_id) or not_found()


def _live_item(drive: Drive, item_id: str) -> Item:
    item = drive.items.get(item_id)
    if item is None or item.deleted:
        not_found()
    if item.id in drive.tenant.failing_items:
        raise GraphFault(500, "generalException", "An unspecified error has occurred.")
    return item


def _page(tenant: Tenant, values: list[dict], request: Request) -> dict:
    """One page of a collection; ``@odata.nextLink`` (with a $skiptoken, as Graph's) leads to the rest."""
    start = int(request.query_params.get("$skiptoken", "0"))
    end = start + tenant.page_size
    body: dict = {"value": values[start:end]}
    if end < len(values):
        body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": end}))
    return body


def _delta(tenant: Tenant, drive: Drive, token: str | None, request: Request) -> dict:
    """A page of the change feed. Tokens are opaque to clients: here, base64 JSON of where the walk is."""
    state = _decode(token) if token else {"gen": tenant.delta_generation}
    link = str(request.url.replace(query=""))
    if state is None or state["gen"] != tenant.delta_generation:
        # Documented: 410 with a Location that starts a fresh enumeration.
        raise GraphFault(410, "resyncRequired", "Resync required. Replace any local items with the server's version.", {"Location": link})
    if "walk" not in state:  # a new enumeration: everything, or what changed since a deltaLink
        prefer = {p.strip().lower() for p in request.headers.get("prefer", "").split(",")}
        state = _start_walk(tenant, drive, state.get("since"), request.query_params.get("$select"), prefer)
    listed = tenant.walks[state["walk"]]
    end = state["pos"] + tenant.page_size
    body: dict = {"value": [_listed(drive, drive.items[i], shared, state["select"]) for i, shared in listed[state["pos"] : end]]}
    if end < len(listed):
        body["@odata.nextLink"] = f"{link}?token={_encode(state | {'pos': end})}"
    else:
        body["@odata.deltaLink"] = f"{link}?token={_encode({'gen': state['gen'], 'since': state['upto'], 'select': state['select']})}"
    return body


def _start_walk(tenant: Tenant, drive: Drive, since: int | None, select: str | None, prefer: set[str]) -> dict:
    if since is None:  # parents before their children, as the service lists them
        listed = [(i.id, False) for i in (drive.root, *drive.descendants(drive.root))]
    else:  # each changed item once, in its latest state; a renamed folder's contents are not listed
        shared = _sharing_changed(drive, since, "hierarchicalsharing" in prefer) if "deltashowsharingchanges" in prefer else set()
        items = sorted(drive.items.values(), key=lambda i: max(i.changed, i.shared if i.id in shared else 0))
        listed = [(i.id, i.id in shared) for i in items if i.changed > since or i.id in shared]
    walk = secrets.token_hex(8)
    tenant.walks[walk] = listed
    return {"gen": tenant.delta_generation, "walk": walk, "pos": 0, "upto": tenant.change, "select": select}


def _sharing_changed(drive: Drive, since: int, hierarchical: bool) -> set[str]:
    """Items whose permissions changed since ``since``; unless hierarchical, with those that inherit them."""
    roots = [i for i in drive.items.values() if i.shared > since and not i.deleted]
    if hierarchical:
        return {i.id for i in roots}
    inheriting = {d.id for root in roots for d in drive.descendants(root) if _inherits_from(d, root)}
    return {i.id for i in roots} | inheriting


def _inherits_from(item: Item, ancestor: Item) -> bool:
    while item is not ancestor:
        if item.permissions is not None:
            return False
        item = item.parent
    return True


def _listed(drive: Drive, item: Item, shared: bool, select: str | None) -> dict:
    body = selected(item_json(drive, item, in_delta=True), select)
    return body | {SHARED_CHANGED: "True"} if shared and not item.deleted else body


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode(token: str) -> dict | None:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return None
