"""Users, passwords, API keys and browser sessions: the rules, shared by the CLI and the server.

Passwords are hashed with argon2. API keys and session tokens are long random
strings, so a plain SHA-256 of them is stored and looked up; the values
themselves are shown once and never kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.access import Viewer
from assistant.db.models import ApiKey, BrowserSession, LoginFailure, User, as_utc
from assistant.errors import InvalidRequest

ROLES = ("admin", "employee")
# What an API key may be used for; a key can be given fewer, never more than its owner's role allows.
SCOPES = ("search", "ask", "admin")
EMPLOYEE_SCOPES = ("search", "ask")
MAX_KEY_DAYS = 3650
# Sign-in methods whose people (and groups) a directory vouches for; "local" people have Enclave's password.
DIRECTORY_METHODS = ("oidc", "ldap")
MIN_PASSWORD_LENGTH = 10
KEY_PREFIX = "enc_"
THROTTLE_WINDOW = timedelta(minutes=15)
INITIAL_PASSWORD_FILE = "initial-admin-password"

# Stored for people who never had an Enclave password: no argon2 hash, so no password ever matches it.
UNUSABLE_PASSWORD = "!"

_hasher = PasswordHasher()


class AccountError(InvalidRequest):
    """A request about accounts that cannot be done; the message says why."""


def now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 320:
        raise AccountError(f"{email!r} is not an e-mail address")
    return email


def normalise_groups(groups) -> list[str]:
    return sorted({g.strip().lower() for g in groups if g and g.strip()})


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def generate_password() -> str:
    return secrets.token_urlsafe(15)


@dataclass(frozen=True)
class Freshness:
    """How old a person's directory groups may grow before they are distrusted: ``max_age``, for the sign-in
    methods whose groups a configured directory re-reads on a schedule (``synced``). People of other methods
    carry the groups of their latest sign-in, which their session's length bounds."""

    max_age: timedelta
    synced: frozenset[str] = frozenset(DIRECTORY_METHODS)

    @classmethod
    def from_settings(cls, settings) -> Freshness:
        synced = {m for m, on in (("ldap", settings.ldap_url), ("oidc", settings.graph_tenant_id)) if on}
        return cls(timedelta(minutes=settings.acl_max_staleness_minutes), frozenset(synced))


def viewer_for(user: User, freshness: Freshness | None = None) -> Viewer:
    """What ``user`` may see. A directory person whose groups were last read longer ago than ``freshness``
    allows sees only public documents (fail closed) until the next successful group sync; admins still see all."""
    if not user.is_admin and freshness is not None:
        stale = groups_staleness(user, freshness)
        if stale:
            return Viewer.public_only(stale)
    return Viewer(email=user.email, groups=frozenset(user.groups or ()), sees_everything=user.is_admin)


def groups_staleness(user: User, freshness: Freshness) -> str | None:
    """Why ``user``'s groups are too old to trust (with the last sync error, if any), or None."""
    if user.auth_method not in freshness.synced:
        return None
    synced = user.groups_synced_at and as_utc(user.groups_synced_at)
    if synced and now() - synced <= freshness.max_age:
        return None
    when = f"last read {synced:%Y-%m-%d %H:%M} UTC" if synced else "never read"
    because = f": {user.groups_sync_error}" if user.groups_sync_error else ""
    return f"groups from the directory {when}{because}"


# Users


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session, email: str, role: str, password: str, groups=(), must_change_password: bool = False
) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password_strength(password)
    if find_user(session, email):
        raise AccountError(f"a user {email} already exists")
    user = User(
        email=email,
        password_hash=_hasher.hash(password),
        role=role,
        groups=normalise_groups(groups),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def set_password(
    session: Session, user: User, password: str, must_change: bool = False, keep_session: str | None = None
) -> None:
    """Set a new password; every login of the user ends, but the one (token) changing it."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    user.must_change_password = must_change
    ended = delete(BrowserSession).where(BrowserSession.user_id == user.id)
    if keep_session:
        ended = ended.where(BrowserSession.id != token_hash(keep_session))
    session.execute(ended)


@lru_cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def may_use_password(user: User | None, local_login: bool) -> bool:
    """Whether ``user`` may sign in with a password: anyone while ``local_login`` is on; then only Enclave's own
    admins (break-glass, for when the directory is down or misconfigured)."""
    return local_login or (user is not None and user.auth_method == "local" and user.is_admin)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; for an unknown user a decoy is checked, so timing does not reveal who exists."""
    try:
        return _hasher.verify(user.password_hash if user else _decoy_hash(), password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def ensure_first_admin(session: Session, email: str, data_dir: Path) -> Path | None:
    """On a fresh install, create the admin and write its one-time password to a 0600 file."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = generate_password()
    try:
        create_user(session, email, "admin", password, must_change_password=True)
        session.commit()
    except (IntegrityError, AccountError):
        session.rollback()
        if find_user(session, email):  # another replica starting beside this one created it, and wrote its password
            return None
        raise
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / INITIAL_PASSWORD_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(f"{password}\n")
    os.chmod(path, 0o600)
    return path


# People the company directory vouches for (OpenID Connect, LDAP)


def sign_in_directory_person(
    session: Session,
    *,
    method: str,
    subject: str,
    email: str,
    name: str | None = None,
    groups=(),
    admin: bool | None = None,
    email_verified: bool = True,
) -> User:
    """The account of someone the directory has just vouched for, created on first sign-in (just in time).

    Found by the directory's stable ``subject`` first, then by e-mail: an account an admin made earlier is
    taken over (its password kept), but only when the directory vouches for the address (``email_verified``:
    an LDAP directory's mail attribute is kept by its admins; an OpenID provider must say so in its
    ``email_verified`` claim) and never an Enclave admin's own account, the break-glass one. Name and groups
    are brought up to date; the role follows ``admin`` when the directory decides roles (None leaves it, new
    people are employees). A disabled account is refused.
    """
    if method not in DIRECTORY_METHODS:
        raise ValueError(f"unknown directory sign-in method {method!r}")
    user = session.scalar(select(User).where(User.auth_method == method, User.subject == subject))
    if user is None and (existing := find_user(session, email)):
        _check_takeover(existing, email_verified)
        user = existing
    if user is None:
        user = User(email=normalise_email(email), password_hash=UNUSABLE_PASSWORD, role="employee", groups=[])
        session.add(user)
    if user.disabled:
        raise AccountError(f"the account {user.email} is disabled; ask an admin")
    user.auth_method, user.subject = method, subject
    user.name = name or user.name
    if admin is not None:
        user.role = "admin" if admin else "employee"
    record_directory_groups(user, groups)
    session.flush()
    return user


def _check_takeover(existing: User, email_verified: bool) -> None:
    if existing.auth_method == "local" and existing.is_admin:
        raise AccountError(
            f"{existing.email} is an administrator account with an Enclave password, which single sign-on never "
            "takes over; sign in with that password, or have another admin remove it first"
        )
    if not email_verified:
        raise AccountError(
            f"an account {existing.email} already exists, and the identity provider does not confirm that address "
            "(email_verified); an admin must remove that account before it can be signed in to this way"
        )


def record_directory_groups(user: User, groups) -> list[str]:
    """Store the groups the directory just gave for ``user``; returns the ones gained and lost, e.g. ``+hr``."""
    new, old = normalise_groups(groups), set(user.groups or ())
    changes = [f"+{g}" for g in new if g not in old] + [f"-{g}" for g in sorted(old - set(new))]
    user.groups, user.groups_synced_at, user.groups_sync_error = new, now(), None
    return changes


def record_group_sync_failure(user: User, reason: str) -> None:
    """Keep the directory's last answer, and why it could not be read now (fail closed after the grace period)."""
    user.groups_sync_error = reason[:2000]


# Login throttling


def login_allowed(session: Session, email: str, address: str, limit: int) -> bool:
    since = now() - THROTTLE_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == email.strip().lower(), LoginFailure.address == address, LoginFailure.at > since)
    )
    return failures < limit


def record_login_failure(session: Session, email: str, address: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < now() - THROTTLE_WINDOW))
    session.add(LoginFailure(email=email.strip().lower()[:320], address=address))


def clear_login_failures(session: Session, email: str, address: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.address == address))


# Browser sessions


def open_session(session: Session, user: User, hours: int) -> tuple[str, BrowserSession]:
    token = secrets.token_urlsafe(32)
    browser = BrowserSession(
        id=token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24), expires_at=now() + timedelta(hours=hours)
    )
    session.add(browser)
    session.flush()
    return token, browser


def resolve_session(session: Session, token: str) -> BrowserSession | None:
    browser = session.get(BrowserSession, token_hash(token))
    if browser is None or as_utc(browser.expires_at) < now():
        return None
    return browser


# API keys


def create_api_key(
    session: Session, user: User, name: str, scopes=SCOPES, expires_in_days: int | None = None
) -> tuple[str, ApiKey]:
    """A new key for ``user``, limited to ``scopes`` and, with ``expires_in_days``, to that many days."""
    if not name.strip():
        raise AccountError("an API key needs a name, e.g. the tool that will use it")
    scopes = normalise_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_KEY_DAYS:
        raise AccountError(f"an API key expires after 1 to {MAX_KEY_DAYS} days")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        user_id=user.id,
        name=name.strip()[:255],
        prefix=key[:12],
        key_hash=token_hash(key),
        scopes=scopes,
        expires_at=now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(record)
    session.flush()
    return key, record


def normalise_scopes(scopes) -> list[str]:
    chosen = {s.strip().lower() for s in scopes if s and s.strip()}
    unknown = chosen - set(SCOPES)
    if unknown:
        raise AccountError(f"unknown API key scope {', '.join(sorted(unknown))}; choose from {', '.join(SCOPES)}")
    if not chosen:
        raise AccountError(f"an API key needs at least one scope: {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in chosen]


def resolve_api_key(session: Session, key: str) -> ApiKey | None:
    """The key's record, expired or not (see ``key_expired``); None for an unknown or revoked key."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == token_hash(key)))
    if record is None or record.revoked_at is not None:
        return None
    record.last_used_at = now()
    return record


def key_expired(record: ApiKey) -> bool:
    return record.expires_at is not None and as_utc(record.expires_at) <= now()


def role_scopes(user: User) -> frozenset[str]:
    """Everything ``user``'s role allows; a browser session has exactly these."""
    return frozenset(SCOPES if user.is_admin else EMPLOYEE_SCOPES)


def key_scopes(record: ApiKey) -> frozenset[str]:
    """What a key may do: its own scopes, narrowed to what its owner's role allows now."""
    return frozenset(record.scopes or ()) & role_scopes(record.user)


def revoke_api_key(session: Session, record: ApiKey) -> None:
    if record.revoked_at is None:
        record.revoked_at = now()
