"""Microsoft Graph as the directory of people who sign in with Entra ID (OpenID Connect): their groups.

Enclave signs in as its own app (client credentials, msal) and reads ``GET /v1.0/users/{id}`` (is the
account there and enabled?) and ``GET /v1.0/users/{id}/transitiveMemberOf`` (every group, nested ones
included), following ``@odata.nextLink`` page by page. Graph's 429 and 503 are waited out as its
Retry-After asks (``connectors.http.SourceSession``, which also trusts ``graph_ca_file``). A group is known by
both its object id and its display name, as SharePoint permissions name it (``connectors/sharepoint/acl.py``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import msal
import requests

from assistant.config import Settings
from assistant.errors import ConfigurationError, DirectoryUnavailable
from connectors.http import SourceSession
from connectors.interfaces import ConnectorError

GROUP_TYPE = "#microsoft.graph.group"
PAGE_SIZE = 999  # the most Graph gives per page of directory objects; it may give fewer
TIMEOUT_S = 30


class GraphDirectory:
    def __init__(self, settings: Settings):
        if not (settings.graph_tenant_id and settings.graph_client_id and settings.graph_client_secret):
            raise ConfigurationError("Graph group sync needs graph_tenant_id, graph_client_id and graph_client_secret")
        self.settings = settings
        self.graph = settings.graph_url.rstrip("/") + "/v1.0"
        try:
            self.session = SourceSession(settings.graph_ca_file, timeout=TIMEOUT_S)
        except ConnectorError as error:
            raise ConfigurationError(f"graph_ca_file: {error}") from error
        self._msal: msal.ConfidentialClientApplication | None = None

    def groups_of(self, object_id: str) -> list[str] | None:
        """The ids and names of every group the user with Entra object id ``object_id`` is in, nested ones
        included; None when Graph has no such user or their account is disabled."""
        account = self._get(f"{self.graph}/users/{quote(object_id)}", {"$select": "id,accountEnabled"})
        if account is None or account.get("accountEnabled") is False:
            return None
        groups: set[str] = set()
        url, params = f"{self.graph}/users/{quote(object_id)}/transitiveMemberOf", {"$top": str(PAGE_SIZE)}
        while url:
            page = self._get(url, params)
            if page is None:
                return None  # deleted between the two calls
            for member in page.get("value", []):
                if member.get("@odata.type") == GROUP_TYPE:  # not directory roles or administrative units
                    groups.update(filter(None, (member.get("id"), member.get("displayName"))))
            url, params = page.get("@odata.nextLink"), None  # the link carries its own query
        return sorted(groups)

    def _get(self, url: str, params: dict | None) -> dict | None:
        """The JSON Graph answers, None for 404; DirectoryUnavailable for anything else that is not 200."""
        try:
            response = self.session.get(url, params=params, headers={"Authorization": f"Bearer {self._token()}"})
        except ConnectorError as error:  # asked to wait longer than a pass should
            raise DirectoryUnavailable(f"Microsoft Graph is busy: {error}") from error
        except requests.RequestException as error:
            raise DirectoryUnavailable(f"Microsoft Graph at {self.settings.graph_url} cannot be reached: {error}") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DirectoryUnavailable(f"Microsoft Graph answered {response.status_code}: {_graph_error(response)}")
        return response.json()

    def _token(self) -> str:
        try:
            result = self._app().acquire_token_for_client(scopes=[f"{self.settings.graph_url.rstrip('/')}/.default"])
        except (requests.RequestException, ValueError) as error:  # msal reports an unreadable tenant as ValueError
            raise DirectoryUnavailable(f"Entra ID at {self.settings.graph_login_url} cannot sign Enclave in: {error}") from error
        if "access_token" not in result:
            reason = re.split(r"\r?\n", result.get("error_description") or result.get("error", ""), maxsplit=1)[0]
            raise DirectoryUnavailable(f"Entra ID refused to sign in app {self.settings.graph_client_id}: {reason}")
        return result["access_token"]

    def _app(self) -> msal.ConfidentialClientApplication:
        if self._msal is None:
            self._msal = msal.ConfidentialClientApplication(
                self.settings.graph_client_id,
                client_credential=self.settings.graph_client_secret.get_secret_value(),
                authority=f"{self.settings.graph_login_url.rstrip('/')}/{self.settings.graph_tenant_id}",
                http_client=self.session,  # so graph_ca_file applies to sign-in too
                instance_discovery=False,  # no call to login.microsoftonline.com to vouch for another sign-in host
            )
        return self._msal


def _graph_error(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
