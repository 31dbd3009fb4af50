"""Admins manage users; everyone manages their own API keys (admins: anyone's). Every change is audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.db.models import ApiKey, User
from assistant.errors import Forbidden, InvalidRequest, NotFoundError
from enclave import audit

from ..deps import AdminUser, AuditActor, CallerGrant, CurrentUser, DbSession, Grant
from ..schemas import (
    ApiKeyCreate,
    ApiKeyOut,
    CreatedApiKey,
    CreatedUser,
    Problem,
    RowId,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["users"])
ERRORS = {400: {"model": Problem}, 404: {"model": Problem}}


@router.get("/users", response_model=list[UserOut])
def list_users(_: AdminUser, db: DbSession):
    """Admins: every user."""
    return db.scalars(select(User).order_by(User.email)).all()


@router.post("/users", response_model=CreatedUser, status_code=201, responses=ERRORS)
def create_user(body: UserCreate, _: AdminUser, actor: AuditActor, db: DbSession):
    """Admins: add a user. Without a password one is generated, returned once, and must be changed at first login."""
    password = body.password or accounts.generate_password()
    user = accounts.create_user(db, body.email, body.role, password, body.groups, must_change_password=not body.password)
    audit.record(db, actor, "user.created", user.email, role=user.role, groups=user.groups)
    db.commit()
    return CreatedUser.model_validate(user).model_copy(update={"password": None if body.password else password})


@router.patch("/users/{user_id}", response_model=UserOut, responses=ERRORS)
def update_user(user_id: RowId, body: UserUpdate, admin: AdminUser, actor: AuditActor, db: DbSession):
    """Admins: change a user's role or groups, disable or enable them, or reset their password (to be
    changed at next login)."""
    user = _user(db, user_id)
    if user.id == admin.id and ((body.role and body.role != user.role) or body.disabled):
        raise InvalidRequest("you cannot change your own role or disable yourself; ask another admin")
    if body.role and body.role != user.role:
        audit.record(db, actor, "user.role_changed", user.email, before=user.role, after=body.role)
        user.role = body.role
    if body.groups is not None:
        groups = accounts.normalise_groups(body.groups)
        if groups != user.groups:
            added, removed = sorted(set(groups) - set(user.groups)), sorted(set(user.groups) - set(groups))
            audit.record(db, actor, "user.groups_changed", user.email, added=added, removed=removed)
            user.groups = groups
    if body.disabled is not None and body.disabled != user.disabled:
        audit.record(db, actor, "user.disabled" if body.disabled else "user.enabled", user.email)
        user.disabled = body.disabled
    if body.password:
        accounts.set_password(db, user, body.password, must_change=True)
        audit.record(db, actor, "user.password_reset", user.email)
    db.commit()
    return user


@router.delete("/users/{user_id}", status_code=204, responses=ERRORS)
def delete_user(user_id: RowId, admin: AdminUser, actor: AuditActor, db: DbSession):
    """Admins: delete a user with their conversations and API keys."""
    user = _user(db, user_id)
    if user.id == admin.id:
        raise InvalidRequest("you cannot delete yourself")
    audit.record(db, actor, "user.deleted", user.email)
    db.delete(user)
    db.commit()


@router.get("/apikeys", response_model=list[ApiKeyOut])
def list_api_keys(user: CurrentUser, grant: CallerGrant, db: DbSession):
    """Your API keys (admins: everyone's), with their scopes and expiry. Keys themselves are never shown again."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if not grant.is_admin:
        query = query.where(ApiKey.user_id == user.id)
    return [_key_out(k) for k in db.scalars(query).all()]


@router.post("/apikeys", response_model=CreatedApiKey, status_code=201, responses=ERRORS)
def create_api_key(body: ApiKeyCreate, user: CurrentUser, grant: CallerGrant, actor: AuditActor, db: DbSession):
    """Create an API key acting as you (admins: as any user), for some or all of its owner's scopes, and
    optionally only for some days. The key is in this response only. A key creating a key passes on no more
    than it has: its scopes, and its expiry."""
    _within(grant, user, body)
    owner = user
    if body.user_email and body.user_email.strip().lower() != user.email:
        if not grant.is_admin:
            raise Forbidden("only admins create keys for other users")
        owner = accounts.find_user(db, body.user_email)
        if owner is None:
            raise NotFoundError("user not found")
    key, record = accounts.create_api_key(db, owner, body.name, body.scopes, body.expires_in_days)
    audit.record(db, actor, "key.created", f"api_key:{record.id}", owner=owner.email, name=record.name,
                 scopes=record.scopes, expires_at=record.expires_at and record.expires_at.isoformat())  # fmt: skip
    db.commit()
    db.refresh(record)
    return CreatedApiKey(**_key_out(record).model_dump(), key=key)


@router.delete("/apikeys/{key_id}", status_code=204, responses=ERRORS)
def revoke_api_key(key_id: RowId, user: CurrentUser, grant: CallerGrant, actor: AuditActor, db: DbSession):
    """Revoke an API key: it stops working at once."""
    record = db.get(ApiKey, key_id)
    if record is None or (record.user_id != user.id and not grant.is_admin):
        raise NotFoundError("API key not found")
    accounts.revoke_api_key(db, record)
    audit.record(db, actor, "key.revoked", f"api_key:{record.id}", owner=record.user.email, name=record.name)
    db.commit()


def _within(grant: Grant, user: User, body: ApiKeyCreate) -> None:
    beyond = (set(body.scopes) & accounts.role_scopes(user)) - grant.scopes
    if beyond:
        raise Forbidden(f"this API key cannot create a key with the {', '.join(sorted(beyond))} scope it lacks")
    if grant.expires_at and (not body.expires_in_days or accounts.now() + timedelta(days=body.expires_in_days) > grant.expires_at):
        raise Forbidden(f"this API key expires {grant.expires_at:%Y-%m-%d %H:%M} UTC; a key it creates must expire before")


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError("user not found")
    return user


def _key_out(record: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        user_email=record.user.email,
        scopes=record.scopes,
        created_at=record.created_at,
        expires_at=record.expires_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )
