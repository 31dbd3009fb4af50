"""What an admin fills in to connect SharePoint Online; each description is the field's inline help."""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from connectors.interfaces import ADVANCED, ConnectorConfig
from connectors.sharepoint.certificate import (
    CertificateCredential,
    normalize_thumbprint,
    read_credential,
)
from ingest.parse import SUPPORTED_EXTENSIONS

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"


class SharePointConfig(ConnectorConfig):
    # File contents come as redirects to pre-authenticated URLs on the tenant's SharePoint host.
    egress_domains: ClassVar[tuple[str, ...]] = (".sharepoint.com",)

    tenant_id: str = Field(
        min_length=1,
        description="Directory (tenant) ID, a GUID: Entra ID > Overview > Tenant ID. "
        "The tenant's domain (contoso.onmicrosoft.com) works too.",
    )
    client_id: str = Field(
        min_length=1,
        description="Application (client) ID of the app registration Enclave signs in as: "
        "Entra ID > App registrations > your app > Overview. The app needs the application permissions "
        "Sites.Read.All and Files.Read.All of Microsoft Graph, and Sites.Read.All of SharePoint, with admin "
        "consent granted.",
    )
    credential: Literal["certificate", "client_secret"] = Field(
        "certificate",
        description="How the app proves who it is. certificate: a certificate uploaded to the app registration "
        "(recommended; SharePoint's own API, which tells who is in a site group such as 'Engineering Members', "
        "accepts nothing else). client_secret: a client secret; files shared with a site group are then "
        "readable only by Enclave users in a group of that name.",
    )
    client_certificate: SecretStr | None = Field(
        None,
        description="certificate only: the private key and the certificate, in PEM (the text from "
        "-----BEGIN PRIVATE KEY----- to -----END CERTIFICATE-----). Upload the certificate (without the key) in "
        "Entra ID > App registrations > your app > Certificates & secrets > Certificates.",
    )
    certificate_thumbprint: str | None = Field(
        None,
        description="certificate only: the certificate's SHA-1 thumbprint, as Certificates & secrets lists it. "
        "Leave empty to compute it from the certificate.",
        json_schema_extra=ADVANCED,
    )
    client_secret: SecretStr | None = Field(
        None,
        description="client_secret only: a client secret's Value (not its Secret ID): Entra ID > App registrations "
        "> your app > Certificates & secrets > Client secrets. The value is shown only once, right after it is created.",
    )
    site_urls: list[str] = Field(
        min_length=1,
        description="Addresses of the sites to index, as the browser shows them, e.g. "
        "https://contoso.sharepoint.com/sites/Engineering. Every document library of each site is indexed.",
    )
    include_extensions: list[str] = Field(
        default_factory=lambda: sorted(SUPPORTED_EXTENSIONS),
        description="File types to index, such as .pdf and .docx. By default, every type Enclave can read.",
        json_schema_extra=ADVANCED,
    )
    authority_host: str = Field(
        DEFAULT_AUTHORITY_HOST,
        description="Microsoft Entra sign-in address. Change it only for a national cloud, "
        "e.g. https://login.microsoftonline.us.",
        json_schema_extra=ADVANCED,
    )
    graph_url: str = Field(
        DEFAULT_GRAPH_URL,
        description="Microsoft Graph address. Change it only for a national cloud, e.g. https://graph.microsoft.us/v1.0.",
        json_schema_extra=ADVANCED,
    )
    sharepoint_url: str | None = Field(
        None,
        description="Where SharePoint's REST API is reached, if not at each site's own address (an on-site "
        "proxy): the site's path is appended, e.g. https://proxy.contoso.local/sites/Engineering/_api. "
        "Empty: the site's address.",
        json_schema_extra=ADVANCED,
    )

    @model_validator(mode="before")
    @classmethod
    def _credential_from_what_is_given(cls, values: Any) -> Any:
        """Configs saved before ``credential`` existed, and API callers that leave it out, give one credential."""
        if not isinstance(values, dict) or values.get("credential"):
            return values
        has_certificate, has_secret = bool(values.get("client_certificate")), bool(values.get("client_secret"))
        if has_certificate and has_secret:
            raise ValueError("give client_certificate or client_secret, not both (or choose one with credential)")
        return values | {"credential": "client_secret" if has_secret else "certificate"}

    @model_validator(mode="after")
    def _exactly_the_chosen_credential(self) -> SharePointConfig:
        if self.credential == "certificate":
            if not self.client_certificate:
                raise ValueError(
                    "credential 'certificate' needs client_certificate: the app's private key and certificate in PEM "
                    "(or choose credential 'client_secret' and give client_secret)"
                )
            credential = read_credential(self.client_certificate.get_secret_value(), self.certificate_thumbprint)
            # Kept normalised, so what is stored is what signs in; a secret left from before is dropped.
            self.client_certificate, self.certificate_thumbprint = SecretStr(credential.pem), credential.thumbprint
            self.client_secret = None
        else:
            if not self.client_secret:
                raise ValueError("credential 'client_secret' needs client_secret (or choose credential 'certificate')")
            self.client_certificate = self.certificate_thumbprint = None
        return self

    @field_validator("certificate_thumbprint")
    @classmethod
    def _thumbprint_is_sha1_hex(cls, value: str | None) -> str | None:
        return normalize_thumbprint(value) if value and value.strip() else None

    @field_validator("site_urls")
    @classmethod
    def _site_urls_are_https(cls, urls: list[str]) -> list[str]:
        return [_https_url(url, "https://contoso.sharepoint.com/sites/Engineering") for url in urls]

    @field_validator("authority_host", "graph_url")
    @classmethod
    def _endpoints_are_https(cls, url: str, info: ValidationInfo) -> str:
        return _https_url(url, cls.model_fields[info.field_name].default)

    @field_validator("sharepoint_url")
    @classmethod
    def _proxy_is_https(cls, url: str | None) -> str | None:
        return _https_url(url, "https://proxy.contoso.local") if url and url.strip() else None

    @field_validator("include_extensions")
    @classmethod
    def _dotted_lowercase(cls, extensions: list[str]) -> list[str]:
        return sorted({"." + e.strip().lstrip(".").lower() for e in extensions if e.strip().lstrip(".")})

    @property
    def graph_scope(self) -> str:
        """The app-only scope: every Graph permission granted to the app, for this cloud's Graph."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"

    def client_credential(self) -> str | dict:
        """What msal signs in with: the secret, or the key and thumbprint it signs a client assertion with."""
        if self.credential == "client_secret":
            return self.client_secret.get_secret_value()
        return CertificateCredential(self.client_certificate.get_secret_value(), self.certificate_thumbprint).for_msal()

    def rest_root(self, site_url: str) -> str:
        """The base of a site's SharePoint REST API (…/_api), through sharepoint_url when set."""
        return f"{self.sharepoint_url or _origin(site_url)}{urlsplit(site_url).path.rstrip('/')}/_api"


def sharepoint_scope(site_url: str) -> str:
    """The app-only scope of SharePoint's own API: the tenant's SharePoint host, whatever proxy is between."""
    return f"{_origin(site_url)}/.default"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _https_url(url: str, example: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{url!r} is not an https:// address such as {example}")
    return url
