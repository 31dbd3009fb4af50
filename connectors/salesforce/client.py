"""One conversation with an org: REST calls through simple-salesforce, errors in the admin's words.

simple-salesforce re-logs in by itself only when it did the login; Enclave logs
in itself (see ``auth``), so an expired session comes back here as a 401 and is
renewed once per call. A second refusal means the session policy or the user is
wrong, which no retry fixes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.http import SourceSession
from connectors.interfaces import ConnectorError, PartUnreadable, SourceBusy
from connectors.salesforce.auth import Token, request_token, unreachable
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.soql import quote

log = logging.getLogger(__name__)

T = TypeVar("T")
# How Salesforce answers for an object the user's profile may not read or the org has not enabled: as if it
# were not there (INVALID_TYPE), or plainly (INSUFFICIENT_ACCESS*).
NOT_READABLE = {"INVALID_TYPE", "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "FUNCTIONALITY_NOT_ENABLED"}


class _SessionExpired(Exception):
    pass


class SalesforceClient:
    def __init__(self, config: SalesforceConfig):
        self.config = config
        self.session = SourceSession(config.ca_bundle)
        self._token: Token | None = None
        self._api: Salesforce | None = None

    @property
    def token(self) -> Token:
        if self._token is None:
            self.login()
        return self._token

    @property
    def instance_url(self) -> str:
        return self.token.instance_url

    def close(self) -> None:
        self.session.close()

    def login(self) -> None:
        self._token = request_token(self.session, self.config)
        self._api = Salesforce(
            instance_url=self._token.instance_url,
            session_id=self._token.access_token,
            version=self.config.api_version,
            session=self.session,
        )

    def call(self, operation: Callable[[Salesforce], T], doing: str) -> T:
        """Run ``operation`` against the REST API; ``doing`` ("querying Case") names it in errors."""
        if self._api is None:
            self.login()
        try:
            return self._attempt(operation, doing)
        except _SessionExpired:
            log.info("Salesforce session expired while %s; logging in again", doing)
            self.login()
        try:
            return self._attempt(operation, doing)
        except _SessionExpired as error:
            raise ConnectorError(
                f"Salesforce rejected a fresh session while {doing} (INVALID_SESSION_ID): check the connected "
                "app's session policies (IP restrictions, session timeout) and that the user is active"
            ) from error

    def _attempt(self, operation: Callable[[Salesforce], T], doing: str) -> T:
        try:
            return operation(self._api)
        except SalesforceError as error:
            raise _translate(error, doing) from error
        except requests.RequestException as error:
            raise ConnectorError(f"while {doing}, {unreachable(self.instance_url, error)}") from error

    def pages(self, soql: str, object_name: str, include_deleted: bool = False) -> Iterator[dict]:
        """The result pages of a SOQL query; ``include_deleted`` uses queryAll, which also returns deleted rows."""
        doing = f"querying {object_name}"
        page = self.call(lambda api: api.query(soql, include_deleted=include_deleted), doing)
        yield page
        while not page["done"]:
            page = self._next_page(page["nextRecordsUrl"], doing)
            yield page

    def with_all_children(self, record: dict) -> dict:
        """``record`` with every subquery result complete: Salesforce pages long child lists too."""
        for value in record.values():
            if not (isinstance(value, dict) and "records" in value):
                continue
            while not value["done"]:
                more = self._next_page(value["nextRecordsUrl"], "reading related records")
                value["records"].extend(more["records"])
                value["done"], value["nextRecordsUrl"] = more["done"], more.get("nextRecordsUrl")
        return record

    def _next_page(self, next_records_url: str, doing: str) -> dict:
        return self.call(lambda api: api.query_more(next_records_url, identifier_is_url=True), doing)

    def describe(self, object_name: str) -> dict:
        return self.call(lambda api: getattr(api, object_name).describe(), f"describing {object_name}")

    def download(self, content_version_id: str) -> bytes:
        return self.call(
            lambda api: api.ContentVersion.get_base64(content_version_id, base64_field="VersionData"),
            f"downloading file version {content_version_id}",
        )

    def api_versions(self) -> list[str]:
        url = f"{self.instance_url}/services/data/"
        try:
            response = self.session.get(url)
            response.raise_for_status()
            return [entry["version"] for entry in response.json()]
        except (requests.HTTPError, ValueError) as error:  # ValueError: not JSON
            raise ConnectorError(f"{url} did not answer like a Salesforce org; check login_url") from error
        except requests.RequestException as error:
            raise ConnectorError(unreachable(self.instance_url, error)) from error

    def username(self) -> str:
        soql = f"SELECT Username FROM User WHERE Id = {quote(self.token.user_id)}"
        result = self.call(lambda api: api.query(soql), "looking up the logged-in user")
        return result["records"][0]["Username"]


def _translate(error: SalesforceError, doing: str) -> Exception:
    code, message = _first_error(error.content)
    if error.status == 401 and code == "INVALID_SESSION_ID":
        return _SessionExpired()
    if code in NOT_READABLE or (error.status == 404 and doing.startswith("describing")):
        return PartUnreadable(f"Salesforce refused {doing}: {message} ({code or f'HTTP {error.status}'})")
    if code == "REQUEST_LIMIT_EXCEEDED":
        return SourceBusy(f"Salesforce's API request limit is used up ({message}); the sync resumes next time")
    return ConnectorError(f"Salesforce refused {doing}: {message} ({code or f'HTTP {error.status}'})")


def _first_error(content) -> tuple[str | None, str]:
    """Salesforce answers errors as [{"message": ..., "errorCode": ...}]."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode"), content[0].get("message", "")
    return None, str(content)[:300]
