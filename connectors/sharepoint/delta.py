"""A document library's change feed (driveItem delta), and where each library's walk stands.

A walk with no link lists every item of the library; a walk from a deltaLink
lists what changed since, deleted items included. The checkpoint keeps, per
library id, ``{"delta": deltaLink}`` once a walk is over, or ``{"next": nextLink,
"changes": bool}`` while one is under way, so a killed run resumes mid-walk.

Walks that load changes ask Graph to list sharing changes too (``Prefer:
deltashowsharingchanges, hierarchicalsharing``): an item whose permissions alone
changed comes back with ``@microsoft.graph.sharedChanged``, its eTag unchanged;
with hierarchical sharing a folder stands for the files that inherit from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from connectors.interfaces import Checkpoint, CheckpointExpired, ConnectorError
from connectors.sharepoint.errors import GraphError
from connectors.sharepoint.graph import GraphClient
from connectors.sharepoint.libraries import Library, access_error

SHOW_SHARING_CHANGES = {"Prefer": "deltashowsharingchanges, hierarchicalsharing"}


@dataclass(frozen=True)
class DeltaPage:
    items: list[dict]
    next_link: str | None
    delta_link: str | None


def first_link(library: Library) -> str:
    return f"drives/{library.id}/root/delta"


def sharing_changed(item: dict) -> bool:
    return str(item.get("@microsoft.graph.sharedChanged", "")).lower() == "true"


def pages(graph: GraphClient, library: Library, link: str, params: dict | None = None, headers: dict | None = None) -> Iterator[DeltaPage]:
    while link:
        try:
            body = graph.get(link, params, headers)
        except GraphError as error:
            if error.status == 410:  # the token is too old, or the service reset it: only a full walk helps
                raise CheckpointExpired(f"SharePoint can no longer list the changes of {library.describe()} ({error.code})") from error
            raise access_error(library.describe(), error) from error
        page = DeltaPage(body.get("value", []), body.get("@odata.nextLink"), body.get("@odata.deltaLink"))
        if not (page.next_link or page.delta_link):
            raise ConnectorError(f"Microsoft Graph ended the change list of {library.describe()} without a deltaLink")
        yield page
        link, params = page.next_link, None


class LibraryLinks:
    """Each library's resume link, read from and written to the checkpoint ``{"drives": {id: link}}``."""

    def __init__(self, checkpoint: dict | None):
        self._links: dict[str, dict] = dict((checkpoint or {}).get("drives", {}))
        self._visited: set[str] = set()

    def start(self, library: Library) -> tuple[str, bool]:
        """The link to walk from, and whether the walk lists only changes."""
        self._visited.add(library.id)
        link = self._links.get(library.id, {})
        if "next" in link:
            return link["next"], link.get("changes", False)
        if "delta" in link:
            return link["delta"], True
        return first_link(library), False

    def advance(self, library: Library, page: DeltaPage, changes: bool) -> Checkpoint:
        if page.next_link:
            self._links[library.id] = {"next": page.next_link, "changes": changes}
        else:
            self._links[library.id] = {"delta": page.delta_link}
        return self.current()

    def current(self) -> Checkpoint:
        return Checkpoint({"drives": dict(self._links)})

    def final(self) -> Checkpoint:
        """Only the libraries walked this run: a library or site that is gone leaves no link behind."""
        return Checkpoint({"drives": {id_: link for id_, link in self._links.items() if id_ in self._visited}})
