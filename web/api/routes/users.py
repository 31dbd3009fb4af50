"""Admins manage users; everyone manages their own API keys (admins: anyone's)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import accounts
from assistant.db.models import ApiKey, User
from assistant.errors import Forbidden, InvalidRequest, NotFoundError

from ..deps import AdminUser, CurrentUser, DbSession
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
def create_user(body: UserCreate, _: AdminUser, db: DbSession):
    """Admins: add a user. Without a password one is generated, returned once, and must be changed at first login."""
    password = body.password or accounts.generate_password()
    user = accounts.create_user(db, body.email, body.role, password, body.groups, must_change_password=not body.password)
    db.commit()
    return CreatedUser.model_validate(user).model_copy(update={"password": None if body.password else password})


@router.patch("/users/{user_id}", response_model=UserOut, responses=ERRORS)
def update_user(user_id: RowId, body: UserUpdate, admin: AdminUser, db: DbSession):
    """Admins: change a user's role or groups, or reset their password (to be changed at next login)."""
    user = _user(db, user_id)
    if body.role and body.role != user.role and user.id == admin.id:
        raise InvalidRequest("you cannot change your own role; ask another admin")
    if body.role:
        user.role = body.role
    if body.groups is not None:
        user.groups = accounts.normalise_groups(body.groups)
    if body.password:
        accounts.set_password(db, user, body.password, must_change=True)
    db.commit()
    return user


@router.delete("/users/{user_id}", status_code=204, responses=ERRORS)
def delete_user(user_id: RowId, admin: AdminUser, db: DbSession):
    """Admins: delete a user with their conversations and API keys."""
    user = _user(db, user_id)
    if user.id == admin.id:
        raise InvalidRequest("you cannot delete yourself")
    db.delete(user)
    db.commit()


@router.get("/apikeys", response_model=list[ApiKeyOut])
def list_api_keys(user: CurrentUser, db: DbSession):
    """Your API keys (admins: everyone's). Keys themselves are never shown again."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if not user.is_admin:
        query = query.where(ApiKey.user_id == user.id)
    return [_key_out(k) for k in db.scalars(query).all()]


@router.post("/apikeys", response_model=CreatedApiKey, status_code=201, responses=ERRORS)
def create_api_key(body: ApiKeyCreate, user: CurrentUser, db: DbSession):
    """Create an API key acting as you (admins: as any user). The key is in this response only."""
    owner = user
    if body.user_email and body.user_email.strip().lower() != user.email:
        if not user.is_admin:
            raise Forbidden("only admins create keys for other users")
        owner = accounts.find_user(db, body.user_email)
        if owner is None:
            raise NotFoundError("user not found")
    key, record = accounts.create_api_key(db, owner, body.name)
    db.commit()
    db.refresh(record)
    return CreatedApiKey(**_key_out(record).model_dump(), key=key)


@router.delete("/apikeys/{key_id}", status_code=204, responses=ERRORS)
def revoke_api_key(key_id: RowId, user: CurrentUser, db: DbSession):
    """Revoke an API key: it stops working at once."""
    record = db.get(ApiKey, key_id)
    if record is None or (record.user_id != user.id and not user.is_admin):
        raise NotFoundError("API key not found")
    accounts.revoke_api_key(db, record)
    db.commit()


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
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )
