"""Signing in with a directory password (LDAP / Active Directory): the account is made or brought up to date
from what the directory says (name, groups, role), and every attempt lands in the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from assistant import accounts
from assistant.config import Settings
from assistant.db.models import User
from assistant.errors import DirectoryUnavailable, Forbidden
from enclave import audit
from enclave.identity.ldap import DirectoryPerson, LdapDirectory


def sign_in_with_ldap(session: Session, settings: Settings, login: str, password: str, address: str) -> User | None:
    """The account of whoever ``login`` and ``password`` prove to be; None for a wrong login or password.

    Raises DirectoryUnavailable when the directory cannot be asked, and Forbidden when it says the account is
    disabled or gives no e-mail address. Failures are audited and committed; success is audited in ``session``.
    """
    failed = audit.Actor(None, "ldap", address)
    try:
        with LdapDirectory(settings) as directory:
            person = directory.authenticate(login, password)
            admin = directory.is_admin(person) if person else None
        if person is None:
            audit.record(session, failed, "sign_in", login, "failed", reason="wrong login or password")
            return None
        _check_usable(person)
        user = accounts.sign_in_directory_person(
            session, method="ldap", subject=person.dn, email=person.email, name=person.name, groups=person.groups,
            admin=admin,
        )  # fmt: skip
    except (DirectoryUnavailable, Forbidden, accounts.AccountError) as error:
        session.rollback()
        audit.record(session, failed, "sign_in", login, "failed", reason=str(error))
        session.commit()
        raise
    audit.record(session, audit.Actor(user.email, "ldap", address), "sign_in", user.email, "ok", groups=user.groups)
    return user


def _check_usable(person: DirectoryPerson) -> None:
    if person.disabled:
        raise Forbidden("your account is disabled in the company directory; ask an admin")
    if not person.email:
        raise Forbidden(f"the directory has no e-mail address for {person.dn}; ask an admin to set its mail")

