"""The Salesforce connector: Knowledge articles, Cases with comments, Accounts and Files of one org.

Every document is visible to the configured Enclave groups only: Salesforce's
own sharing model (roles, sharing rules) is not mirrored.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.access import Access
from connectors.interfaces import Connector, ConnectorError, IdListing, SyncEvent
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.feeds import child_events, object_events
from connectors.salesforce.objects import KINDS, KnowledgeArticles, RecordKind, Site, lightning_url
from connectors.salesforce.soql import select


class SalesforceConnector(Connector, IdListing):
    type = "salesforce"
    label = "Salesforce"
    Config = SalesforceConfig
    reports_deletions = True
    config: SalesforceConfig

    def test_connection(self) -> str:
        client = SalesforceClient(self.config)
        offered = client.api_versions()
        if self.config.api_version not in offered:
            newest = max(offered, key=float, default="none")
            raise ConnectorError(
                f"this org does not offer API version {self.config.api_version} "
                f"(the newest it offers is {newest}); change api_version"
            )
        return f"Connected to {client.instance_url} as {client.username()}"

    def load(self, checkpoint: dict | None) -> Iterator[SyncEvent]:
        state = dict((checkpoint or {}).get("objects", {}))
        client = SalesforceClient(self.config)
        site = Site(lightning_url(client.instance_url), Access.restricted(groups=self.config.groups), client.download)
        for kind in self._kinds(client):
            if kind.children:
                yield from child_events(client, kind, site, state)
            yield from object_events(client, kind, site, state)

    def list_ids(self) -> Iterator[str]:
        client = SalesforceClient(self.config)
        for name in self.config.objects:
            kind = KINDS[name]()
            soql = select(("Id", *kind.key_fields), name, kind.live)
            for page in client.pages(soql, name):
                yield from (kind.external_id(record) for record in page["records"] if kind.wanted(record))

    def _kinds(self, client: SalesforceClient) -> Iterator[RecordKind]:
        for name in self.config.objects:
            if name == KnowledgeArticles.object_name:
                yield KnowledgeArticles.from_describe(client.describe(name))
            else:
                yield KINDS[name]()
