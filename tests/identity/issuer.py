"""A tiny OpenID issuer whose keys and ID tokens the test controls, to prove what Enclave refuses.

It signs people in at once (no pages): ``/authorize`` sends the browser straight back with a code, and
``/token`` checks the client's secret and the PKCE verifier, then answers with the ID token the test asked
for: the right one, or one with a broken signature, another audience, an expiry in the past, groups left
out for overage, or signed with a newly rotated key. Served over HTTPS by ``BackgroundServer``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID, CLIENT_SECRET = "enclave-tiny", "tiny-secret"


@dataclass
class Scenario:
    """What the next ID token looks like."""

    login: str = "ana"
    claims: dict = field(default_factory=dict)  # merged over the right claims (None removes one)
    break_signature: bool = False
    access_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


class TinyIssuer:
    def __init__(self, people: dict[str, dict]):
        self.people = people  # login -> {"email", "name", "groups"}
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})]
        self.scenario = Scenario()
        self.codes: dict[str, dict] = {}
        self.url = ""  # set once served
        self.app = FastAPI()
        self._routes()

    def rotate_keys(self) -> None:
        """Sign with a new key from now on, as providers do from time to time (the old one stays published)."""
        self.keys.insert(0, RSAKey.generate_key(2048, parameters={"kid": f"key-{len(self.keys) + 1}", "use": "sig", "alg": "RS256"}))

    def _id_token(self, grant: dict) -> str:
        now = int(time.time())
        person = self.people[self.scenario.login]
        claims = {"iss": self.url, "sub": f"tiny-{self.scenario.login}", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **person} | self.scenario.claims  # fmt: skip
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.keys[0]
        token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        if self.scenario.break_signature:
            header, payload, signature = token.split(".")
            token = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
        return token

    def _routes(self) -> None:
        app = self.app

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        def jwks():
            return KeySet(self.keys).as_dict(private=False)

        @app.get("/authorize")
        def authorize(request: Request):
            params = request.query_params
            assert params["client_id"] == CLIENT_ID and params["response_type"] == "code"
            assert params["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": params["nonce"], "challenge": params["code_challenge"], "redirect_uri": params["redirect_uri"]}
            return RedirectResponse(f"{params['redirect_uri']}?code={code}&state={params['state']}", status_code=302)

        @app.post("/token")
        def token(
            code: str = Form(), code_verifier: str = Form(), redirect_uri: str = Form(),
            client_id: str = Form(), client_secret: str = Form(),
        ):  # fmt: skip
            grant = self.codes.pop(code, None)
            if grant is None or redirect_uri != grant["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
            if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
                return JSONResponse({"error": "invalid_client"}, 401)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier mismatch"}, 400)
            return {"access_token": self.scenario.access_token, "token_type": "Bearer", "expires_in": 300,
                    "id_token": self._id_token(grant)}  # fmt: skip
