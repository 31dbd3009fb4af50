"""The emulated tenant: app registrations, sites and their groups, document libraries, files and their permissions.

Tests build it, then change it between syncs (``modify``, ``rename``, ``delete``,
``share``, a site group's ``add``/``remove``) and flip its fault switches
(``expire_tokens``, ``expire_delta_tokens``, ``throttle``, ``fail_item``). Every
change of an item takes the next change number, which is what the delta feed
pages by; a sharing change is numbered apart, as Graph lists it only on request.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from cryptography import x509

GRAPH_ROLES = frozenset({"Sites.Read.All", "Files.Read.All"})


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(email: str) -> dict:
    """A user identity (Entra object id, display name, email), the same each time for the same email."""
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, email)), "displayName": email.split("@")[0].title(), "email": email}


# Permission entries, shaped as GET .../items/{id}/permissions returns them.


def user_grant(email: str, roles: tuple[str, ...] = ("read",)) -> dict:
    user = person(email)
    site_user = {"id": "11", "displayName": user["displayName"], "email": email, "loginName": f"i:0#.f|membership|{email}"}
    return {"roles": list(roles), "grantedToV2": {"user": user, "siteUser": site_user}}


def group_grant(group_id: str, name: str, roles: tuple[str, ...] = ("read",)) -> dict:
    return {
        "roles": list(roles),
        "grantedToV2": {
            "group": {"id": group_id, "displayName": name},
            "siteUser": {"id": "12", "displayName": name, "loginName": f"c:0o.c|federateddirectoryclaimprovider|{group_id}"},
        },
    }


def site_group_grant(group: SiteGroup | str, roles: tuple[str, ...] = ("read",)) -> dict:
    """A grant to a site group; by name alone for a group the tests never ask the members of."""
    group_id, name = (str(group.id), group.title) if isinstance(group, SiteGroup) else ("3", group)
    return {"roles": list(roles), "grantedToV2": {"siteGroup": {"id": group_id, "displayName": name, "loginName": name}}}


def sharing_link(scope: str, people: tuple[str, ...] = ()) -> dict:
    """A view link; ``scope`` is anonymous, organization, users (the ``people`` named) or existingAccess."""
    return {
        "roles": ["read"],
        "link": {"scope": scope, "type": "view", "webUrl": f"https://contoso.sharepoint.com/:w:/s/x/{secrets.token_hex(8)}"},
        "grantedToIdentitiesV2": [user_grant(email)["grantedToV2"] for email in people],
        "hasPassword": False,
    }


@dataclass
class App:
    client_id: str
    secret: str | None  # None: the app has certificates only
    roles: frozenset[str] = GRAPH_ROLES  # Microsoft Graph's application permissions
    certificates: list[x509.Certificate] = field(default_factory=list)  # the public parts uploaded
    sharepoint_roles: frozenset[str] = frozenset({"Sites.Read.All"})  # SharePoint's, a separate API in Entra ID


@dataclass(frozen=True)
class IssuedToken:
    app: App
    audience: str  # "https://graph.microsoft.com", or a SharePoint host such as "https://contoso.sharepoint.com"
    by_certificate: bool  # SharePoint's REST API takes app-only tokens got with a certificate only


@dataclass
class SiteGroup:
    """A SharePoint site group; ``members`` are shaped as SharePoint's REST API lists users."""

    id: int
    title: str
    members: list[dict] = field(default_factory=list)

    def add_person(self, email: str) -> None:
        login = f"i:0#.f|membership|{email}"
        self.members.append({"Id": 10 + len(self.members), "Title": person(email)["displayName"], "Email": email,
                             "LoginName": login, "UserPrincipalName": email, "PrincipalType": 1, "IsSiteAdmin": False})

    def add_entra_group(self, object_id: str, name: str) -> None:
        self.members.append({"Id": 10 + len(self.members), "Title": name, "Email": "",
                             "LoginName": f"c:0t.c|tenant|{object_id}", "PrincipalType": 4, "IsSiteAdmin": False})

    def add_everyone(self, tenant_id: str) -> None:
        self.members.append({"Id": 10 + len(self.members), "Title": "Everyone except external users", "Email": "",
                             "LoginName": f"c:0-.f|rolemanager|spo-grid-all-users/{tenant_id}", "PrincipalType": 4, "IsSiteAdmin": False})

    def remove(self, email_or_object_id: str) -> None:
        """Take a person (by e-mail) or an Entra ID group (by object id) out of the group."""
        self.members = [m for m in self.members if not m["LoginName"].endswith(f"|{email_or_object_id}")]


@dataclass
class Item:
    id: str
    name: str
    parent: Item | None
    is_folder: bool
    content: bytes = b""
    permissions: list[dict] | None = None  # None: inherited from the parent folder
    modified_by: str = "alice@contoso.com"
    guid: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    version: int = 1
    created: str = field(default_factory=now)
    modified: str = field(default_factory=now)
    changed: int = 0  # the tenant's change number when this item last changed
    shared: int = 0  # ... when its own permissions last changed (its eTag stays)
    deleted: bool = False

    @property
    def path(self) -> str:
        """Path inside the library, "" for the root folder."""
        if self.parent is None:
            return ""
        return f"{self.parent.path}/{self.name}".lstrip("/")

    @property
    def etag(self) -> str:
        return f'"{{{self.guid}}},{self.version}"'

    @property
    def ctag(self) -> str:
        return f'"c:{{{self.guid}}},{self.version}"'


@dataclass
class Drive:
    tenant: Tenant
    site: Site
    id: str
    name: str
    folder: str  # the library's folder in URLs: the "Documents" library lives in "Shared Documents"
    items: dict[str, Item] = field(default_factory=dict)

    def __post_init__(self):
        self.root = self._add(Item(_item_id(), "root", None, True))

    @property
    def web_url(self) -> str:
        return f"{self.site.web_url}/{quote(self.folder)}"

    def web_url_of(self, item: Item) -> str:
        return f"{self.web_url}/{quote(item.path)}" if item.path else self.web_url

    def folder_at(self, path: str) -> Item:
        """The folder at ``path`` ("A/B"), made if missing."""
        folder = self.root
        for name in filter(None, path.split("/")):
            folder = self._child(folder, name) or self._add(Item(_item_id(), name, folder, True))
        return folder

    def add_file(self, path: str, content: bytes, permissions: list[dict] | None = None, modified_by: str = "alice@contoso.com") -> Item:
        folder_path, _, name = path.rpartition("/")
        return self._add(Item(_item_id(), name, self.folder_at(folder_path), False, content, permissions, modified_by))

    def file(self, name: str) -> Item:
        return next(i for i in self.live_files() if i.name == name)

    def modify(self, item: Item, content: bytes, modified_by: str = "bob@contoso.com") -> None:
        item.content, item.modified_by = content, modified_by
        self._touch(item)

    def share(self, item: Item, permissions: list[dict] | None) -> None:
        """Give the item its own permissions (None: inherit again); its content, eTag and cTag stay."""
        item.permissions = permissions
        item.shared = self.tenant.next_change()

    def rename(self, item: Item, name: str) -> None:
        item.name = name
        self._touch(item)

    def delete(self, item: Item) -> None:
        for gone in [item, *self.descendants(item)]:
            gone.deleted = True
            gone.changed = self.tenant.next_change()

    def children(self, folder: Item) -> list[Item]:
        return [i for i in self.items.values() if i.parent is folder and not i.deleted]

    def descendants(self, folder: Item) -> list[Item]:
        return [d for child in self.children(folder) for d in (child, *self.descendants(child))]

    def live_files(self) -> list[Item]:
        return [i for i in self.items.values() if not i.is_folder and not i.deleted]

    def effective_permissions(self, item: Item) -> list[dict]:
        while item.permissions is None and item.parent is not None:
            item = item.parent
        return item.permissions if item.permissions is not None else self.site.permissions

    def _touch(self, item: Item) -> None:
        item.version += 1
        item.modified = now()
        item.changed = self.tenant.next_change()

    def _child(self, folder: Item, name: str) -> Item | None:
        return next((i for i in self.children(folder) if i.name == name), None)

    def _add(self, item: Item) -> Item:
        item.changed = self.tenant.next_change()
        self.items[item.id] = item
        return item


@dataclass
class Site:
    tenant: Tenant
    hostname: str
    path: str  # server-relative, "/sites/Engineering"
    name: str
    permissions: list[dict]  # what a library's root folder grants
    drives: list[Drive] = field(default_factory=list)
    groups: list[SiteGroup] = field(default_factory=list)

    def __post_init__(self):
        self.id = f"{self.hostname},{uuid.uuid4()},{uuid.uuid4()}"

    @property
    def web_url(self) -> str:
        return f"https://{self.hostname}{self.path}"

    def add_drive(self, name: str, folder: str | None = None) -> Drive:
        drive = Drive(self.tenant, self, "b!" + secrets.token_urlsafe(32), name, folder or name)
        self.drives.append(drive)
        return drive

    def add_group(self, title: str) -> SiteGroup:
        group = SiteGroup(3 + len(self.groups), title)
        self.groups.append(group)
        return group


class Tenant:
    """One Entra tenant with its app registrations and SharePoint sites."""

    def __init__(self, tenant_id: str = "8f3b2c1d-0000-4000-8000-00000000c0de", page_size: int = 2,
                 sharepoint_host: str = "contoso.sharepoint.com"):
        self.tenant_id = tenant_id
        self.page_size = page_size
        self.sharepoint_host = sharepoint_host
        self.apps: dict[str, App] = {}
        self.sites: list[Site] = []
        self.tokens: dict[str, IssuedToken] = {}
        self.tokens_issued = 0
        self.change = 0
        self.delta_generation = 0  # links handed out in an older generation are expired
        self.throttled_requests = 0
        self.retry_after_s = 1
        self.walks: dict[str, list[tuple[str, bool]]] = {}  # (item id, sharing changed) of each delta enumeration
        self.download_grants: dict[str, tuple[str, str]] = {}  # tempauth -> (drive id, item id)
        self.failing_items: set[str] = set()  # ids of items Graph answers 500 for
        # Sites (by web URL) and libraries (by drive id) the app was not granted, as with Sites.Selected: 403.
        self.forbidden: set[str] = set()

    def add_app(self, client_id: str, secret: str | None = None, roles=GRAPH_ROLES, certificate: x509.Certificate | None = None) -> App:
        self.apps[client_id] = App(client_id, secret, frozenset(roles), [certificate] if certificate else [])
        return self.apps[client_id]

    def add_site(self, url: str, name: str, permissions: list[dict] | None = None) -> Site:
        hostname, _, path = url.removeprefix("https://").partition("/")
        site = Site(self, hostname, "/" + path.strip("/") if path else "", name, permissions or [])
        self.sites.append(site)
        return site

    def next_change(self) -> int:
        self.change += 1
        return self.change

    def expire_tokens(self) -> None:
        """Revoke every access token issued so far, as if they had all expired."""
        self.tokens.clear()

    def expire_delta_tokens(self) -> None:
        """Make every nextLink and deltaLink handed out so far answer 410 Gone."""
        self.delta_generation += 1

    def throttle(self, requests: int = 1, retry_after_s: int = 1) -> None:
        """Answer the next ``requests`` Graph calls with 429 and this Retry-After."""
        self.throttled_requests, self.retry_after_s = requests, retry_after_s

    def fail_item(self, item: Item) -> None:
        """Answer 500 generalException for this item (its metadata, permissions and content), as an outage would."""
        self.failing_items.add(item.id)

    def site_at(self, hostname: str, path: str) -> Site | None:
        wanted = (hostname.lower(), "/" + path.strip("/").lower() if path.strip("/") else "")
        return next((s for s in self.sites if (s.hostname.lower(), s.path.lower()) == wanted), None)

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def drive(self, drive_id: str) -> Drive | None:
        return next((d for s in self.sites for d in s.drives if d.id == drive_id), None)

    def files(self) -> Iterator[tuple[Drive, Item]]:
        """Every live file, with its library."""
        for site in self.sites:
            for drive in site.drives:
                for item in drive.live_files():
                    yield drive, item


def _item_id() -> str:
    return "01" + secrets.token_hex(16).upper()
