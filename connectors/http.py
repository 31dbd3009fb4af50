"""HTTP for connectors: the site's extra CAs, and polite waiting when a source says "slow down".

requests lets ``REQUESTS_CA_BUNDLE`` override ``Session.verify``, so a CA bundle
set on the session alone would be ignored on machines that set the variable.
``SourceSession`` passes ``verify=`` on every request instead, which the
variable cannot override; msal and simple-salesforce both accept such a session.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import certifi
import requests

from connectors.interfaces import ConnectorError, SourceBusy

log = logging.getLogger(__name__)

RETRYABLE = {429, 503}


def trust_store(ca_bundle: Path | None) -> str | bool:
    """The ``verify=`` value: default trust, plus the extra CAs in ``ca_bundle`` if given."""
    base = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    if ca_bundle is None:
        return base
    try:
        extra = Path(ca_bundle).read_bytes()
    except OSError as error:
        raise ConnectorError(f"cannot read the CA bundle {ca_bundle}: {error.strerror or error}") from error
    if b"-----BEGIN CERTIFICATE-----" not in extra:
        raise ConnectorError(f"the CA bundle {ca_bundle} holds no PEM certificate")
    combined = Path(base).read_bytes() + b"\n" + extra
    path = Path(tempfile.gettempdir()) / f"enclave-ca-{hashlib.sha256(combined).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_bytes(combined)
    return str(path)


def retry_after_seconds(response: requests.Response, default: float = 5.0) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


class SourceSession(requests.Session):
    """A session that trusts the connector's CAs and waits out 429/503 a bounded number of times."""

    def __init__(self, ca_bundle: Path | None = None, max_retries: int = 5, max_wait: float = 120.0, timeout: float = 60.0):
        super().__init__()
        self.trust = trust_store(ca_bundle)
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        kwargs["verify"] = self.trust
        kwargs.setdefault("timeout", self.timeout)
        for attempt in range(self.max_retries + 1):
            response = super().request(method, url, *args, **kwargs)
            if response.status_code not in RETRYABLE or attempt == self.max_retries:
                return response
            wait = retry_after_seconds(response)
            if wait > self.max_wait:
                raise SourceBusy(f"{_host(url)} asked to wait {wait:.0f}s (HTTP {response.status_code}); will retry next sync")
            log.info("%s answered %s; retrying in %.1fs", _host(url), response.status_code, wait)
            time.sleep(wait)
        return response


def _host(url: str) -> str:
    return requests.utils.urlparse(url).netloc
