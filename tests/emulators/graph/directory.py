"""Microsoft Graph v1.0 for a person signed in through Entra ID: ``GET /v1.0/me/transitiveMemberOf``.

Enclave reads it when a person's ID token has too many groups to carry them ("overage"), with the delegated
access token of their sign-in. Tests sign people in with ``SignedInPeople.sign_in`` (which hands out such a
token); a page holds at most 100 directory objects (Graph's default) and ``@odata.nextLink`` (with a
``$skiptoken``) leads to the next. Besides groups the list has a directory role, as Graph's does for an admin.
An absent or unknown token answers 401 ``InvalidAuthenticationToken``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import APIRouter, Request

from tests.emulators.graph.faults import GraphFault

PAGE_SIZE = 100


@dataclass
class SignedInPeople:
    tokens: dict[str, str] = field(default_factory=dict)  # delegated access token -> the person's e-mail
    member_of: dict[str, list[dict]] = field(default_factory=dict)  # e-mail -> directory objects

    def sign_in(self, email: str, groups: dict[str, str]) -> str:
        """A delegated access token for ``email``, a member of ``groups`` (id -> display name)."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = email
        role = {"@odata.type": "#microsoft.graph.directoryRole", "id": secrets.token_hex(8), "displayName": "Reports Reader"}
        self.member_of[email] = [_group(gid, name) for gid, name in groups.items()] + [role]
        return token


def _group(group_id: str, name: str) -> dict:
    return {"@odata.type": "#microsoft.graph.group", "id": group_id, "displayName": name, "securityEnabled": True}


def my_groups_routes(people: SignedInPeople) -> APIRouter:
    router = APIRouter()

    @router.get("/v1.0/me/transitiveMemberOf")
    def transitive_member_of(request: Request):
        objects = people.member_of[_signed_in(people, request)]
        start = int(request.query_params.get("$skiptoken", "0"))
        body: dict = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
            "value": objects[start : start + PAGE_SIZE],
        }
        if start + PAGE_SIZE < len(objects):
            body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": start + PAGE_SIZE}))
        return body

    return router


def _signed_in(people: SignedInPeople, request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GraphFault(401, "InvalidAuthenticationToken", "Access token is empty.")
    if token not in people.tokens:
        raise GraphFault(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    return people.tokens[token]
