"""Logging in: the OAuth 2.0 token endpoint, and what to tell the admin when it says no.

Enclave asks for the token itself, through the connector's ``SourceSession``,
so the site's ``ca_bundle`` applies to the login as it does to every REST call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from connectors.interfaces import ConnectorError
from connectors.salesforce.config import SalesforceConfig


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    user_id: str


def request_token(session: requests.Session, config: SalesforceConfig) -> Token:
    url = f"{config.login_url}/services/oauth2/token"
    try:
        response = session.post(url, data=_grant(config))
    except requests.RequestException as error:
        raise ConnectorError(unreachable(config.login_url, error)) from error
    body = _json_object(response)
    if response.status_code != 200 or "access_token" not in body:
        raise ConnectorError(_refusal(config, response, body))
    return Token(
        access_token=body["access_token"],
        instance_url=body["instance_url"].rstrip("/"),
        # The identity URL ends in the user's Id: https://login.salesforce.com/id/{orgId}/{userId}
        user_id=body["id"].rstrip("/").rsplit("/", 1)[-1],
    )


def unreachable(url: str, error: requests.RequestException) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return (
            f"the TLS certificate of {url} is not trusted. If a proxy inspects TLS on this network, "
            "set ca_bundle to its CA certificate (PEM)"
        )
    # requests nests the cause deep in its message; "[Errno 111] Connection refused" is the useful part.
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    return f"cannot reach {url}: {reason.group(1) if reason else type(error).__name__}"


def _grant(config: SalesforceConfig) -> dict[str, str]:
    form = {
        "grant_type": config.auth,
        "client_id": config.client_id,
        "client_secret": config.client_secret.get_secret_value(),
    }
    if config.auth == "password":
        token = config.security_token.get_secret_value() if config.security_token else ""
        # Salesforce takes the security token appended to the password.
        form |= {"username": config.username, "password": config.password.get_secret_value() + token}
    return form


def _json_object(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(config: SalesforceConfig, response: requests.Response, body: dict) -> str:
    error, description = body.get("error"), body.get("error_description", "")
    said = f"({error}: {description})"
    if error is None:
        status = response.status_code
        return f"{config.login_url} did not answer like a Salesforce login server (HTTP {status}); check login_url"
    if error == "invalid_client_id":
        return f"Salesforce does not know this client_id {said}: use the connected app's Consumer Key"
    if error == "invalid_client":
        return f"Salesforce rejected the client secret {said}: use the Consumer Secret shown beside the Consumer Key"
    if error == "invalid_grant" and config.auth == "password":
        return (
            f"Salesforce refused the login {said}: check username, password and the security token "
            "(a password change resets the token), and that the user is active"
        )
    if error == "invalid_grant":
        return (
            f"Salesforce refused the client credentials login {said}: enable the client credentials flow "
            "on the connected app, give it a Run As user, and log in at your My Domain URL"
        )
    return f"Salesforce refused the login {said}"
