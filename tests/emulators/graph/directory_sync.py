"""Microsoft Graph v1.0's directory: users, groups nested in groups, and who is in what, for group sync tests.

``directory_of(tenant)`` is the tenant's ``Directory``, which tests fill and change between passes. Routes,
shaped as Microsoft documents them:

- ``GET /v1.0/users/{id}``: the user (``accountEnabled`` only when ``$select``-ed, as Graph does);
- ``GET /v1.0/users/{id}/transitiveMemberOf``: every group the user is in, nested ones included, as
  ``#microsoft.graph.group`` objects, and directory roles as ``#microsoft.graph.directoryRole``;
- ``GET /v1.0/groups/{id}/transitiveMembers``: every user and group inside a group, at any depth.

Collections are paged: a page holds ``$top`` objects but never more than the tenant's ``page_size`` (Graph may
give fewer than asked), and ``@odata.nextLink`` (with a ``$skiptoken``) leads to the rest. An unknown user or
group answers 404 ``Request_ResourceNotFound``. The token, throttling (429 with Retry-After, while
``tenant.throttle`` is on) and role checks are those of the file APIs; ``Directory.throttle_page`` makes one
later page of a collection answer 429 once, as Graph may in the middle of paging.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request

from tests.emulators.graph.faults import GraphFault, require
from tests.emulators.graph.files import _caller
from tests.emulators.graph.shapes import selected
from tests.emulators.graph.tenant import App, Tenant

DIRECTORY_ROLES = frozenset({"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "User.Read.All"})
MAX_TOP = 999


@dataclass
class DirectoryUser:
    id: str
    upn: str
    display_name: str
    enabled: bool = True


@dataclass
class DirectoryGroup:
    id: str
    display_name: str
    members: list[str] = field(default_factory=list)  # ids of users and groups
    kind: str = "group"  # or "directoryRole"


class Directory:
    def __init__(self):
        self.users: dict[str, DirectoryUser] = {}
        self.groups: dict[str, DirectoryGroup] = {}
        self.throttled_pages: dict[int, int] = {}  # $skiptoken -> Retry-After seconds, answered once

    def throttle_page(self, skiptoken: int, retry_after_s: int = 1) -> None:
        """The next request for the page at ``skiptoken`` of any collection answers 429 with this Retry-After."""
        self.throttled_pages[skiptoken] = retry_after_s

    def add_user(self, upn: str, enabled: bool = True) -> DirectoryUser:
        user = DirectoryUser(str(uuid.uuid5(uuid.NAMESPACE_URL, upn)), upn, upn.split("@")[0].title(), enabled)
        self.users[user.id] = user
        return user

    def add_group(self, name: str, *members: DirectoryUser | DirectoryGroup, kind: str = "group") -> DirectoryGroup:
        group = DirectoryGroup(str(uuid.uuid4()), name, [m.id for m in members], kind)
        self.groups[group.id] = group
        return group

    def add_member(self, group: DirectoryGroup, member: DirectoryUser | DirectoryGroup) -> None:
        group.members.append(member.id)

    def remove_member(self, group: DirectoryGroup, member: DirectoryUser | DirectoryGroup) -> None:
        group.members.remove(member.id)

    def delete_user(self, user: DirectoryUser) -> None:
        del self.users[user.id]
        for group in self.groups.values():
            if user.id in group.members:
                group.members.remove(user.id)

    def transitive_member_of(self, object_id: str) -> list[DirectoryGroup]:
        """Groups holding ``object_id``, then the groups holding those, each once however they nest."""
        found: dict[str, DirectoryGroup] = {}
        wanted = [object_id]
        while wanted:
            inner = wanted.pop()
            for group in self.groups.values():
                if inner in group.members and group.id not in found:
                    found[group.id] = group
                    wanted.append(group.id)
        return list(found.values())

    def transitive_members(self, group_id: str) -> list[DirectoryUser | DirectoryGroup]:
        found: dict[str, DirectoryUser | DirectoryGroup] = {}
        wanted = [group_id]
        while wanted:
            for member_id in self.groups[wanted.pop()].members:
                member = self.users.get(member_id) or self.groups.get(member_id)
                if member is not None and member_id not in found:
                    found[member_id] = member
                    if isinstance(member, DirectoryGroup):
                        wanted.append(member_id)
        return list(found.values())


_directories: weakref.WeakKeyDictionary[Tenant, Directory] = weakref.WeakKeyDictionary()


def directory_of(tenant: Tenant) -> Directory:
    """The tenant's directory of users and groups, made empty on first use."""
    return _directories.setdefault(tenant, Directory())


def user_json(user: DirectoryUser, select: str | None) -> dict:
    shown = {"id": user.id, "displayName": user.display_name, "userPrincipalName": user.upn, "mail": user.upn}
    if select:  # accountEnabled is not among a user's default properties
        shown = selected(shown | {"accountEnabled": user.enabled}, select)
    return {"@odata.type": "#microsoft.graph.user", **shown}


def group_json(group: DirectoryGroup) -> dict:
    if group.kind != "group":
        return {"@odata.type": f"#microsoft.graph.{group.kind}", "id": group.id, "displayName": group.display_name}
    return {"@odata.type": "#microsoft.graph.group", "id": group.id, "displayName": group.display_name,
            "securityEnabled": True, "mailEnabled": False, "groupTypes": []}  # fmt: skip


def directory_routes(current: Callable[[], Tenant]) -> APIRouter:
    router = APIRouter()

    def reader(request: Request) -> App:
        caller = _caller(current(), request)
        require(caller, DIRECTORY_ROLES)
        return caller

    signed_in = Depends(reader)

    @router.get("/v1.0/users/{user_id}")
    def user(user_id: str, request: Request, _: App = signed_in):
        return user_json(_user(current(), user_id), request.query_params.get("$select"))

    @router.get("/v1.0/users/{user_id}/transitiveMemberOf")
    def transitive_member_of(user_id: str, request: Request, _: App = signed_in):
        directory = directory_of(current())
        groups = directory.transitive_member_of(_user(current(), user_id).id)
        return _page(current(), [group_json(g) for g in groups], request)

    @router.get("/v1.0/groups/{group_id}/transitiveMembers")
    def transitive_members(group_id: str, request: Request, _: App = signed_in):
        directory = directory_of(current())
        if group_id not in directory.groups:
            _not_found(group_id)
        members = directory.transitive_members(group_id)
        shown = [user_json(m, None) if isinstance(m, DirectoryUser) else group_json(m) for m in members]
        return _page(current(), shown, request)

    return router


def _user(tenant: Tenant, user_id: str) -> DirectoryUser:
    directory = directory_of(tenant)
    found = directory.users.get(user_id) or next((u for u in directory.users.values() if u.upn == user_id), None)
    return found or _not_found(user_id)


def _not_found(object_id: str):
    raise GraphFault(
        404, "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present.",
    )  # fmt: skip


def _page(tenant: Tenant, values: list[dict], request: Request) -> dict:
    start = int(request.query_params.get("$skiptoken", "0"))
    if start in directory_of(tenant).throttled_pages:
        wait = directory_of(tenant).throttled_pages.pop(start)
        raise GraphFault(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(wait)})
    top = min(int(request.query_params.get("$top", "100")), MAX_TOP)
    end = start + min(top, tenant.page_size)
    body: dict = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": values[start:end]}
    if end < len(values):
        body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": end}))
    return body
