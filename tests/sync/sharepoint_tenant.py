"""A SharePoint tenant for end-to-end sync tests: an HTTPS Graph emulator and a few files with ACLs.

The site's libraries inherit from its "Engineering Members" group: dana, and the
Entra ID group Engineers. The app has a client secret and a certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.emulators.graph import (
    GraphEmulator,
    SiteGroup,
    Tenant,
    group_grant,
    sharing_link,
    site_group_grant,
    user_grant,
)
from tests.emulators.graph.certificates import AppCertificate, app_certificate
from tests.emulators.server import BackgroundServer, TestCA, make_ca

CLIENT_ID = "7d1c2b3a-enclave"
SECRET = "Zq8~sharepoint-client-secret-value"
SITE = "https://contoso.sharepoint.com/sites/Engineering"
PLATFORM_GROUP = "1a2b3c4d-platform"
ENGINEERS_GROUP = "5e6f7a8b-engineers"

# file path -> (text, who may read it; None: the site's members, whom it inherits)
FILES = {
    "Specs/rollout.md": ("The Falcon rollout to the Oslo plant starts in calendar week 14.", None),
    "Specs/membrane.md": ("The Falcon pressure sensor uses a titanium membrane rated to 400 bar.", [user_grant("alice@contoso.com")]),
    "Specs/releases.md": ("Platform releases ship on Tuesdays after the change board meets.", [group_grant(PLATFORM_GROUP, "Platform Team")]),
    "notes.md": ("Company notes: the summer party takes place in the Vienna office.", [sharing_link("organization")]),
    "board/acquisition.md": ("Board memo: the acquisition target is Fjordlight AS, price 41 million kroner.", [user_grant("ceo@contoso.com")]),
}


@dataclass
class SharePointSite:
    tenant: Tenant
    emulator: GraphEmulator
    server: BackgroundServer
    ca: TestCA
    certificate: AppCertificate
    members: SiteGroup

    def config(self, **overrides) -> dict:
        """Signing in with the client secret."""
        return {
            "tenant_id": self.tenant.tenant_id,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "site_urls": [SITE],
            "authority_host": self.server.url,
            "graph_url": f"{self.server.url}/v1.0",
            "sharepoint_url": self.server.url,
            "ca_bundle": str(self.ca.ca_pem),
        } | overrides

    def certificate_config(self, **overrides) -> dict:
        """Signing in with the certificate, so site groups are expanded to their members."""
        return self.config(client_secret=None, credential="certificate", client_certificate=self.certificate.pem) | overrides

    @property
    def documents(self):
        return self.tenant.site_at("contoso.sharepoint.com", "/sites/Engineering").drives[0]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    ca = make_ca(tmp_path_factory.mktemp("graph-ca"))
    emulator = GraphEmulator()
    with BackgroundServer(emulator.app, ca) as server:
        yield emulator, server, ca, app_certificate()


@pytest.fixture
def sharepoint(graph) -> SharePointSite:
    """A fresh tenant with FILES in one library; Graph pages hold two items."""
    emulator, server, ca, certificate = graph
    tenant = Tenant()
    tenant.add_app(CLIENT_ID, SECRET, certificate=certificate.certificate)
    site = tenant.add_site(SITE, "Engineering")
    members = site.add_group("Engineering Members")
    members.add_person("dana@contoso.com")
    members.add_entra_group(ENGINEERS_GROUP, "Engineers")
    site.permissions = [site_group_grant(members)]
    drive = site.add_drive("Documents", "Shared Documents")
    for path, (text, permissions) in FILES.items():
        drive.add_file(path, text.encode(), permissions)
    emulator.tenant = tenant
    emulator.requests.clear()
    return SharePointSite(tenant, emulator, server, ca, certificate, members)
