"""Who may read a SharePoint file, from its permissions (GET /drives/{drive}/items/{item}/permissions).

Graph lists the effective permissions, inherited ones included. Each becomes part of an ``Access``:

- a user (``grantedToV2.user``, or the people of a "specific people" link in
  ``grantedToIdentitiesV2``): their email; failing that the userPrincipalName, or
  the address in the SharePoint login name (``i:0#.f|membership|alice@contoso.com``);
- an Entra ID group (``.group``): both its object id and its display name, so an
  Enclave group named either way matches;
- a SharePoint site group (``.siteGroup``, "Engineering Members"): its display name;
- a sharing link with scope ``organization`` (anyone signed in to the tenant) or
  ``anonymous`` (anyone with the link), and the claims "Everyone" and "Everyone
  except external users": everyone in the company, so the file is public;
- anything else (an app, an ``existingAccess`` link) grants no one.

Group and user names are compared lowercased. A file nobody is found for stays
restricted with no readers: only an Enclave admin sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.access import Access

PUBLIC_LINK_SCOPES = {"organization", "anonymous"}
# SharePoint's claims for "Everyone" and "Everyone except external users" (spo-grid-all-users/{tenant id}).
EVERYONE_LOGIN_PREFIXES = ("c:0(.s|true", "c:0-.f|rolemanager|spo-grid-all-users")


def access_from(permissions: Iterable[dict]) -> Access:
    users: set[str] = set()
    groups: set[str] = set()
    for permission in permissions:
        if (permission.get("link") or {}).get("scope") in PUBLIC_LINK_SCOPES:
            return Access.everyone()
        for identities in _identity_sets(permission):
            if _is_everyone(identities):
                return Access.everyone()
            users.update(_user_emails(identities))
            groups.update(_group_names(identities))
    return Access.restricted(users, groups)


def _identity_sets(permission: dict) -> list[dict]:
    granted = [permission.get("grantedToV2"), *(permission.get("grantedToIdentitiesV2") or [])]
    return [identities for identities in granted if identities]


def _is_everyone(identities: dict) -> bool:
    login = ((identities.get("siteUser") or {}).get("loginName") or "").lower()
    return login.startswith(EVERYONE_LOGIN_PREFIXES)


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
