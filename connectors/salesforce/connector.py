"""The Salesforce connector: Knowledge articles, Cases with comments, Accounts and Files of one org.

Every document is visible to the configured Enclave groups only: Salesforce's
own sharing model (roles, sharing rules) is not mirrored.

Given items again (``fetch``, to retry earlier failures), each object's ids are
asked for together (see ``feeds.refetch_events``); an id whose object is no
longer configured is reported deleted, one this connector could not have
written is a failure of its own.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator

from assistant.access import Access
from connectors.interfaces import (
    Connector,
    ConnectorError,
    Deleted,
    IdListing,
    PartUnreadable,
    Refetchable,
    Skipped,
    SyncEvent,
)
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.feeds import child_events, object_events, refetch_events
from connectors.salesforce.objects import (
    KINDS,
    KnowledgeArticles,
    RecordKind,
    Site,
    lightning_url,
)
from connectors.salesforce.soql import select
from ingest.documents import ItemFailure

# The REST API always answers the 18-character, case-safe form of an Id, so external ids hold that form.
RECORD_ID = re.compile(r"[A-Za-z0-9]{18}")
OBJECTS_BY_PREFIX = {kind.id_prefix(): name for name, kind in KINDS.items()}


class SalesforceConnector(Connector, IdListing, Refetchable):
    type = "salesforce"
    label = "Salesforce"
    Config = SalesforceConfig
    reports_deletions = True
    config: SalesforceConfig

    def __init__(self, config: SalesforceConfig):
        super().__init__(config)
        self._client: SalesforceClient | None = None

    @property
    def client(self) -> SalesforceClient:
        """One client, so one login, for everything a sync asks (load, list_ids, fetch)."""
        if self._client is None:
            self._client = SalesforceClient(self.config)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def test_connection(self) -> str:
        client = self.client
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
        client, site = self.client, self._site()
        for name in self.config.objects:
            try:
                kind = yield from self._readable_kind(name)
                if kind.children:
                    yield from child_events(client, kind, site, state)
                yield from object_events(client, kind, site, state)
            except PartUnreadable as refused:
                yield _skipped(name, str(refused), kept_prefix=f"{KINDS[name].id_prefix()}:")

    def list_ids(self) -> Iterator[str]:
        """The ids of every object this account can read (an unreadable one was reported Skipped by load)."""
        for name in self.config.objects:
            kind = KINDS[name]()
            soql = select(("Id", *kind.key_fields), name, kind.live)
            try:
                for page in self.client.pages(soql, name):
                    yield from (kind.external_id(record) for record in page["records"] if kind.wanted(record))
            except PartUnreadable:
                continue

    def fetch(self, external_ids: list[str]) -> Iterator[SyncEvent]:
        """One event per distinct id, in the order given; each object's ids are queried together."""
        ids = list(dict.fromkeys(external_ids))
        # Answers come object by object; hold each until those before it in ``ids`` are out.
        answered: dict[str, SyncEvent] = {}
        position = 0
        for event in self._refetch(ids):
            answered[event.external_id] = event
            while position < len(ids) and ids[position] in answered:
                yield answered.pop(ids[position])
                position += 1

    def _refetch(self, external_ids: list[str]) -> Iterator[SyncEvent]:
        keys: dict[str, list[str]] = {}  # object -> the keys asked for, in order
        for external_id in external_ids:
            prefix, _, key = external_id.partition(":")
            name = OBJECTS_BY_PREFIX.get(prefix)
            if name is None or not RECORD_ID.fullmatch(key):
                yield ItemFailure(external_id, external_id, _not_an_id(external_id))
            elif name not in self.config.objects:
                yield Deleted(external_id)  # its object is no longer synced
            else:
                keys.setdefault(name, []).append(key)
        if keys:
            site = self._site()
            for name, wanted in keys.items():
                try:
                    kind = yield from self._readable_kind(name)
                    yield from refetch_events(self.client, kind, site, wanted)
                except PartUnreadable as refused:
                    yield _skipped(name, str(refused), kept_prefix=f"{KINDS[name].id_prefix()}:")

    def _readable_kind(self, name: str) -> Generator[Skipped, None, RecordKind]:
        """``name``'s kind as this account can read it (yields Skipped for children it may not read)."""
        kind = self._kind(name)
        if kind.children and (refused := self._unreadable(kind.children.object_name)):
            yield _skipped(kind.children.object_name, f"{refused}; {name} records are synced without them",
                           kept_prefix=f"{KINDS[name].id_prefix()}:")  # fmt: skip
            kind = kind.without_children()
        return kind

    def _unreadable(self, object_name: str) -> str | None:
        """Why this account may not read ``object_name``, or None when it may."""
        try:
            next(self.client.pages(select(("Id",), object_name, limit=1), object_name))
        except PartUnreadable as refused:
            return str(refused)
        return None

    def _site(self) -> Site:
        client = self.client
        return Site(lightning_url(client.instance_url), Access.restricted(groups=self.config.groups), client.download)

    def _kind(self, name: str) -> RecordKind:
        if name == KnowledgeArticles.object_name:
            # Each org defines its article type's body fields, so ask which they are.
            return KnowledgeArticles.from_describe(self.client.describe(name))
        return KINDS[name]()


def _skipped(object_name: str, reason: str, kept_prefix: str | None = None) -> Skipped:
    grant = (
        f"give the integration user Read access to {object_name} (its profile or a permission set), and make "
        "sure the object is enabled for the org"
    )
    return Skipped(f"Salesforce object {object_name}", reason, grant, kept_prefix)


def _not_an_id(external_id: str) -> str:
    *others, last = (f"{prefix}:" for prefix in OBJECTS_BY_PREFIX)
    expected = f"{', '.join(others)} or {last} and an 18-character record Id"
    return f"{external_id!r} is not a Salesforce item id (expected {expected})"
