"""enclave users add | list | passwd | sync-groups, and enclave apikeys create | list | revoke; changes are audited
(via cli)"""

from __future__ import annotations

import getpass
import sys

import typer
from rich.table import Table
from sqlalchemy import select

from assistant import accounts
from assistant.db import session_factory
from assistant.db.models import ApiKey, User
from assistant.errors import ConfigurationError, InvalidRequest, NotFoundError
from enclave.identity.groups import GroupSync, configured_methods

from ..audit import cli_actor, record
from .common import counting_progress, err, load_settings, out

users_app = typer.Typer(help="Manage who can log in, their role and groups.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for internal tools (Authorization: Bearer KEY).", no_args_is_help=True)


def _sessions():
    return session_factory(load_settings().effective_database_url)()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidRequest("the two passwords differ")
    return first


def _user(session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise NotFoundError(f"no user {email}; see `enclave users list`")
    return user


@users_app.command("add")
def add_user(
    email: str = typer.Argument(..., help="The user's e-mail address (their login)."),
    role: str = typer.Option("employee", "--role", help="admin or employee."),
    groups: str = typer.Option("", "--groups", help="Comma-separated groups, e.g. hr,finance."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input instead of generating one."
    ),
) -> None:
    """Add a user. Without --password-stdin a password is generated, printed once, and must be changed at first login.

    Example: enclave users add ana@example.com --role employee --groups sales,emea
    """
    password = _read_password(True) if password_stdin else accounts.generate_password()
    with _sessions() as session:
        user = accounts.create_user(
            session, email, role, password, groups.split(","), must_change_password=not password_stdin
        )
        record(session, cli_actor(), "user.created", user.email, role=user.role, groups=user.groups)
        session.commit()
        out.print(f"Added {user.email} ({user.role}; groups: {', '.join(user.groups) or 'none'}).")
    if not password_stdin:
        out.print(f"Password (shown once, to be changed at first login): {password}")


@users_app.command("list")
def list_users() -> None:
    """List users with their role and groups.

    Example: enclave users list
    """
    with _sessions() as session:
        table = Table("email", "role", "groups", "must change password")
        for user in session.scalars(select(User).order_by(User.email)):
            table.add_row(user.email, user.role, ", ".join(user.groups), "yes" if user.must_change_password else "")
    out.print(table)


@users_app.command("passwd")
def passwd(
    email: str = typer.Argument(..., help="Whose password to set."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from standard input."),
) -> None:
    """Set a user's password (asked twice, or read from stdin). Ends their browser sessions.

    Example: enclave users passwd ana@example.com
    """
    password = _read_password(password_stdin)
    with _sessions() as session:
        user = _user(session, email)
        accounts.set_password(session, user, password)
        record(session, cli_actor(), "user.password_reset", user.email)
        session.commit()
    out.print(f"Password of {email} changed.")


@users_app.command("sync-groups")
def sync_groups() -> None:
    """Read every directory person's groups again now (LDAP, Microsoft Graph) and print what changed.

    The server does this every group_sync_minutes; exit 1 when some people's groups could not be read.

    Example: enclave users sync-groups
    """
    settings = load_settings()
    if not configured_methods(settings):
        raise ConfigurationError("no directory is configured: set ldap_url, or graph_tenant_id for OpenID Connect people")
    with counting_progress("people", transient=True) as bar:
        task = bar.add_task("", label="Group sync", total=None)
        report = GroupSync(settings, session_factory(settings.effective_database_url)).run(
            lambda done, total: bar.update(task, completed=done, total=total)
        )
    for email, changes in report.changed.items():
        out.print(f"{email}: {' '.join(changes)}", markup=False)
    for email in report.disabled:
        out.print(f"{email}: disabled (gone or disabled in the directory)")
    for email, reason in report.failed.items():
        err.print(f"{email}: groups not read: {reason}", style="red", markup=False)
    out.print(f"Group sync: {report.people} people, {len(report.changed)} changed, {len(report.disabled)} disabled, "
              f"{len(report.failed)} failed.")  # fmt: skip
    if report.failed:
        raise typer.Exit(1)


@keys_app.command("create")
def create_key(
    user: str = typer.Option(..., "--user", help="The user the key acts as (their role and groups apply)."),
    name: str = typer.Option(..., "--name", help="What will use it, e.g. helpdesk-bot."),
    scopes: str = typer.Option(
        ",".join(accounts.SCOPES), "--scopes", help="Comma-separated: search, ask, admin (admin works only for admins)."
    ),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", help="Stop working after this many days."),
) -> None:
    """Create an API key and print it once; only its hash is stored.

    Example: enclave apikeys create --user ana@example.com --name helpdesk-bot --scopes ask --expires-in-days 90
    """
    with _sessions() as session:
        owner = _user(session, user)
        key, api_key = accounts.create_api_key(session, owner, name, scopes.split(","), expires_in_days)
        record(session, cli_actor(), "key.created", f"api_key:{api_key.id}", owner=owner.email, name=api_key.name,
               scopes=api_key.scopes, expires_at=api_key.expires_at and api_key.expires_at.isoformat())  # fmt: skip
        session.commit()
        err.print(f"API key {api_key.id} ({api_key.name}) for {user}, scopes {', '.join(api_key.scopes)}. It is shown only now:")
    print(key)


@keys_app.command("list")
def list_keys() -> None:
    """List API keys (not the keys themselves): id, name, user, scopes, expiry, last use, revoked.

    Example: enclave apikeys list
    """
    with _sessions() as session:
        table = Table("id", "name", "prefix", "user", "scopes", "expires", "last used", "revoked")
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            table.add_row(
                str(key.id), key.name, key.prefix + "…", key.user.email, ",".join(key.scopes),
                str(key.expires_at or "never"), str(key.last_used_at or ""), str(key.revoked_at or ""),
            )  # fmt: skip
    out.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: int = typer.Argument(..., help="The key's id (see `enclave apikeys list`).")) -> None:
    """Revoke an API key; it stops working at once.

    Example: enclave apikeys revoke 3
    """
    with _sessions() as session:
        api_key = session.get(ApiKey, key_id)
        if api_key is None:
            raise NotFoundError(f"no API key {key_id}; see `enclave apikeys list`")
        accounts.revoke_api_key(session, api_key)
        record(session, cli_actor(), "key.revoked", f"api_key:{api_key.id}", owner=api_key.user.email, name=api_key.name)
        session.commit()
    out.print(f"API key {key_id} revoked.")
