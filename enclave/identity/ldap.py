"""LDAP / Active Directory with ldap3: who a login is, whether their password is right, and their groups.

Enclave binds as its service account to find the person (``ldap_user_filter``), then binds as the person
with the password they typed (kept nowhere), then reads their groups as the service account, nested ones
included: Active Directory resolves nesting itself (LDAP_MATCHING_RULE_IN_CHAIN); on OpenLDAP the groups
whose ``member`` (or ``uniqueMember``) is the person, then those holding those groups, and so on, each
group once however groups loop. Disabled accounts: AD's userAccountControl ACCOUNTDISABLE bit, OpenLDAP's
``pwdAccountLockedTime``. Passwords never cross the network in clear text: ldaps:// or StartTLS is required.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import (
    LDAPBindError,
    LDAPException,
    LDAPInvalidCredentialsResult,
    LDAPNoSuchObjectResult,
)
from ldap3.utils.conv import escape_filter_chars

from assistant.config import Settings
from assistant.errors import ConfigurationError, DirectoryUnavailable

CONNECT_TIMEOUT_S = 5
RECEIVE_TIMEOUT_S = 30
IN_CHAIN = "1.2.840.113556.1.4.1941"  # AD: match through any depth of nested groups
AD_ACCOUNT_DISABLED = 0x2  # userAccountControl ACCOUNTDISABLE
FILTER_BATCH = 50  # groups asked about in one search while walking OpenLDAP's nesting
PAGE_SIZE = 500  # below AD's default MaxPageSize of 1000
# How ldap3 says "wrong password" (or, on AD, a disabled or expired account): after an automatic bind, or
# from the bind itself when exceptions are on.
WRONG_PASSWORD = (LDAPBindError, LDAPInvalidCredentialsResult)

PERSON_ATTRIBUTES = {
    "active_directory": ["mail", "userPrincipalName", "cn", "displayName", "userAccountControl"],
    "openldap": ["mail", "cn", "displayName", "pwdAccountLockedTime"],
}


@dataclass(frozen=True)
class DirectoryPerson:
    """Someone as the directory describes them: ``groups`` are group cn names, nested ones included."""

    dn: str
    email: str | None
    name: str | None
    groups: list[str]
    disabled: bool


class LdapDirectory:
    """One conversation with the directory: its service connection opens on first use and closes on exit."""

    def __init__(self, settings: Settings):
        if not settings.ldap_url:
            raise ConfigurationError("LDAP is not configured; set ldap_url")
        if settings.ldap_url.startswith("ldap://") and not settings.ldap_start_tls:
            raise ConfigurationError(
                f"ldap_url {settings.ldap_url} without ldap_start_tls would send passwords in clear text; "
                "use ldaps:// or set ldap_start_tls = true"
            )
        if not (settings.ldap_bind_dn and settings.ldap_bind_password and settings.ldap_user_base):
            raise ConfigurationError("LDAP needs ldap_bind_dn, ldap_bind_password and ldap_user_base")
        self.settings = settings
        self.url = settings.ldap_url
        self.group_base = settings.ldap_group_base or settings.ldap_user_base
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED, ca_certs_file=str(settings.ldap_ca_file) if settings.ldap_ca_file else None
        )
        # No schema read: fewer round trips, and attributes of the other kind of directory are simply absent.
        self._server = ldap3.Server(self.url, tls=tls, connect_timeout=CONNECT_TIMEOUT_S, get_info=ldap3.NONE)
        self._service: ldap3.Connection | None = None

    def __enter__(self) -> LdapDirectory:
        return self

    def __exit__(self, *exc) -> None:
        if self._service is not None:
            self._service.unbind()
            self._service = None

    def authenticate(self, login: str, password: str) -> DirectoryPerson | None:
        """The person ``login`` names if ``password`` is theirs; None for no such person or a wrong password."""
        if not login.strip() or not password:
            return None  # an empty password would make an unauthenticated bind, which "succeeds"
        search = self.settings.ldap_user_filter.format(login=escape_filter_chars(login.strip()))
        found = self._search(self.settings.ldap_user_base, search, self._person_attributes())
        if len(found) != 1:
            return None  # nobody, or a filter that names several people: nobody to check the password of
        entry = found[0]
        try:
            self._connect(entry["dn"], password).unbind()
        except WRONG_PASSWORD:
            return None
        return self._person(entry)

    def person(self, dn: str) -> DirectoryPerson | None:
        """The person at ``dn`` as the directory has them now; None when they are gone."""
        found = self._search(dn, "(objectClass=*)", self._person_attributes(), scope=ldap3.BASE)
        return self._person(found[0]) if found else None

    def is_admin(self, person: DirectoryPerson) -> bool | None:
        """Whether the directory makes ``person`` an admin; None when ldap_admin_groups leaves roles to Enclave."""
        admin_groups = {g.lower() for g in self.settings.ldap_admin_groups}
        return bool(admin_groups & {g.lower() for g in person.groups}) if admin_groups else None

    # The directory's answers

    def _person(self, entry: dict) -> DirectoryPerson:
        attributes = entry["attributes"]
        email = _first(attributes.get("mail")) or _first(attributes.get("userPrincipalName"))
        name = _first(attributes.get("displayName")) or _first(attributes.get("cn"))
        return DirectoryPerson(entry["dn"], email, name, self._groups_of(entry["dn"]), _disabled(attributes))

    def _groups_of(self, dn: str) -> list[str]:
        if self.settings.ldap_kind == "active_directory":
            found = self._search(self.group_base, f"(member:{IN_CHAIN}:={escape_filter_chars(dn)})", ["cn"])
            return sorted({_first(e["attributes"].get("cn")) for e in found} - {None})
        return self._walk_nested_groups(dn)

    def _walk_nested_groups(self, dn: str) -> list[str]:
        names: set[str] = set()
        seen = {dn.lower()}
        members = [dn]
        while members:
            holders = [group for batch in _batches(members, FILTER_BATCH) for group in self._groups_holding(batch)]
            members = []
            for group in holders:
                if group["dn"].lower() not in seen:  # each group once, however the groups loop
                    seen.add(group["dn"].lower())
                    members.append(group["dn"])
                    names.add(_first(group["attributes"].get("cn")))
        return sorted(names - {None})

    def _groups_holding(self, members: list[str]) -> list[dict]:
        escaped = [escape_filter_chars(m) for m in members]
        search = "(|" + "".join(f"(member={m})(uniqueMember={m})" for m in escaped) + ")"
        return self._search(self.group_base, search, ["cn"])

    def _person_attributes(self) -> list[str]:
        return PERSON_ATTRIBUTES[self.settings.ldap_kind]

    # Talking to the directory

    def _search(self, base: str, search: str, attributes: list[str], scope=ldap3.SUBTREE) -> list[dict]:
        try:
            entries = self._service_connection().extend.standard.paged_search(
                base, search, search_scope=scope, attributes=attributes, paged_size=PAGE_SIZE, generator=False
            )
        except LDAPNoSuchObjectResult as error:
            if scope == ldap3.BASE:
                return []  # the entry asked for is gone
            raise DirectoryUnavailable(
                f"the directory at {self.url} has no {base}; check ldap_user_base and ldap_group_base"
            ) from error
        except LDAPException as error:
            raise DirectoryUnavailable(f"the directory at {self.url} did not answer a search: {error}") from error
        return [e for e in entries if e.get("type") == "searchResEntry"]

    def _service_connection(self) -> ldap3.Connection:
        if self._service is None:
            try:
                self._service = self._connect(self.settings.ldap_bind_dn, self.settings.ldap_bind_password.get_secret_value())
            except WRONG_PASSWORD as error:
                raise DirectoryUnavailable(
                    f"the directory at {self.url} refused Enclave's service account {self.settings.ldap_bind_dn} "
                    f"({error}); check ldap_bind_dn and ldap_bind_password"
                ) from error
        return self._service

    def _connect(self, user: str, password: str) -> ldap3.Connection:
        """A connection bound as ``user``; WRONG_PASSWORD errors for a wrong password, DirectoryUnavailable when
        the directory cannot be reached."""
        bind = ldap3.AUTO_BIND_TLS_BEFORE_BIND if self.settings.ldap_start_tls else ldap3.AUTO_BIND_NO_TLS
        try:
            return ldap3.Connection(
                self._server, user, password, auto_bind=bind, raise_exceptions=True,
                receive_timeout=RECEIVE_TIMEOUT_S, auto_referrals=False,  # referrals lead to other servers
            )  # fmt: skip
        except WRONG_PASSWORD:
            raise
        except LDAPException as error:
            raise DirectoryUnavailable(f"the directory at {self.url} cannot be reached: {error}") from error


def _first(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value not in (None, "") else None


def _disabled(attributes: dict) -> bool:
    control = _first(attributes.get("userAccountControl"))
    if control is not None and int(control) & AD_ACCOUNT_DISABLED:
        return True
    return _first(attributes.get("pwdAccountLockedTime")) is not None


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
