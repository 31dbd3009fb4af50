"""A folder on the server (or a mounted share): every supported file in it, kept in step.

Each sync walks the folder but reads only files whose size or modification time
changed; deletions and renames are found by listing what is there now. With
``watch`` on, changes are noticed as they happen (watchdog) and trigger a sync;
the schedule remains the fallback. Symlinks leading outside the folder are not
followed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import Field, field_validator

from assistant.access import Access
from connectors.interfaces import (
    Checkpoint,
    Connector,
    ConnectorConfig,
    ConnectorError,
    Deleted,
    IdListing,
    Refetchable,
    SyncEvent,
    Watchable,
)
from connectors.local import files
from ingest.documents import ItemFailure, failure_reason

BATCH = 50
QUIET_SECONDS = 2.0  # wait for a burst of changes (a copy, an unzip) to settle before syncing


class LocalFolderConfig(ConnectorConfig):
    path: Path = Field(
        description="Absolute path of the folder on the Enclave server, e.g. /srv/shared/policies "
        "(mount network shares there first). Subfolders are included."
    )
    groups: list[str] = Field(
        default_factory=list,
        description="Enclave groups allowed to see these documents; leave empty for everyone.",
    )
    watch: bool = Field(True, description="Pick up changes as they happen, not only on the schedule.")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError("give an absolute path, e.g. /srv/shared/policies")
        return value


class LocalFolderConnector(Connector, IdListing, Refetchable, Watchable):
    type = "local"
    label = "Local folder"
    Config = LocalFolderConfig
    config: LocalFolderConfig

    @property
    def access(self) -> Access:
        return Access.restricted(groups=self.config.groups) if self.config.groups else Access.everyone()

    def test_connection(self) -> str:
        self._check_folder()
        count = sum(1 for _ in files.walk(self.config.path))
        return f"Found {count} file(s) Enclave can read in {self.config.path}"

    def _check_folder(self) -> None:
        root = self.config.path
        if not root.exists():
            raise ConnectorError(f"{root} does not exist on the Enclave server")
        if not root.is_dir():
            raise ConnectorError(f"{root} is a file; give the folder that holds the documents")
        if not os.access(root, os.R_OK | os.X_OK):
            raise ConnectorError(f"Enclave's user may not read {root}; check the folder's permissions")

    def load(self, checkpoint: dict | None) -> Iterator[SyncEvent]:
        self._check_folder()
        for count, path in enumerate(files.walk(self.config.path), start=1):
            yield self._document(path)
            if count % BATCH == 0:
                yield Checkpoint({"walked": count})
        yield Checkpoint({"walked": "all"})

    def list_ids(self) -> Iterator[str]:
        return (str(path) for path in files.walk(self.config.path))

    def fetch(self, external_ids: list[str]) -> Iterator[SyncEvent]:
        wanted = set(self.list_ids())
        for external_id in external_ids:
            yield self._document(Path(external_id)) if external_id in wanted else Deleted(external_id)

    def _document(self, path: Path) -> SyncEvent:
        try:
            return files.as_document(path, self.access, root=self.config.path)
        except OSError as error:
            return ItemFailure(str(path), path.name, failure_reason(error))

    def watch(self, on_change: Callable[[], None]):
        return FolderWatch(self.config.path, on_change)


class FolderWatch:
    """Calls ``on_change`` once a burst of file-system events has been quiet for a moment."""

    def __init__(self, root: Path, on_change: Callable[[], None]):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self._on_change = on_change
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        watch = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type not in ("opened", "closed_no_write"):
                    watch._changed()

        self._observer = Observer()
        self._observer.schedule(Handler(), str(root), recursive=True)
        self._observer.daemon = True
        self._observer.start()

    def _changed(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(QUIET_SECONDS, self._on_change)
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        self._observer.stop()
        with self._lock:
            if self._timer:
                self._timer.cancel()
