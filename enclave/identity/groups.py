"""Group sync: everyone's groups read again from the directory, so permissions follow it.

One pass visits each enabled directory person: LDAP people by their DN (through the service account),
OpenID Connect people by their Entra object id (Microsoft Graph), when that directory is configured.
Gained and lost groups are stored and audited (``group_sync.changed``); someone the directory no longer
has, or has disabled, is disabled here too, which ends their sessions and API keys at once. When the
directory cannot be asked, each of its people keeps their groups with the reason recorded; after
``acl_max_staleness_minutes`` they see only public documents (``accounts.viewer_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant import accounts
from assistant.config import Settings
from assistant.db.models import User, as_utc
from assistant.errors import ConfigurationError, DirectoryUnavailable
from enclave import audit
from enclave.identity.graph import GraphDirectory
from enclave.identity.ldap import LdapDirectory


@dataclass(frozen=True)
class DirectoryAnswer:
    """What a directory says of one person now: None groups means gone or disabled."""

    groups: list[str] | None
    admin: bool | None = None  # None: the directory does not decide roles


@dataclass
class SyncReport:
    people: int = 0
    changed: dict[str, list[str]] = field(default_factory=dict)  # e-mail -> ["+g", "-g", "role:admin"]
    disabled: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # e-mail -> why their groups could not be read


def configured_methods(settings: Settings) -> list[str]:
    """The sign-in methods whose people a configured directory can answer for."""
    return sorted(accounts.Freshness.from_settings(settings).synced)


class GroupSync:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]):
        self.settings, self.sessions = settings, sessions

    def run(self, on_person: Callable[[int, int], None] | None = None) -> SyncReport:
        """One pass over every directory person; ``on_person(done, total)`` follows its progress."""
        report = SyncReport()
        methods = configured_methods(self.settings)
        with self.sessions() as session:
            ids = session.scalars(
                select(User.id).where(User.auth_method.in_(methods), User.disabled.is_(False)).order_by(User.id)
            ).all()
        report.people = len(ids)
        with _Directories(self.settings) as directories:
            for done, user_id in enumerate(ids, 1):
                with self.sessions() as session:
                    user = session.get(User, user_id)
                    self._sync_person(session, user, directories, report)
                    session.commit()
                if on_person:
                    on_person(done, len(ids))
        return report

    def _sync_person(self, session: Session, user: User, directories: _Directories, report: SyncReport) -> None:
        try:
            answer = directories.ask(user)
        except DirectoryUnavailable as error:
            accounts.record_group_sync_failure(user, str(error))
            report.failed[user.email] = str(error)
            return
        if answer.groups is None:
            user.disabled = True
            audit.record(session, audit.SYSTEM, "group_sync.disabled", user.email, reason="gone or disabled in the directory")
            report.disabled.append(user.email)
            return
        changes = accounts.record_directory_groups(user, answer.groups)
        if answer.admin is not None and user.is_admin != answer.admin:
            user.role = "admin" if answer.admin else "employee"
            changes.append(f"role:{user.role}")
        if changes:
            audit.record(session, audit.SYSTEM, "group_sync.changed", user.email, changes=changes)
            report.changed[user.email] = changes


class _Directories:
    """The directories of one pass, each opened when its first person is asked about. Once one cannot be
    reached, the rest of its people fail with the same reason instead of each waiting for it again."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._ldap: LdapDirectory | None = None
        self._graph: GraphDirectory | None = None
        self._down: dict[str, DirectoryUnavailable] = {}

    def __enter__(self) -> _Directories:
        return self

    def __exit__(self, *exc) -> None:
        if self._ldap is not None:
            self._ldap.__exit__(*exc)

    def ask(self, user: User) -> DirectoryAnswer:
        if user.auth_method in self._down:
            raise self._down[user.auth_method]
        try:
            return self._ask_ldap(user) if user.auth_method == "ldap" else self._ask_graph(user)
        except (DirectoryUnavailable, ConfigurationError) as error:  # a wrong setting is a reason shown too
            self._down[user.auth_method] = DirectoryUnavailable(str(error))
            raise self._down[user.auth_method] from error

    def _ask_ldap(self, user: User) -> DirectoryAnswer:
        self._ldap = self._ldap or LdapDirectory(self.settings)
        person = self._ldap.person(user.subject)
        if person is None or person.disabled:
            return DirectoryAnswer(None)
        return DirectoryAnswer(person.groups, self._ldap.is_admin(person))

    def _ask_graph(self, user: User) -> DirectoryAnswer:
        self._graph = self._graph or GraphDirectory(self.settings)
        return DirectoryAnswer(self._graph.groups_of(user.subject))


@dataclass(frozen=True)
class DirectoryHealth:
    """How well group sync keeps up, for the admin overview: ``public_only`` lists (e-mail, why) of the people
    shown only public documents now, because their groups are older than acl_max_staleness_minutes."""

    methods: list[str]
    people: int
    last_synced_at: datetime | None
    failing: int
    last_error: str | None
    public_only: list[tuple[str, str]]


def directory_health(session: Session, settings: Settings) -> DirectoryHealth:
    people = session.scalars(
        select(User).where(User.auth_method.in_(accounts.DIRECTORY_METHODS), User.disabled.is_(False)).order_by(User.email)
    ).all()
    freshness = accounts.Freshness.from_settings(settings)
    synced = [as_utc(p.groups_synced_at) for p in people if p.groups_synced_at]
    errors = [p.groups_sync_error for p in people if p.groups_sync_error]
    stale = [(p.email, accounts.groups_staleness(p, freshness)) for p in people if not p.is_admin]
    return DirectoryHealth(
        methods=configured_methods(settings),
        people=len(people),
        last_synced_at=max(synced, default=None),
        failing=len(errors),
        last_error=errors[0] if errors else None,
        public_only=[(email, why) for email, why in stale if why],
    )
