"""Graph resources as JSON, with the documented differences of the delta feed.

Delta leaves out ``cTag`` and ``parentReference.path``, and a deleted item comes
with its id, its parent and the ``deleted`` facet only (no name).
"""

from __future__ import annotations

import mimetypes

from tests.emulators.graph.tenant import Drive, Item, Site, person


def site_json(site: Site) -> dict:
    return {
        "id": site.id,
        "name": site.path.rsplit("/", 1)[-1] or site.hostname,
        "displayName": site.name,
        "webUrl": site.web_url,
        "createdDateTime": "2023-01-01T00:00:00Z",
        "siteCollection": {"hostname": site.hostname},
    }


def drive_json(drive: Drive) -> dict:
    return {"id": drive.id, "name": drive.name, "driveType": "documentLibrary", "webUrl": drive.web_url, "description": ""}


def item_json(drive: Drive, item: Item, in_delta: bool) -> dict:
    if item.deleted:
        return {"id": item.id, "parentReference": _parent(drive, item, in_delta), "deleted": {"state": "deleted"}}
    body = {
        "id": item.id,
        "name": item.name,
        "eTag": item.etag,
        "webUrl": drive.web_url_of(item),
        "createdDateTime": item.created,
        "lastModifiedDateTime": item.modified,
        "size": len(item.content) if not item.is_folder else sum(len(d.content) for d in drive.descendants(item)),
        "parentReference": _parent(drive, item, in_delta),
        "createdBy": _identity(item.modified_by),
        "lastModifiedBy": _identity(item.modified_by),
        **_facets(drive, item),
    }
    if not in_delta:
        body["cTag"] = item.ctag
    return body


def permission_json(number: int, grant: dict) -> dict:
    return {"id": str(number), **grant}


def selected(item: dict, select: str | None) -> dict:
    """``$select``: only the named properties (and the id)."""
    if not select:
        return item
    wanted = {"id", *select.split(",")}
    return {key: value for key, value in item.items() if key in wanted}


def _parent(drive: Drive, item: Item, in_delta: bool) -> dict:
    parent = {"driveType": "documentLibrary", "driveId": drive.id}
    if item.parent is not None:
        parent["id"] = item.parent.id
        if not in_delta:
            parent["path"] = f"/drives/{drive.id}/root:" + (f"/{item.parent.path}" if item.parent.path else "")
    return parent


def _identity(email: str) -> dict:
    return {"user": person(email)}


def _facets(drive: Drive, item: Item) -> dict:
    if not item.is_folder:
        return {"file": {"mimeType": mimetypes.guess_type(item.name)[0] or "application/octet-stream"}}
    facets: dict = {"folder": {"childCount": len(drive.children(item))}}
    if item.parent is None:
        facets["root"] = {}
    return facets
