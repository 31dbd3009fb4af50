"""What an admin fills in to connect an org; each description says where to find the value."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.interfaces import ADVANCED, ConnectorConfig

ObjectName = Literal["Knowledge__kav", "Case", "Account", "ContentVersion"]


class SalesforceConfig(ConnectorConfig):
    # The org's own instance URL comes back from the sign-in (https://<org>.my.salesforce.com).
    egress_domains: ClassVar[tuple[str, ...]] = (".salesforce.com", ".force.com")

    login_url: str = Field(
        "https://login.salesforce.com",
        description=(
            "Where Enclave logs in: https://login.salesforce.com for production, https://test.salesforce.com "
            "for a sandbox. The client credentials flow needs your My Domain URL instead "
            "(Setup > My Domain, e.g. https://acme.my.salesforce.com)."
        ),
    )
    auth: Literal["client_credentials", "password"] = Field(
        "client_credentials",
        description=(
            "client_credentials: the connected app logs in as its Run As user (recommended). "
            "password: it logs in with an integration user's username, password and security token."
        ),
    )
    client_id: str = Field(
        description="Consumer Key of the connected app: Setup > App Manager > the app > View > Manage Consumer Details",
    )
    client_secret: SecretStr = Field(
        description="Consumer Secret, shown beside the Consumer Key under Manage Consumer Details.",
    )
    username: str | None = Field(
        None,
        description="password auth only: the integration user's Salesforce username, e.g. integration@acme.com.",
    )
    password: SecretStr | None = Field(None, description="password auth only: that user's password.")
    security_token: SecretStr | None = Field(
        None,
        description=(
            "password auth only: the user's security token (their avatar > Settings > Reset My Security Token "
            "e-mails a new one). Leave empty if the org trusts Enclave's IP address."
        ),
    )
    api_version: str = Field(
        "59.0",
        pattern=r"^\d+\.\d$",
        description="REST API version to speak, e.g. 59.0; {your instance URL}/services/data/ lists those an org offers.",
        json_schema_extra=ADVANCED,
    )
    objects: list[ObjectName] = Field(
        default_factory=lambda: ["Knowledge__kav", "Case", "Account", "ContentVersion"],
        min_length=1,
        description=(
            "What to index: Knowledge__kav (published Knowledge articles), Case (with its comments), "
            "Account, ContentVersion (the latest version of each file)."
        ),
    )
    groups: list[str] = Field(
        default_factory=list,
        description="Enclave groups allowed to see Salesforce documents. Empty: only admins see them.",
    )

    @field_validator("login_url")
    @classmethod
    def _https_without_trailing_slash(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("login_url must start with https:// (the client secret travels to it)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _password_auth_has_credentials(self) -> SalesforceConfig:
        if self.auth == "password" and not (self.username and self.password):
            raise ValueError("auth 'password' needs username and password (and usually security_token)")
        return self
