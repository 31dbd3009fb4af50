"""Who may read a SharePoint file, from its permissions (GET /drives/{drive}/items/{item}/permissions).

Graph lists the effective permissions, inherited ones included. Each becomes part of an ``Access``:

- a user (``grantedToV2.user``, or the people of a "specific people" link in
  ``grantedToIdentitiesV2``): their email; failing that the userPrincipalName, or
  the address in the SharePoint login name (``i:0#.f|membership|alice@contoso.com``);
- an Entra ID group (``.group``): both its object id and its display name, so an
  Enclave group named either way matches;
- a SharePoint site group (``.siteGroup``, "Engineering Members"): its display name,
  and, when its members are known (``sitegroups.py``), each of them as above: people by
  e-mail, Entra ID groups by object id and name, "Everyone" as everyone;
- a sharing link with scope ``organization`` (anyone signed in to the tenant) or
  ``anonymous`` (anyone with the link), and the claims "Everyone" and "Everyone
  except external users": everyone in the company, so the file is public;
- anything else (an app, an ``existingAccess`` link) grants no one.

Group and user names are compared lowercased. A file nobody is found for stays
restricted with no readers: only an Enclave admin sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assistant.access import Access

PUBLIC_LINK_SCOPES = {"organization", "anonymous"}
# SharePoint's claims for "Everyone" and "Everyone except external users" (spo-grid-all-users/{tenant id}).
EVERYONE_LOGIN_PREFIXES = ("c:0(.s|true", "c:0-.f|rolemanager|spo-grid-all-users")


@dataclass(frozen=True)
class SiteGroup:
    """A SharePoint site group and who is in it: e-mails, Entra ID group ids and names, or everyone."""

    id: str
    title: str
    people: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    everyone: bool = False


def access_from(permissions: Iterable[dict], site_groups: Mapping[str, SiteGroup] | None = None) -> Access:
    users: set[str] = set()
    groups: set[str] = set()
    for permission in permissions:
        if (permission.get("link") or {}).get("scope") in PUBLIC_LINK_SCOPES:
            return Access.everyone()
        for identities in _identity_sets(permission):
            members = _site_group(identities, site_groups or {})
            if _is_everyone(identities) or (members and members.everyone):
                return Access.everyone()
            users.update(_user_emails(identities))
            groups.update(_group_names(identities))
            if members:
                users.update(members.people)
                groups.update(members.groups)
    return Access.restricted(users, groups)


def site_group_ids(permissions: Iterable[dict]) -> set[str]:
    """The ids of the site groups these permissions grant."""
    return {
        str(identities["siteGroup"]["id"])
        for permission in permissions
        for identities in _identity_sets(permission)
        if (identities.get("siteGroup") or {}).get("id") is not None
    }


def is_everyone_login(login: str) -> bool:
    return login.lower().startswith(EVERYONE_LOGIN_PREFIXES)


def _site_group(identities: dict, site_groups: Mapping[str, SiteGroup]) -> SiteGroup | None:
    site_group = identities.get("siteGroup") or {}
    return site_groups.get(str(site_group.get("id"))) if site_group else None


def _identity_sets(permission: dict) -> list[dict]:
    granted = [permission.get("grantedToV2"), *(permission.get("grantedToIdentitiesV2") or [])]
    return [identities for identities in granted if identities]


def _is_everyone(identities: dict) -> bool:
    return is_everyone_login((identities.get("siteUser") or {}).get("loginName") or "")


def _user_emails(identities: dict) -> set[str]:
    user, site_user = identities.get("user") or {}, identities.get("siteUser") or {}
    if not (user or site_user) or identities.get("group"):
        return set()  # a group's siteUser is the group, not a person
    login = (site_user.get("loginName") or "").rpartition("|")[2]
    email = user.get("email") or user.get("userPrincipalName") or site_user.get("email") or login
    return {email} if "@" in email else set()


def _group_names(identities: dict) -> set[str]:
    group, site_group = identities.get("group") or {}, identities.get("siteGroup") or {}
    names = {group.get("id"), group.get("displayName"), site_group.get("displayName")}
    return {name for name in names if name}
