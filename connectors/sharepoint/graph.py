"""Microsoft Graph over the connector's SourceSession: the bearer token, paging, and file downloads.

The same client speaks to a site's SharePoint REST API (``…/_api``): another
base, another token scope, and SharePoint's JSON without OData metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import requests

from connectors.interfaces import ConnectorError
from connectors.sharepoint.auth import AppTokens
from connectors.sharepoint.errors import GraphError, unreachable


class DownloadFailed(OSError):
    """A file's bytes could not be fetched. An OSError, like any failed read: the run goes on without the file."""


class GraphClient:
    def __init__(self, graph_url: str, session: requests.Session, tokens: AppTokens, scope: str, accept: str = "application/json"):
        self.base = graph_url.rstrip("/")
        self.session = session
        self.tokens = tokens
        self.scope = scope
        self.accept = accept
        parts = urlsplit(self.base)
        self._origin = f"{parts.scheme}://{parts.netloc}/"

    def get(self, path_or_url: str, params: dict | None = None, headers: dict | None = None) -> dict:
        """One Graph resource; ``path_or_url`` is relative to graph_url, or a nextLink / deltaLink."""
        url = self._url(path_or_url)
        try:
            response = self._send(url, params=params, headers=headers or {})
        except requests.RequestException as error:
            raise unreachable(url, error) from error
        if not response.ok:
            raise GraphError.from_response(response)
        return response.json()

    def values(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every member of a collection, following ``@odata.nextLink`` page after page."""
        page = self.get(path, params)
        yield from page.get("value", [])
        while next_link := page.get("@odata.nextLink") or page.get("odata.nextLink"):  # Graph's, SharePoint's
            page = self.get(next_link)
            yield from page.get("value", [])

    def download(self, drive_id: str, item_id: str) -> bytes:
        url = self._url(f"drives/{drive_id}/items/{item_id}/content")
        try:
            response = self._send(url, headers={}, allow_redirects=False)
            if response.is_redirect:
                # A pre-authenticated URL on another host: it gets no Authorization header, so the token stays here.
                response = self.session.get(response.headers["Location"])
        except requests.RequestException as error:
            raise DownloadFailed(f"the download failed: {unreachable(url, error)}") from error
        if response.status_code != 200:
            raise DownloadFailed(_download_problem(GraphError.from_response(response)))
        return response.content

    def _send(self, url: str, headers: dict, **kwargs) -> requests.Response:
        if not url.startswith(self._origin):
            raise ConnectorError(f"refusing to send the app's token to {urlsplit(url).netloc}: not {self.base}")
        response = self._authorized_get(url, headers, **kwargs)
        if response.status_code == 401:
            # Revoked or expired early: msal would hand back the same cached token, so drop it and retry once.
            self.tokens.forget()
            response = self._authorized_get(url, headers, **kwargs)
        return response

    def _authorized_get(self, url: str, headers: dict, **kwargs) -> requests.Response:
        sent = {"Accept": self.accept, **headers, "Authorization": f"Bearer {self.tokens.token(self.scope)}"}
        return self.session.get(url, headers=sent, **kwargs)

    def _url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else f"{self.base}/{path_or_url.lstrip('/')}"


def _download_problem(error: GraphError) -> str:
    if error.status == 404:
        return f"the file is no longer in SharePoint (deleted or moved after it was listed): HTTP 404 {error.code}"
    return f"SharePoint refused the download: HTTP {error.status} {error.code}: {error.detail}"
