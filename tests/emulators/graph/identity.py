"""The Microsoft identity platform's endpoints msal calls for a confidential client on a custom authority host.

With ``instance_discovery=False`` msal 1.39 reads ``{authority}/{tenant}/v2.0/.well-known/openid-configuration``
(an unknown tenant answers 400 there) and then posts the client-credentials grant to its ``token_endpoint``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from fastapi import APIRouter, Request

from tests.emulators.graph.faults import SignInFault
from tests.emulators.graph.tenant import App, Tenant

PUBLIC_GRAPH_RESOURCE = "https://graph.microsoft.com"
TOKEN_LIFETIME_S = 3599


def sign_in_routes(current: Callable[[], Tenant]) -> APIRouter:
    router = APIRouter()

    @router.get("/{tenant_id}/v2.0/.well-known/openid-configuration")
    def openid_configuration(tenant_id: str, request: Request):
        _known_tenant(current(), tenant_id)
        base = f"{str(request.base_url).rstrip('/')}/{tenant_id}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        }

    @router.post("/{tenant_id}/oauth2/v2.0/token")
    async def token(tenant_id: str, request: Request):
        tenant = current()
        _known_tenant(tenant, tenant_id)
        form = dict(await request.form())
        client = _authenticate(tenant, form, request.headers.get("authorization"))
        _check_grant(form, f"{request.url.scheme}://{request.url.netloc}")
        access_token = secrets.token_urlsafe(32)
        tenant.tokens[access_token] = client
        tenant.tokens_issued += 1
        return {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S, "ext_expires_in": TOKEN_LIFETIME_S, "access_token": access_token}

    return router


def _known_tenant(tenant: Tenant, tenant_id: str) -> None:
    if tenant_id != tenant.tenant_id:
        raise SignInFault(
            400, "invalid_tenant", 90002,
            f"AADSTS90002: Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )


def _authenticate(tenant: Tenant, form: dict, authorization: str | None) -> App:
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if authorization and authorization.startswith("Basic "):  # RFC 6749 allows the credentials here too
        client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    client = tenant.apps.get(client_id)
    if client is None:
        raise SignInFault(
            400, "unauthorized_client", 700016,
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.tenant_id}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    if not secrets.compare_digest(secret, client.secret):
        raise SignInFault(
            401, "invalid_client", 7000215,
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
        )
    return client


def _check_grant(form: dict, own_resource: str) -> None:
    if form.get("grant_type") != "client_credentials":
        raise SignInFault(400, "unsupported_grant_type", 70003, "AADSTS70003: The app requested an unsupported grant type.")
    # The emulator is Graph too, so a connector pointed at it asks for its own resource.
    if form.get("scope") not in (f"{PUBLIC_GRAPH_RESOURCE}/.default", f"{own_resource}/.default"):
        raise SignInFault(
            400, "invalid_scope", 1002012,
            f"AADSTS1002012: The provided value for scope {form.get('scope')} is not valid. Client credential "
            "flows must have a scope value with /.default suffixed to the resource identifier.",
        )
