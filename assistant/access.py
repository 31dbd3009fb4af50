"""Who may see a document, and who is asking.

Every document carries an ``Access`` (its ACL); every query carries a ``Viewer``.
The vector store turns a viewer into a filter inside the query itself, so the
top-k is always drawn from what the viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _normalise(values) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v and v.strip())


EVERYONE = "*"
NOBODY = "nobody"


@dataclass(frozen=True)
class Access:
    """A document's ACL: public, or the users (emails) and groups allowed."""

    public: bool = False
    users: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self):
        object.__setattr__(self, "users", _normalise(self.users))
        object.__setattr__(self, "groups", _normalise(self.groups))

    @classmethod
    def everyone(cls) -> Access:
        return cls(public=True)

    @classmethod
    def restricted(cls, users=(), groups=()) -> Access:
        return cls(public=False, users=frozenset(users), groups=frozenset(groups))

    def to_dict(self) -> dict:
        return {"public": self.public, "users": sorted(self.users), "groups": sorted(self.groups)}

    @classmethod
    def from_dict(cls, data: dict | None) -> Access:
        data = data or {}
        return cls(
            public=bool(data.get("public")),
            users=frozenset(data.get("users", ())),
            groups=frozenset(data.get("groups", ())),
        )

    def principals(self) -> list[str]:
        """This ACL as principals (``*``, ``user:<email>``, ``group:<name>``), the form stores filter on."""
        principals = [f"user:{u}" for u in sorted(self.users)] + [f"group:{g}" for g in sorted(self.groups)]
        if self.public:
            principals.insert(0, EVERYONE)
        # Stores refuse an empty list; a document nobody may see is still visible to admins.
        return principals or [NOBODY]

    @classmethod
    def from_principals(cls, principals: list[str]) -> Access:
        return cls(
            public=EVERYONE in principals,
            users=frozenset(p[5:] for p in principals if p.startswith("user:")),
            groups=frozenset(p[6:] for p in principals if p.startswith("group:")),
        )

    def allows(self, viewer: Viewer) -> bool:
        if viewer.sees_everything or self.public:
            return True
        return viewer.email in self.users or bool(viewer.groups & self.groups)


@dataclass(frozen=True)
class Viewer:
    """The person (or API key) a query runs for. ``restricted_hidden`` says why this viewer is shown only
    public documents for now (their directory groups are too old to trust), or is None."""

    email: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    sees_everything: bool = False
    restricted_hidden: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "email", self.email.strip().lower())
        object.__setattr__(self, "groups", _normalise(self.groups))

    def principals(self) -> list[str]:
        """The principals whose documents this viewer may see (meaningless when ``sees_everything``)."""
        own = [f"user:{self.email}"] if self.email else []
        return [EVERYONE, *own, *(f"group:{g}" for g in sorted(self.groups))]

    @classmethod
    def public_only(cls, reason: str) -> Viewer:
        """Someone whose permissions cannot be trusted right now: fail closed, show only public documents."""
        return cls(restricted_hidden=reason)

    @classmethod
    def operator(cls) -> Viewer:
        """The local operator at the CLI, or an admin: sees every document."""
        return cls(email="", sees_everything=True)
