"""Failures talking to Microsoft, turned into messages an admin can act on."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from connectors.interfaces import ConnectorError

GRANT_PERMISSIONS = (
    "In Entra ID > App registrations > your app > API permissions, add the Microsoft Graph application "
    "permissions Sites.Read.All and Files.Read.All, then click 'Grant admin consent'."
)
# What a Skipped site or library asks for: with Sites.Selected, each site must be granted to the app.
GRANT_SITE = (
    "grant the app read access to it (with Sites.Selected, grant this site to the app; otherwise give it the "
    "Microsoft Graph application permissions Sites.Read.All and Files.Read.All with admin consent)"
)
GRANT_SHAREPOINT_PERMISSIONS = (
    "In Entra ID > App registrations > your app > API permissions, add the SharePoint application permission "
    "Sites.Read.All (or Sites.Selected, with the site granted to the app), then click 'Grant admin consent'."
)


class GraphError(ConnectorError):
    """Microsoft Graph answered with an error; ``status`` and ``code`` tell callers what it means for them."""

    def __init__(self, status: int, code: str, detail: str, url: str):
        self.status, self.code, self.detail = status, code, detail
        super().__init__(f"Microsoft Graph answered HTTP {status} {code}: {detail} (GET {urlsplit(url).path})")

    @classmethod
    def from_response(cls, response: requests.Response) -> GraphError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        # Graph: {"error": {"code", "message"}}; SharePoint REST: {"odata.error": {"code", "message": {"value"}}},
        # or for a token it refuses only {"error_description"}.
        error = body.get("error") or body.get("odata.error")
        if not isinstance(error, dict):
            error = {}
        message = error.get("message")
        if isinstance(message, dict):
            message = message.get("value")
        detail = message or body.get("error_description") or response.text[:200]
        return cls(response.status_code, error.get("code") or response.reason, detail, response.url)


def unreachable(url: str, error: requests.RequestException) -> ConnectorError:
    host = urlsplit(url).netloc
    if isinstance(error, requests.exceptions.SSLError):
        reason = re.search(r"certificate verify failed: ([^(')]+)", str(error))
        return ConnectorError(
            f"the TLS certificate of {host} is not trusted ({reason.group(1).strip() if reason else error}). "
            "If a proxy inspects TLS, set ca_bundle to its CA certificate."
        )
    if isinstance(error, requests.Timeout):
        return ConnectorError(f"{host} did not answer in time")
    return ConnectorError(f"cannot reach {host}: {error}")
