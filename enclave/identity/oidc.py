"""Single sign-on with the company's OpenID Connect provider (Entra ID, Keycloak, ADFS, Okta, Authentik).

The authorization code flow with PKCE, on Authlib: ``start`` gives the provider's sign-in address and the
flow's secrets (state, nonce, PKCE verifier), which the browser keeps sealed until it comes back; ``finish``
checks the state, exchanges the code, validates the ID token (signature against the provider's JWKS, issuer,
audience, expiry, nonce) and says who the person is and which groups they are in.

The provider's discovery document and keys are read once and kept; an ID token signed with a key id not yet
known makes the keys be read again (the provider rotated them). Entra ID leaves the groups out of the ID
token of someone in more than 200 of them ("overage"); they are then read from Microsoft Graph with the
access token of the same sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.db.models import SpentSignInState, utcnow
from assistant.errors import ConfigurationError, Forbidden
from connectors.http import trust_store

TIMEOUT_S = 10
# Clocks of the provider and of Enclave may differ a little; a token is still refused a minute after expiry.
CLOCK_LEEWAY_S = 60
# How long a person may take at the provider's sign-in pages.
FLOW_SECONDS = 600
GRAPH_PAGES_MAX = 100  # 100 groups a page: a person in more than 10,000 groups is refused, not half-read

# Why a sign-in failed; each kind has its own message on the login page (the detail goes to the audit log).
UNREACHABLE = "unreachable"  # the provider (or Graph) did not answer, or not as a provider does
DENIED = "denied"  # the provider said no (error=access_denied, the person cancelled)
STALE_FLOW = "stale"  # the state is unknown, mismatched, already used, or too old
REJECTED = "rejected"  # the provider's answer does not hold up: bad token, wrong audience, expired
NO_EMAIL = "no_email"  # the ID token names no e-mail address
GROUPS = "groups"  # the groups could not be read (Entra ID overage: Microsoft Graph refused or failed)
ACCOUNT = "account"  # the provider vouched for the person, but their Enclave account refuses (disabled)


class SignInFailed(Forbidden):
    """The provider's sign-in did not go through; ``kind`` is one of the kinds above."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True)
class Flow:
    """One sign-in under way: what the browser keeps (sealed) between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str
    redirect_uri: str
    started: float

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Flow:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Person:
    subject: str
    email: str
    name: str | None
    groups: list[str]
    email_verified: bool = False  # the provider says the address is the person's (OIDC's email_verified claim)


class OidcClient:
    """Enclave as a client of one provider, built from the ``oidc_*`` settings."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]):
        if not settings.oidc_client_id:
            raise ConfigurationError("oidc_issuer is set but oidc_client_id is not: give the client ID registered there")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        self.scopes = settings.oidc_scopes
        self.groups_claim = settings.oidc_groups_claim
        self.graph_url = settings.graph_url.rstrip("/")
        self.trust = trust_store(settings.oidc_ca_bundle)
        self._metadata: dict | None = None
        self._keys: KeySet | None = None
        self._sessions = sessions  # where finished flows' states are kept: each finishes at most once, on any replica
        self._lock = threading.Lock()

    # The flow

    def start(self, redirect_uri: str, next_path: str) -> tuple[str, Flow]:
        """The provider's sign-in address, and the flow the browser must bring back."""
        flow = Flow(generate_token(32), generate_token(32), generate_token(48), next_path, redirect_uri, time.time())
        url, _ = self._session(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=flow.state, code_verifier=flow.verifier, nonce=flow.nonce
        )
        return url, flow

    def finish(self, flow: Flow | None, state: str | None, code: str | None) -> Person:
        """Who signed in, once the provider sent the browser back with ``state`` and ``code``."""
        self._check_state(flow, state)
        if not code:
            raise SignInFailed(REJECTED, "the provider sent the browser back without an authorization code")
        token = self._exchange(flow, code)
        claims = self._validated_claims(token.get("id_token"), flow.nonce, token.get("access_token"))
        return Person(
            subject=claims["sub"],
            email=_email(claims),
            name=claims.get("name"),
            groups=self._groups(claims, token.get("access_token")),
            email_verified=claims.get("email_verified") is True,
        )

    def _check_state(self, flow: Flow | None, state: str | None) -> None:
        if flow is None:
            raise SignInFailed(STALE_FLOW, "no sign-in was under way in this browser (missing or unreadable flow cookie)")
        if not state or not hmac.compare_digest(state, flow.state):
            raise SignInFailed(STALE_FLOW, "the state sent back does not match this browser's sign-in")
        now = time.time()
        if now - flow.started > FLOW_SECONDS:
            raise SignInFailed(STALE_FLOW, f"the sign-in was started more than {FLOW_SECONDS // 60} minutes ago")
        self._spend(state, datetime.fromtimestamp(flow.started + FLOW_SECONDS, UTC))

    def _spend(self, state: str, flow_ends: datetime) -> None:
        """Record the state as used; refuse it if it was, by this replica or another."""
        with self._sessions() as session:
            session.execute(delete(SpentSignInState).where(SpentSignInState.expires_at < utcnow()))
            session.add(SpentSignInState(state_hash=hashlib.sha256(state.encode()).hexdigest(), expires_at=flow_ends))
            try:
                session.commit()
            except IntegrityError as error:
                raise SignInFailed(STALE_FLOW, "this sign-in was already used (a replayed state)") from error

    def _exchange(self, flow: Flow, code: str) -> dict:
        try:
            return self._session(flow.redirect_uri).fetch_token(
                self.metadata()["token_endpoint"],
                code=code,
                code_verifier=flow.verifier,
                timeout=TIMEOUT_S,
                verify=self.trust,  # on the request itself: REQUESTS_CA_BUNDLE would override the session's
            )
        except OAuthError as error:
            raise SignInFailed(REJECTED, f"the provider refused the code: {error.error}: {error.description}") from error
        except (requests.RequestException, ValueError) as error:
            raise SignInFailed(UNREACHABLE, f"the provider's token endpoint failed: {error}") from error

    def _session(self, redirect_uri: str) -> OAuth2Session:
        methods = self.metadata().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            # client_secret_basic is the default of the spec; some providers take the secret only in the form.
            token_endpoint_auth_method="client_secret_basic" if "client_secret_basic" in methods else "client_secret_post",
        )

    # The ID token

    def _validated_claims(self, id_token: str | None, nonce: str, access_token: str | None) -> CodeIDToken:
        if not id_token:
            raise SignInFailed(REJECTED, "the provider answered without an ID token (is 'openid' among oidc_scopes?)")
        algorithms = [a for a in self.metadata().get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none"]
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:  # signed with a key published since we last looked
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=algorithms)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                options={
                    "iss": {"essential": True, "value": self.metadata()["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                    "exp": {"essential": True},
                    "sub": {"essential": True},
                },
                params={"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
            )
            claims.validate(leeway=CLOCK_LEEWAY_S)
        except (JoseError, ValueError) as error:
            raise SignInFailed(REJECTED, f"the ID token is not valid: {_describe(error)}") from error
        return claims

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            keys = None if refresh else self._keys
        if keys is None:
            keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"], "the provider's keys (JWKS)"))
            with self._lock:
                self._keys = keys
        return keys

    # Groups

    def _groups(self, claims: dict, access_token: str | None) -> list[str]:
        if self.groups_claim in claims:
            groups = claims[self.groups_claim]
            return [str(g) for g in groups] if isinstance(groups, list) else [str(groups)]
        if self.groups_claim in (claims.get("_claim_names") or {}):
            return self._overage_groups(access_token)
        return []

    def _overage_groups(self, access_token: str | None) -> list[str]:
        """Entra ID's groups of someone in too many for the token: ids and names, from Microsoft Graph."""
        if not access_token:
            raise SignInFailed(GROUPS, "the groups are too many for the ID token, and no access token came to read them")
        groups: list[str] = []
        url: str | None = f"{self.graph_url}/v1.0/me/transitiveMemberOf?$select=id,displayName"
        for _ in range(GRAPH_PAGES_MAX):
            try:
                page = self._get_json(url, "Microsoft Graph (the person's groups)", access_token)
            except SignInFailed as failure:
                raise SignInFailed(GROUPS, f"{failure} (does the app have GroupMember.Read.All?)") from failure
            for entry in page.get("value", []):
                if entry.get("@odata.type", "#microsoft.graph.group") == "#microsoft.graph.group":
                    groups += [v for v in (entry.get("id"), entry.get("displayName")) if v]
            url = page.get("@odata.nextLink")
            if not url:
                return groups
            if not url.startswith(self.graph_url + "/"):  # the token goes to Graph only
                raise SignInFailed(GROUPS, f"Microsoft Graph pointed to another host for the next page: {url}")
        raise SignInFailed(GROUPS, f"more than {GRAPH_PAGES_MAX} pages of groups")

    # The provider's documents

    def metadata(self) -> dict:
        """The provider's discovery document, read once from ISSUER/.well-known/openid-configuration."""
        with self._lock:
            metadata = self._metadata
        if metadata is None:
            metadata = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "the discovery document")
            if metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise SignInFailed(
                    UNREACHABLE, f"the discovery document names the issuer {metadata.get('issuer')!r}, not {self.issuer!r}"
                )
            missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not metadata.get(k)]
            if missing:
                raise SignInFailed(UNREACHABLE, f"the discovery document lacks {', '.join(missing)}")
            with self._lock:
                self._metadata = metadata
        return metadata

    def _get_json(self, url: str, what: str, bearer: str | None = None) -> dict:
        headers = {"Accept": "application/json"} | ({"Authorization": f"Bearer {bearer}"} if bearer else {})
        try:
            response = requests.get(url, headers=headers, verify=self.trust, timeout=TIMEOUT_S)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as error:
            raise SignInFailed(UNREACHABLE, f"could not read {what} from {_host(url)}: {error}") from error
        if not isinstance(body, dict):
            raise SignInFailed(UNREACHABLE, f"{what} from {_host(url)} is not a JSON object")
        return body


def _email(claims: dict) -> str:
    # Entra ID sends `email` only when it is added as an optional claim; its sign-in name is usually the address.
    for claim in ("email", "preferred_username", "upn"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value:
            return value
    raise SignInFailed(NO_EMAIL, "the ID token has no e-mail address (email, preferred_username or upn claim)")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _host(url: str) -> str:
    return urlsplit(url).netloc or url

