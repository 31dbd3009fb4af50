"""The connector seam. A source implements ``Connector`` and the capabilities it has.

A sync asks a connector to ``load`` from a checkpoint: ``None`` means from the
beginning (a full load), anything else means "what changed since". The
connector yields, in order:

- ``SourceDocument`` for each new or changed item,
- ``Deleted`` for each item its change feed reports gone,
- ``ItemFailure`` for an item it could not fetch (the run goes on),
- ``Skipped`` for a part of the source the account may not read (the run goes on, with a warning),
- ``Checkpoint`` after each batch: the sync engine saves it only once every
  item yielded before it is indexed, so a run that is killed resumes from the
  last checkpoint and nothing is lost or indexed twice.

A source without a deletion feed also implements ``IdListing``: the engine
compares the ids it lists with what is indexed and removes the difference
(after every sync, or only after full loads for sources whose change feed
reports deletions: ``reports_deletions``). A source that can fetch given items
again implements ``Refetchable``, so items that failed are retried next sync.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from assistant import egress
from assistant.errors import SourceFailure
from ingest.documents import ItemFailure, SourceDocument


@dataclass(frozen=True)
class Deleted:
    external_id: str


@dataclass(frozen=True)
class Checkpoint:
    """Where to resume: JSON-serialisable state only the connector interprets."""

    state: dict


@dataclass(frozen=True)
class Skipped:
    """A part of the source (an object, a site, a library) the integration account may not read: it is left
    out and the rest is synced. ``grant`` says what to give the account; documents whose external id starts
    with ``kept_prefix`` were indexed from that part before and are kept, not pruned, until it can be read
    (None: the part's documents cannot be told apart, so this run prunes nothing)."""

    part: str
    reason: str
    grant: str
    kept_prefix: str | None = None


SyncEvent = SourceDocument | Deleted | ItemFailure | Checkpoint | Skipped


class ConnectorError(SourceFailure):
    """The whole run failed (bad credentials, unreachable site). The message is for the admin."""


class CheckpointExpired(ConnectorError):
    """The source can no longer resume from this checkpoint: load everything again and prune."""


class PartUnreadable(ConnectorError):
    """The source refused one part of itself to this account (not permitted, or not enabled): skip that part."""


class SourceBusy(ConnectorError):
    """The source asked us to back off for longer than a run should wait; resume next sync."""


# Marks a rarely changed field: the admin form tucks it under "Advanced settings".
ADVANCED = {"advanced": True}


class ConnectorConfig(BaseModel):
    """Settings every connector accepts. Subclasses add their own; secrets are SecretStr."""

    model_config = ConfigDict(extra="forbid")
    # Domains the source's own service sends Enclave to beyond the URLs configured (the address a sign-in
    # answers with, download redirects): the egress guard lets this source's connections reach them.
    egress_domains: ClassVar[tuple[str, ...]] = ()

    ca_bundle: Path | None = Field(
        None,
        description="PEM file of extra certificate authorities to trust (a TLS-inspecting proxy, a private CA).",
        json_schema_extra=ADVANCED,
    )


    def egress_destinations(self) -> list[str]:
        """Where this source may connect: every URL in the settings, and its service's domains."""
        return egress.urls_in(self) + list(self.egress_domains)


class Connector(ABC):
    """A configured source of documents."""

    type: ClassVar[str]  # "sharepoint", as stored and as typed in `enclave connectors add TYPE`
    label: ClassVar[str]  # "SharePoint", as shown to people
    Config: ClassVar[type[ConnectorConfig]]
    # True when load() yields Deleted for removed items, so ids need listing only after full loads.
    reports_deletions: ClassVar[bool] = False

    def __init__(self, config: ConnectorConfig):
        self.config = config

    def close(self) -> None:
        """Release connections; called after every sync or test."""

    @abstractmethod
    def test_connection(self) -> str:
        """Check credentials and reach; return a one-line summary, or raise ConnectorError saying what to fix."""

    @abstractmethod
    def load(self, checkpoint: dict | None) -> Iterator[SyncEvent]:
        """Everything (checkpoint None) or the changes since ``checkpoint``; see the module docstring."""


class IdListing(ABC):
    """A source that can cheaply list the ids of all its current items."""

    @abstractmethod
    def list_ids(self) -> Iterator[str]:
        """The external ids of every item the source has now."""


class Refetchable(ABC):
    """A source that can fetch given items again (to retry the ones that failed)."""

    @abstractmethod
    def fetch(self, external_ids: list[str]) -> Iterator[SyncEvent]:
        """A SourceDocument, Deleted or ItemFailure for each id."""


class Watchable(ABC):
    """A source that can tell, as it happens, that something changed (a local folder)."""

    @abstractmethod
    def watch(self, on_change) -> object:
        """Start watching; call ``on_change()`` after changes. Returns a handle with ``stop()``."""
