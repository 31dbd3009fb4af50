"""The sites an admin named, and their document libraries (Graph calls them drives)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.interfaces import ConnectorError, PartUnreadable
from connectors.sharepoint.errors import GRANT_PERMISSIONS, GraphError
from connectors.sharepoint.graph import GraphClient


@dataclass(frozen=True)
class Site:
    id: str
    url: str  # as the admin typed it
    name: str


@dataclass(frozen=True)
class Library:
    id: str
    name: str
    site: Site

    def describe(self) -> str:
        return f"library '{self.name}' of {self.site.url}"


def resolve_site(graph: GraphClient, url: str) -> Site:
    """The site at ``url`` (GET /sites/{hostname}:/{server-relative path})."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    try:
        site = graph.get(f"sites/{parts.hostname}:/{path}" if path else f"sites/{parts.hostname}")
    except GraphError as error:
        raise site_error(url, error) from error
    return Site(site["id"], url, site.get("displayName") or site.get("name") or url)


def list_libraries(graph: GraphClient, site: Site) -> list[Library]:
    try:
        drives = list(graph.values(f"sites/{site.id}/drives"))
    except GraphError as error:
        raise site_error(site.url, error) from error
    return [Library(d["id"], d.get("name") or d["id"], site) for d in drives if d.get("driveType", "documentLibrary") == "documentLibrary"]


def site_error(url: str, error: GraphError) -> ConnectorError:
    if error.status == 404:
        return ConnectorError(
            f"SharePoint has no site at {url} (HTTP 404 {error.code}). Open the site in a browser and copy its "
            "address up to the site name, e.g. https://contoso.sharepoint.com/sites/Engineering."
        )
    return access_error(url, error)


def access_error(what: str, error: GraphError) -> ConnectorError:
    """401: the app's sign-in no longer works (the whole run stops); 403: this site or library is not granted
    to the app (a sync skips it and goes on with the rest)."""
    if error.status in (401, 403):
        refused = PartUnreadable if error.status == 403 else ConnectorError
        return refused(f"SharePoint refused access to {what} (HTTP {error.status} {error.code}: {error.detail}). {GRANT_PERMISSIONS}")
    return error
