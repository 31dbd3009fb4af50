"""SharePoint Online: the files in every document library of the sites an admin names.

Enclave signs in as an Entra ID app (client credentials: a certificate, or a
client secret; application permissions Sites.Read.All and Files.Read.All) and
reads Microsoft Graph:

- each site by its URL, then its document libraries (drives);
- each library's change feed (driveItem delta): a full walk the first time,
  then only what changed since the stored deltaLink, deletions included. The
  checkpoint is ``{"drives": {drive_id: {"delta": deltaLink}}}``, with
  ``{"next": nextLink, "changes": bool}`` for a walk still under way, and a new
  checkpoint follows every page. An expired deltaLink (410) raises
  CheckpointExpired: the engine loads everything again and prunes with list_ids;
- files only, of the types in include_extensions; a file renamed to a type that
  is not indexed is reported deleted;
- who may read each file, from its permissions (see ``acl.py`` for the mapping).
  With a certificate, the members of each site's groups come from SharePoint's
  REST API, once per sync (``sitegroups.py``), and a grant to a site group
  becomes its members too; when a group's members changed since the last sync,
  every file it is granted is yielded again with its new readers;
- permission changes alone: the change feed lists them (``sharedChanged``) with
  the eTag unchanged, so the indexer applies the new readers without
  downloading or embedding the file again; a folder whose sharing changed
  stands for every file beneath it;
- the bytes only when the indexer asks (the eTag is the version), following
  Graph's redirect to a pre-authenticated URL without the bearer token;
- given items again (``fetch``, to retry earlier failures): each one's driveItem
  (GET /drives/{drive}/items/{item}) becomes the same event a changes-only walk
  would yield for it; an item Graph no longer has (404), one in a library no
  longer configured, or one now of a type not indexed is reported deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import PurePath

from connectors.http import RETRYABLE, SourceSession
from connectors.interfaces import Connector, Deleted, IdListing, PartUnreadable, Refetchable, Skipped, SyncEvent
from connectors.sharepoint import delta
from connectors.sharepoint.acl import access_from, site_group_ids
from connectors.sharepoint.auth import AppTokens
from connectors.sharepoint.config import SharePointConfig, sharepoint_scope
from connectors.sharepoint.errors import GRANT_SITE, GraphError
from connectors.sharepoint.graph import GraphClient
from connectors.sharepoint.libraries import (
    Library,
    Site,
    access_error,
    list_libraries,
    resolve_site,
)
from connectors.sharepoint.paths import FolderPaths
from connectors.sharepoint.sitegroups import (
    MembershipMemory,
    SiteGroups,
    read_site_groups,
)
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
        self._tokens = AppTokens(config, self._session)
        self.graph = GraphClient(config.graph_url, self._session, self._tokens, config.graph_scope)
        self._extensions = frozenset(config.include_extensions)
        self._site_groups: dict[str, SiteGroups] = {}  # by site URL, read once per sync

    def close(self) -> None:
        self._session.close()

    def test_connection(self) -> str:
        sites = [resolve_site(self.graph, url) for url in self.config.site_urls]
        libraries = sum(len(list_libraries(self.graph, site)) for site in sites)
        found = f"Connected: {_count(len(sites), 'site', 'sites')}, {_count(libraries, 'document library', 'document libraries')}"
        if self.config.credential != "certificate":
            return f"{found}; site groups are not expanded to their members (that needs a certificate)"
        groups = sum(len(self._groups_of(site)) for site in sites)
        return f"{found}, {_count(groups, 'site group', 'site groups')}"

    def load(self, checkpoint: dict | None) -> Iterator[SyncEvent]:
        links, memberships = delta.LibraryLinks(checkpoint), MembershipMemory(checkpoint)
        for url in self.config.site_urls:
            try:
                site = resolve_site(self.graph, url)
                groups = self._groups_of(site)
                libraries = list_libraries(self.graph, site)
            except PartUnreadable as refused:
                yield Skipped(f"SharePoint site {url}", str(refused), GRANT_SITE)
                continue
            changed = memberships.changed(site.url, groups)
            for library in libraries:
                try:
                    yield from self._walk(library, groups, changed, links, memberships)
                except PartUnreadable as refused:
                    yield Skipped(f"SharePoint {library.describe()}", str(refused), GRANT_SITE, f"{library.id}:")
            memberships.remember(site.url, groups)  # saved only once every file of the site is up to date
            yield memberships.with_links(links.current())
        yield memberships.with_links(links.final(), final=True)

    def _walk(
        self, library: Library, groups: SiteGroups, changed: set[str], links: delta.LibraryLinks, memberships: MembershipMemory
    ) -> Iterator[SyncEvent]:
        """The library's changes (or everything), then the files granted to site groups whose members changed."""
        link, changes_only = links.start(library)
        paths = FolderPaths(self.graph, library.id)
        listed: set[str] = set()
        for page in delta.pages(self.graph, library, link, headers=delta.SHOW_SHARING_CHANGES):
            for item in page.items:
                listed.add(item["id"])
                yield from self._events(library, item, paths, groups, changes_only)
            yield memberships.with_links(links.advance(library, page, changes_only))
        if changes_only and changed:  # a full walk has just yielded every file with today's members
            yield from self._regranted(library, groups, changed, listed)

    def list_ids(self) -> Iterator[str]:
        """Every file of every library the app may read (one it may not was reported Skipped by load)."""
        for library in self._readable_libraries():
            seen: set[str] = set()  # the feed may list an item twice
            try:
                for page in delta.pages(self.graph, library, delta.first_link(library), {"$select": LIST_IDS_FIELDS}):
                    seen.update(_external_id(library, i) for i in page.items if "file" in i and self._wanted(i))
            except PartUnreadable:
                continue
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
        return next(self._events(library, item, paths, self._groups_of(library.site), changes_only=True), Deleted(external_id))

    def _sites(self) -> Iterator[Site]:
        for url in self.config.site_urls:
            yield resolve_site(self.graph, url)

    def _libraries(self) -> Iterator[Library]:
        for site in self._sites():
            yield from list_libraries(self.graph, site)

    def _readable_libraries(self) -> Iterator[Library]:
        for url in self.config.site_urls:
            try:
                yield from list_libraries(self.graph, resolve_site(self.graph, url))
            except PartUnreadable:
                continue

    def _groups_of(self, site: Site) -> SiteGroups:
        """The site's groups with their members; none without a certificate, which SharePoint's REST API needs."""
        if self.config.credential != "certificate":
            return {}
        if site.url not in self._site_groups:
            rest = GraphClient(
                self.config.rest_root(site.url), self._session, self._tokens, sharepoint_scope(site.url),
                accept="application/json;odata=nometadata",
            )
            self._site_groups[site.url] = read_site_groups(rest, site.url)
        return self._site_groups[site.url]

    def _events(self, library: Library, item: dict, paths: FolderPaths, groups: SiteGroups, changes_only: bool) -> Iterator[SyncEvent]:
        if "deleted" in item:  # it may come without its name or facets: whatever it was, it is gone
            yield Deleted(_external_id(library, item))
        elif "folder" in item:
            paths.learn(item)
            if changes_only and delta.sharing_changed(item):  # its files inherit the change but are not listed
                yield from self._files_beneath(library, item, paths, groups)
        elif "file" in item and self._wanted(item):
            yield self._document(library, item, paths, groups)
        elif "file" in item and changes_only:
            yield Deleted(_external_id(library, item))  # renamed to a type not indexed: drop what was indexed

    def _files_beneath(self, library: Library, folder: dict, paths: FolderPaths, groups: SiteGroups) -> Iterator[SyncEvent]:
        try:
            children = list(self.graph.values(f"drives/{library.id}/items/{folder['id']}/children", {"$select": ITEM_FIELDS}))
        except GraphError as error:  # the run stops before its checkpoint, so the next one re-reads this folder
            raise access_error(library.describe(), error) from error
        for child in children:
            if "folder" in child:
                yield from self._files_beneath(library, child, paths, groups)
            elif "file" in child and self._wanted(child):
                yield self._document(library, child, paths, groups)

    def _regranted(self, library: Library, groups: SiteGroups, changed: set[str], listed: set[str]) -> Iterator[SyncEvent]:
        """Every file of the library granted to a site group whose members changed, with its readers now."""
        paths = FolderPaths(self.graph, library.id)
        for page in delta.pages(self.graph, library, delta.first_link(library), {"$select": ITEM_FIELDS}):
            for item in page.items:
                if "folder" in item:
                    paths.learn(item)
                elif "file" in item and self._wanted(item) and item["id"] not in listed:
                    try:
                        permissions = list(self._permissions(library, item))
                    except GraphError as error:
                        yield ItemFailure(_external_id(library, item), item["name"], f"could not read its permissions: {error}")
                        continue
                    if site_group_ids(permissions) & changed:
                        yield self._document(library, item, paths, groups, permissions)

    def _wanted(self, item: dict) -> bool:
        return PurePath(item.get("name", "")).suffix.lower() in self._extensions

    def _permissions(self, library: Library, item: dict) -> Iterator[dict]:
        return self.graph.values(f"drives/{library.id}/items/{item['id']}/permissions")

    def _document(
        self, library: Library, item: dict, paths: FolderPaths, groups: SiteGroups, permissions: list[dict] | None = None
    ) -> SourceDocument | ItemFailure:
        external_id = _external_id(library, item)
        try:
            access = access_from(self._permissions(library, item) if permissions is None else permissions, groups)
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
