"""The Microsoft identity platform's endpoints msal calls for a confidential client on a custom authority host.

With ``instance_discovery=False`` msal 1.39 reads ``{authority}/{tenant}/v2.0/.well-known/openid-configuration``
(an unknown tenant answers 400 there) and then posts the client-credentials grant to its ``token_endpoint``.

The app proves itself with its client secret, or with a client assertion: a JWT
signed RS256 with the key of a certificate uploaded to the app, named by its
``x5t`` header (the certificate's SHA-1 thumbprint), whose ``aud`` is this token
endpoint, whose ``iss`` and ``sub`` are the client id, and which has not expired.
The scope names the resource: Graph (``https://graph.microsoft.com/.default``, or
this host's own address, as the emulator is Graph too) or the tenant's SharePoint
host (``https://contoso.sharepoint.com/.default``); each token is good for its
resource only, and remembers whether a certificate got it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives import hashes
from fastapi import APIRouter, Request

from tests.emulators.graph.faults import SignInFault
from tests.emulators.graph.tenant import App, IssuedToken, Tenant

PUBLIC_GRAPH_RESOURCE = "https://graph.microsoft.com"
TOKEN_LIFETIME_S = 3599
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


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
        endpoint = f"{str(request.base_url).rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        if "client_assertion" in form:
            client, by_certificate = _authenticate_by_assertion(tenant, form, endpoint), True
        else:
            client, by_certificate = _authenticate(tenant, form, request.headers.get("authorization")), False
        audience = _audience(tenant, form, f"{request.url.scheme}://{request.url.netloc}")
        access_token = secrets.token_urlsafe(32)
        tenant.tokens[access_token] = IssuedToken(client, audience, by_certificate)
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
    client = _app(tenant, client_id)
    if client.secret is None or not secrets.compare_digest(secret, client.secret):
        raise SignInFault(
            401, "invalid_client", 7000215,
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
        )
    return client


def _app(tenant: Tenant, client_id: str) -> App:
    client = tenant.apps.get(client_id)
    if client is None:
        raise SignInFault(
            400, "unauthorized_client", 700016,
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.tenant_id}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    return client


def _authenticate_by_assertion(tenant: Tenant, form: dict, endpoint: str) -> App:
    client = _app(tenant, form.get("client_id", ""))
    assertion = form["client_assertion"]
    if form.get("client_assertion_type") != JWT_BEARER:
        raise _invalid_jwt(f"client_assertion_type must be {JWT_BEARER}")
    try:
        thumbprint = jwt.get_unverified_header(assertion).get("x5t") or ""
    except jwt.DecodeError as error:
        raise _invalid_jwt(f"the client assertion is not a JWT ({error})") from error
    certificate = next((c for c in client.certificates if c.fingerprint(hashes.SHA1()).hex().upper() == _hex(thumbprint)), None)
    if certificate is None:
        raise SignInFault(
            401, "invalid_client", 700027,
            "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on "
            f"application. [Reason - The key was not found., Thumbprint of key used by client: '{_hex(thumbprint)}', "
            f"Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id "
            f"'{client.client_id}'.]",
        )
    try:
        claims = jwt.decode(
            assertion, certificate.public_key(), algorithms=["RS256"], audience=endpoint, issuer=client.client_id,
            options={"require": ["aud", "iss", "sub", "exp", "jti"]},
        )
    except jwt.InvalidSignatureError as error:
        raise SignInFault(
            401, "invalid_client", 700027,
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did "
            f"not match the expected signature value., Thumbprint of key used by client: '{_hex(thumbprint)}']",
        ) from error
    except jwt.ExpiredSignatureError as error:
        raise SignInFault(401, "invalid_client", 700024, "AADSTS700024: Client assertion is not within its valid time range.") from error
    except jwt.InvalidTokenError as error:  # audience, issuer, a missing claim
        raise _invalid_jwt(str(error)) from error
    if claims["sub"] != client.client_id:
        raise SignInFault(
            401, "invalid_client", 700021,
            "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.",
        )
    return client


def _invalid_jwt(reason: str) -> SignInFault:
    return SignInFault(401, "invalid_client", 50027, f"AADSTS50027: JWT token is invalid or malformed ({reason}).")


def _hex(x5t: str) -> str:
    """The thumbprint an x5t header names (base64url of the SHA-1 digest, padded or not), in hex."""
    try:
        return base64.urlsafe_b64decode(x5t.rstrip("=") + "=" * (-len(x5t.rstrip("=")) % 4)).hex().upper()
    except ValueError:
        return x5t


def _audience(tenant: Tenant, form: dict, own_resource: str) -> str:
    """The resource the token is for, from the scope; the emulator is Graph too, so its own address means Graph."""
    if form.get("grant_type") != "client_credentials":
        raise SignInFault(400, "unsupported_grant_type", 70003, "AADSTS70003: The app requested an unsupported grant type.")
    sharepoint = f"https://{tenant.sharepoint_host}"
    resources = {f"{PUBLIC_GRAPH_RESOURCE}/.default": PUBLIC_GRAPH_RESOURCE, f"{own_resource}/.default": PUBLIC_GRAPH_RESOURCE,
                 f"{sharepoint}/.default": sharepoint}
    if form.get("scope") not in resources:
        raise SignInFault(
            400, "invalid_scope", 1002012,
            f"AADSTS1002012: The provided value for scope {form.get('scope')} is not valid. Client credential "
            "flows must have a scope value with /.default suffixed to the resource identifier.",
        )
    return resources[form["scope"]]
