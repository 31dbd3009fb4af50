"""SharePoint Online: the files in every document library of the sites an admin names.

Enclave signs in as an Entra ID app (client credentials, application permissions
Sites.Read.All and Files.Read.All) and reads Microsoft Graph:

- each site by its URL, then its document libraries (drives);
- each library's change feed (driveItem delta): a full walk the first time,
  then only what changed since the stored deltaLink, deletions included. The
  checkpoint is ``{"drives": {drive_id: {"delta": deltaLink}}}``, with
  ``{"next": nextLink, "changes": bool}`` for a walk still under way, and a new
  checkpoint follows every page. An expired deltaLink (410) raises
  CheckpointExpired: the engine loads everything again and prunes with list_ids;
- files only, of the types in include_extensions; a file renamed to a type that
  is not indexed is reported deleted;
- who may read each file, from its permissions (see ``acl.py`` for the mapping);
- the bytes only when the indexer asks (the eTag is the version), following
  Graph's redirect to a pre-authenticated URL without the bearer token;
- given items again (``fetch``, to retry earlier failures): each one's driveItem
  (GET /drives/{drive}/items/{item}) becomes the same event a changes-only walk
  would yield for it; an item Graph no longer has (404), one in a library no
  longer configured, or one now of a type not indexed is reported deleted.

Permission changes alone do not bump a file's eTag, and the change feed may not
show them; a file's ACL is refreshed whenever it changes, and on a full load.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import PurePath

from connectors.http import RETRYABLE, SourceSession
from connectors.interfaces import Connector, Deleted, IdListing, Refetchable, SyncEvent
from connectors.sharepoint import delta
from connectors.sharepoint.acl import access_from
from connectors.sharepoint.auth import GraphTokens
from connectors.sharepoint.config import SharePointConfig
from connectors.sharepoint.errors import GraphError
from connectors.sharepoint.graph import GraphClient
from connectors.sharepoint.libraries import (
    Library,
    access_error,
    list_libraries,
    resolve_site,
)
from connectors.sharepoint.paths import FolderPaths
from ingest.documents import ItemFailure, SourceDocument

LIST_IDS_FIELDS = "id,name,file,deleted"
# What _events and _document read of a driveItem; outside delta, parentReference also carries the folder's path.
ITEM_FIELDS = "id,name,file,folder,deleted,webUrl,eTag,cTag,lastModifiedDateTime,lastModifiedBy,parentReference"


class SharePointConnector(Connector, IdListing, Refetchable):
    type = "sharepoint"
    label = "SharePoint"
    Config = SharePointConfig
    reports_deletions = True
    config: SharePointConfig

    def __init__(self, config: SharePointConfig):
        super().__init__(config)
        self._session = SourceSession(config.ca_bundle)
        self.graph = GraphClient(config.graph_url, self._session, GraphTokens(config, self._session))
        self._extensions = frozenset(config.include_extensions)

    def close(self) -> None:
        self._session.close()

    def test_connection(self) -> str:
        sites = [resolve_site(self.graph, url) for url in self.config.site_urls]
        libraries = sum(len(list_libraries(self.graph, site)) for site in sites)
        return f"Connected: {_count(len(sites), 'site', 'sites')}, {_count(libraries, 'document library', 'document libraries')}"

    def load(self, checkpoint: dict | None) -> Iterator[SyncEvent]:
        links = delta.LibraryLinks(checkpoint)
        for library in self._libraries():
            link, changes_only = links.start(library)
            paths = FolderPaths(self.graph, library.id)
            for page in delta.pages(self.graph, library, link):
                for item in page.items:
                    yield from self._events(library, item, paths, changes_only)
                yield links.advance(library, page, changes_only)
        yield links.final()

    def list_ids(self) -> Iterator[str]:
        for library in self._libraries():
            seen: set[str] = set()  # the feed may list an item twice
            for page in delta.pages(self.graph, library, delta.first_link(library), {"$select": LIST_IDS_FIELDS}):
                seen.update(_external_id(library, i) for i in page.items if "file" in i and self._wanted(i))
            yield from sorted(seen)

    def fetch(self, external_ids: list[str]) -> Iterator[SyncEvent]:
        libraries: dict[str, Library] | None = None  # looked up once, and only if there is something to fetch
        paths: dict[str, FolderPaths] = {}
        for external_id in external_ids:
            drive_id, _, item_id = external_id.partition(":")
            if not (drive_id and item_id):
                yield ItemFailure(external_id, external_id, "not a SharePoint item id (expected 'drive id:item id')")
                continue
            if libraries is None:
                libraries = {library.id: library for library in self._libraries()}
            library = libraries.get(drive_id)
            if library is None:  # its library or site is gone, or no longer among those configured
                yield Deleted(external_id)
                continue
            yield self._refetch(library, item_id, paths.setdefault(library.id, FolderPaths(self.graph, library.id)))

    def _refetch(self, library: Library, item_id: str, paths: FolderPaths) -> SyncEvent:
        external_id = f"{library.id}:{item_id}"
        try:
            item = self.graph.get(f"drives/{library.id}/items/{item_id}", {"$select": ITEM_FIELDS})
        except GraphError as error:
            if error.status == 404:  # itemNotFound: deleted, or in the recycle bin
                return Deleted(external_id)
            if error.status in (401, 403):  # the app's access, not this item: stop, as a walk would
                raise access_error(library.describe(), error) from error
            if error.status in RETRYABLE:  # still throttled after the session's retries
                raise
            return ItemFailure(external_id, external_id, f"could not read it from {library.describe()}: {error}")
        # What a changes-only walk would yield; anything that yields nothing there (a folder) is not indexed either.
        return next(self._events(library, item, paths, changes_only=True), Deleted(external_id))

    def _libraries(self) -> Iterator[Library]:
        for url in self.config.site_urls:
            yield from list_libraries(self.graph, resolve_site(self.graph, url))

    def _events(self, library: Library, item: dict, paths: FolderPaths, changes_only: bool) -> Iterator[SyncEvent]:
        if "deleted" in item:  # it may come without its name or facets: whatever it was, it is gone
            yield Deleted(_external_id(library, item))
        elif "folder" in item:
            paths.learn(item)
        elif "file" in item and self._wanted(item):
            yield self._document(library, item, paths)
        elif "file" in item and changes_only:
            yield Deleted(_external_id(library, item))  # renamed to a type not indexed: drop what was indexed

    def _wanted(self, item: dict) -> bool:
        return PurePath(item.get("name", "")).suffix.lower() in self._extensions

    def _document(self, library: Library, item: dict, paths: FolderPaths) -> SourceDocument | ItemFailure:
        external_id = _external_id(library, item)
        try:
            access = access_from(self.graph.values(f"drives/{library.id}/items/{item['id']}/permissions"))
            path = paths.of(item)
        except GraphError as error:
            return ItemFailure(external_id, item["name"], f"could not read its permissions or folder: {error}")
        return SourceDocument(
            external_id=external_id,
            title=item["name"],
            uri=item.get("webUrl", ""),
            content=partial(self.graph.download, library.id, item["id"]),
            filename=item["name"],
            mime_type=item["file"].get("mimeType"),
            modified_at=_timestamp(item.get("lastModifiedDateTime")),
            version=item.get("eTag") or item.get("cTag"),
            access=access,
            metadata={
                "site_url": library.site.url,
                "drive": library.name,
                "path": path,
                "last_modified_by": _person(item.get("lastModifiedBy")),
            },
        )


def _external_id(library: Library, item: dict) -> str:
    return f"{library.id}:{item['id']}"


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _person(identity_set: dict | None) -> str:
    user = (identity_set or {}).get("user") or {}
    return user.get("email") or user.get("displayName") or ""


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
