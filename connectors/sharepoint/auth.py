"""App-only sign-in to Microsoft Entra ID (msal, client credentials), and what to tell the admin when it fails.

The app signs in with a client secret, or with a certificate: msal then sends a
client assertion (a JWT signed with the private key, its x5t header naming the
certificate). One sign-in serves every resource: Graph, and the SharePoint host
whose REST API lists site groups, each token asked for its own ``/.default`` scope.
"""

from __future__ import annotations

import re

import msal
import requests

from connectors.interfaces import ConnectorError
from connectors.sharepoint.config import SharePointConfig
from connectors.sharepoint.errors import unreachable

# AADSTS codes an admin can fix, with where to look.
_FIXES = {
    7000215: "SharePoint rejected the client secret for app {client_id} ({reason}). Check the secret's value "
    "(not its ID) in Entra ID > App registrations > Certificates & secrets.",
    7000222: "The client secret of app {client_id} has expired ({reason}). Create a new one in Entra ID > "
    "App registrations > Certificates & secrets and enter its value.",
    700027: "Entra ID refused the certificate of app {client_id} ({reason}). Upload the certificate (not its "
    "private key) in Entra ID > App registrations > your app > Certificates & secrets > Certificates; the "
    "thumbprint listed there must be {thumbprint}, the one Enclave signs with.",
    700024: "Entra ID refused the certificate sign-in of app {client_id} as outside its valid time ({reason}). "
    "Check this server's clock.",
    700016: "Entra ID has no app with client ID {client_id} in tenant {tenant_id} ({reason}). Copy the "
    "Application (client) ID from Entra ID > App registrations > your app > Overview.",
    90002: "Entra ID has no tenant {tenant_id} ({reason}). Copy the Directory (tenant) ID from Entra ID > Overview.",
    900023: "Entra ID has no tenant {tenant_id} ({reason}). Copy the Directory (tenant) ID from Entra ID > Overview.",
}


class AppTokens:
    """Access tokens of the app, one per scope. msal caches each and fetches a new one shortly before it expires."""

    def __init__(self, config: SharePointConfig, session: requests.Session):
        self.config = config
        self.session = session
        self._msal: msal.ConfidentialClientApplication | None = None

    def token(self, scope: str) -> str:
        try:
            result = self._app().acquire_token_for_client(scopes=[scope])
        except requests.RequestException as error:
            raise unreachable(self.config.authority_host, error) from error
        if "access_token" not in result:
            raise sign_in_error(self.config, result.get("error_codes") or [], result.get("error_description") or result.get("error", ""))
        return result["access_token"]

    def forget(self) -> None:
        """Drop the cached tokens: a service refused one before it was due to expire (revoked, clock skew)."""
        if self._msal is not None:
            self._msal.remove_tokens_for_client()

    def _app(self) -> msal.ConfidentialClientApplication:
        if self._msal is None:
            try:
                self._msal = msal.ConfidentialClientApplication(
                    self.config.client_id,
                    client_credential=self.config.client_credential(),
                    authority=f"{self.config.authority_host}/{self.config.tenant_id}",
                    # The SourceSession, so ca_bundle applies to sign-in too, whatever REQUESTS_CA_BUNDLE says.
                    http_client=self.session,
                    # Otherwise msal asks login.microsoftonline.com to vouch for any other sign-in host
                    # (a national cloud, a private endpoint), a call such a site cannot or should not make.
                    instance_discovery=False,
                )
            except ValueError as error:  # msal could not read the tenant's OpenID configuration
                raise discovery_error(self.config, error) from error
            except requests.RequestException as error:
                raise unreachable(self.config.authority_host, error) from error
        return self._msal


def sign_in_error(config: SharePointConfig, codes: list[int], description: str) -> ConnectorError:
    reason = re.split(r"\r?\n|\. ", description, maxsplit=1)[0].rstrip(".")
    fix = next((_FIXES[code] for code in codes if code in _FIXES), None)
    if fix is None:
        return ConnectorError(f"Entra ID refused to sign in app {config.client_id} ({reason}).")
    return ConnectorError(
        fix.format(client_id=config.client_id, tenant_id=config.tenant_id, reason=reason, thumbprint=config.certificate_thumbprint)
    )


def discovery_error(config: SharePointConfig, error: ValueError) -> ConnectorError:
    # msal wraps the endpoint's answer, which carries the AADSTS code, in a generic ValueError.
    answer = str(error.__context__ or error)
    found = re.search(r"AADSTS(\d+):[^\\\"]*", answer)
    if found:
        return sign_in_error(config, [int(found.group(1))], found.group(0))
    return ConnectorError(
        f"Cannot read the sign-in settings of tenant {config.tenant_id} from {config.authority_host}: {error} "
        "Check tenant_id and authority_host."
    )
