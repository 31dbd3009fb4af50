"""What an admin fills in to connect SharePoint Online; each description is the field's inline help."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from connectors.interfaces import ADVANCED, ConnectorConfig
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
        "Entra ID > App registrations > your app > Overview. The app needs the Microsoft Graph "
        "application permissions Sites.Read.All and Files.Read.All, with admin consent granted.",
    )
    client_secret: SecretStr = Field(
        description="A client secret's Value (not its Secret ID): Entra ID > App registrations > your app > "
        "Certificates & secrets > Client secrets. The value is shown only once, right after it is created.",
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

    @field_validator("site_urls")
    @classmethod
    def _site_urls_are_https(cls, urls: list[str]) -> list[str]:
        return [_https_url(url, "https://contoso.sharepoint.com/sites/Engineering") for url in urls]

    @field_validator("authority_host", "graph_url")
    @classmethod
    def _endpoints_are_https(cls, url: str, info: ValidationInfo) -> str:
        return _https_url(url, cls.model_fields[info.field_name].default)

    @field_validator("include_extensions")
    @classmethod
    def _dotted_lowercase(cls, extensions: list[str]) -> list[str]:
        return sorted({"." + e.strip().lstrip(".").lower() for e in extensions if e.strip().lstrip(".")})

    @property
    def graph_scope(self) -> str:
        """The app-only scope: every Graph permission granted to the app, for this cloud's Graph."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"


def _https_url(url: str, example: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{url!r} is not an https:// address such as {example}")
    return url
