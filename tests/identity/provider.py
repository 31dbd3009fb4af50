"""The certified OpenID provider (npm's oidc-provider, ``oidc_provider/provider.js``) in a node process.

``make test`` installs it (``npm ci --prefix tests/identity/oidc_provider``). It serves HTTPS on a free
loopback port with a certificate of the tests' CA, knows the clients and accounts it is started with, and
signs people in through its built-in pages: a login form (any password) and a consent page.
``sign_in`` walks those pages over plain HTTP, as a browser would, from Enclave's "Sign in with" link.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.emulators.server import TestCA

FOLDER = Path(__file__).resolve().parent / "oidc_provider"
SCRIPT = FOLDER / "provider.js"


class OidcProvider:
    def __init__(self, folder: Path, tls: TestCA, clients: list[dict], accounts: dict[str, dict]):
        if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            pytest.fail(f"the test OpenID provider is not installed: npm ci --prefix {FOLDER} (make test does)")
        if shutil.which("node") is None:
            pytest.fail("node is not installed: apt-get install -y nodejs npm")
        config = folder / "provider.json"
        config.write_text(
            json.dumps({"tls": {"cert": str(tls.cert_pem), "key": str(tls.key_pem)}, "clients": clients, "accounts": accounts})
        )
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()  # the first line it prints says where it listens
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"the OpenID provider did not start: {self.process.stderr.read()}")
        self.issuer = json.loads(line)["issuer"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def browser_like(tls: TestCA, follow_redirects: bool = True) -> httpx.Client:
    """A client that keeps cookies, follows redirects and trusts the tests' CA, like a browser would."""
    context = ssl.create_default_context(cafile=str(tls.ca_pem))
    return httpx.Client(verify=context, follow_redirects=follow_redirects, timeout=120)


def sign_in(client: httpx.Client, enclave_url: str, login: str, next_path: str = "/", consent: bool = True) -> httpx.Response:
    """Click Enclave's "Sign in with" link, log in at the provider as ``login`` and consent (or cancel)."""
    page = client.get(f"{enclave_url}/auth/oidc/login", params={"next": next_path})
    page = _submit(client, page, {"login": login, "password": "any password will do"})
    if not consent:
        return client.get(_link(page, "Cancel"))
    return _submit(client, page, {})


def _submit(client: httpx.Client, page: httpx.Response, fields: dict) -> httpx.Response:
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', page.text)
    assert form, f"no form on the provider's page {page.url}: {page.text[:300]}"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return client.post(page.url.join(unescape(form.group(1))), data=hidden | fields)


def _link(page: httpx.Response, text: str) -> httpx.URL:
    link = re.search(rf'<a href="([^"]+)">\[ {text} \]</a>', page.text)
    assert link, f"no {text} link on {page.url}"
    return page.url.join(unescape(link.group(1)))
