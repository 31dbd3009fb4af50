"""Who is in each SharePoint site group ("Engineering Members"), read from the site's REST API, and what changed.

``GET {site}/_api/web/sitegroups?$expand=Users`` (``Accept: application/json;odata=nometadata``)
lists the groups (``Id``, ``Title``, ``LoginName``) with their members, each a
person (``PrincipalType`` 1, ``i:0#.f|membership|alice@contoso.com``), an Entra ID
group (4; ``c:0t.c|tenant|{object id}`` for a security group,
``c:0o.c|federateddirectoryclaimprovider|{object id}`` for a Microsoft 365 group,
``…_o`` for its owners) or one of the claims that mean everyone in the company.
SharePoint serves its REST API only to apps that sign in with a certificate.

Each group's membership is fingerprinted; the checkpoint keeps the fingerprints
under ``{"site_groups": {site url: {group id: fingerprint}}}``, so the next sync
knows which groups changed and re-checks the files they are granted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from connectors.interfaces import Checkpoint, ConnectorError
from connectors.sharepoint.acl import SiteGroup, is_everyone_login
from connectors.sharepoint.errors import GRANT_SHAREPOINT_PERMISSIONS, GraphError
from connectors.sharepoint.graph import GraphClient

SiteGroups = Mapping[str, SiteGroup]  # by group id, as Graph's siteGroup.id names it ("5")

PERSON, DISTRIBUTION_LIST, SECURITY_GROUP = 1, 2, 4
ENTRA_GROUP_CLAIMS = ("c:0t.c|tenant|", "c:0o.c|federateddirectoryclaimprovider|")


def read_site_groups(rest: GraphClient, site_url: str) -> dict[str, SiteGroup]:
    """Every site group of the site with its members; raises ConnectorError saying what to fix."""
    try:
        groups = list(rest.values("web/sitegroups", {"$expand": "Users"}))
    except GraphError as error:
        raise _refused(site_url, error) from error
    return {str(group["Id"]): _site_group(group) for group in groups}


def fingerprint(group: SiteGroup) -> str:
    members = {"title": group.title, "people": sorted(group.people), "groups": sorted(group.groups), "everyone": group.everyone}
    return hashlib.sha256(json.dumps(members, sort_keys=True).encode()).hexdigest()[:32]


class MembershipMemory:
    """The fingerprints of each site's groups as of the last finished sync, and which groups differ now."""

    def __init__(self, checkpoint: dict | None):
        self._stored: dict[str, dict[str, str]] = dict((checkpoint or {}).get("site_groups", {}))
        self._visited: set[str] = set()

    def changed(self, site_url: str, groups: SiteGroups) -> set[str]:
        """Ids of the groups whose members differ from the stored ones (new, gone or changed)."""
        before, now = self._stored.get(site_url, {}), {id_: fingerprint(g) for id_, g in groups.items()}
        return {id_ for id_ in before.keys() | now.keys() if before.get(id_) != now.get(id_)}

    def remember(self, site_url: str, groups: SiteGroups) -> None:
        """The site's files are up to date with these memberships."""
        self._visited.add(site_url)
        self._stored[site_url] = {id_: fingerprint(g) for id_, g in groups.items()}

    def with_links(self, links: Checkpoint, final: bool = False) -> Checkpoint:
        """``links`` (the libraries' resume links) with the memberships; the final one keeps only sites synced."""
        stored = {url: groups for url, groups in self._stored.items() if url in self._visited or not final}
        return Checkpoint({**links.state, "site_groups": stored})


def _site_group(group: dict) -> SiteGroup:
    people: set[str] = set()
    groups: set[str] = set()
    everyone = False
    for user in group.get("Users") or []:
        login = user.get("LoginName") or ""
        kind = user.get("PrincipalType")
        if is_everyone_login(login):
            everyone = True
        elif kind == PERSON:
            email = user.get("Email") or user.get("UserPrincipalName") or login.rpartition("|")[2]
            people.update({email.lower()} if "@" in email else ())
        elif kind in (SECURITY_GROUP, DISTRIBUTION_LIST) and login.lower().startswith(ENTRA_GROUP_CLAIMS):
            object_id = login.rpartition("|")[2].removesuffix("_o")  # a Microsoft 365 group's owners: the same group
            groups.update(name.lower() for name in (object_id, user.get("Title")) if name)
        # anything else (an app, a system account) grants no one
    title = group.get("Title") or group.get("LoginName") or ""
    return SiteGroup(str(group["Id"]), title, frozenset(people), frozenset(groups), everyone)


def _refused(site_url: str, error: GraphError) -> ConnectorError:
    if error.status == 401:
        return ConnectorError(
            f"SharePoint refused to list the site groups of {site_url} (HTTP 401: {error.detail}). SharePoint's "
            "REST API takes an app-only sign-in by certificate only: upload one to the app registration and set "
            f"credential 'certificate'. {GRANT_SHAREPOINT_PERMISSIONS}"
        )
    if error.status == 403:
        return ConnectorError(
            f"SharePoint refused to list the site groups of {site_url} (HTTP 403: {error.detail}). {GRANT_SHAREPOINT_PERMISSIONS}"
        )
    return ConnectorError(f"could not list the site groups of {site_url}: SharePoint answered HTTP {error.status} {error.code}: {error.detail}")
