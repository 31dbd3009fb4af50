"""Daily backups run by the server: one a day from ``backup_hour`` into ``backup_dir``, the newest
``backup_keep`` kept. A failure is logged, audited and shown on the admin overview; the next try is an
hour later. With several workers, the one that claims the backup's task lease makes it; the others skip
that day's."""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from assistant.db.models import utcnow

from .backup import MANIFEST, create
from .leases import claim_task, finish_task, owner
from .runtime import Runtime

log = logging.getLogger("enclave.backup")
PREFIX = "enclave-"
CHECK_SECONDS = 60.0
RETRY_AFTER = timedelta(hours=1)
TASK = "backup"


@dataclass(frozen=True)
class BackupStatus:
    directory: Path
    kept: list[Path]
    last_error: str | None


def backups_in(directory: Path) -> list[Path]:
    """The complete scheduled backups in ``directory``, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).is_file())


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted ones."""
    old = backups_in(directory)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


class BackupSchedule:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.directory = runtime.settings.backup_dir
        self.last_error: str | None = None
        self._last_try: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="backup-schedule", daemon=True)

    def start(self) -> None:
        if self.directory:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def status(self) -> BackupStatus | None:
        return BackupStatus(self.directory, backups_in(self.directory), self.last_error) if self.directory else None

    def due(self, now: datetime) -> bool:
        """Whether today's backup is owed: past the hour, none made since, no try in the last hour."""
        slot = now.replace(hour=self.runtime.settings.backup_hour, minute=0, second=0, microsecond=0)
        if now < slot:
            slot -= timedelta(days=1)
        made = backups_in(self.directory)
        if made and datetime.fromtimestamp((made[-1] / MANIFEST).stat().st_mtime) >= slot:
            return False
        return self._last_try is None or now - self._last_try >= RETRY_AFTER

    def run_once(self, now: datetime) -> Path | None:
        self._last_try = now
        target = self.directory / f"{PREFIX}{now:%Y%m%d-%H%M%S}"
        try:
            backup = create(self.runtime, target)
            prune(self.directory, self.runtime.settings.backup_keep)
        except Exception as error:  # the server goes on; the overview and the log say what failed
            self.last_error = f"{now:%Y-%m-%d %H:%M}: {error}"
            log.error("Scheduled backup into %s failed: %s", target, error)
            return None
        self.last_error = None
        log.info("Backed up %s documents to %s", backup.documents, backup.path)
        return backup.path

    def _work(self) -> None:
        delay = 1.0  # a server started after the hour backs up at once
        while not self._stop.wait(delay):
            delay = CHECK_SECONDS
            now = datetime.now()
            if self.due(now):
                self._run_claimed(now)

    def _run_claimed(self, now: datetime) -> None:
        """Back up unless another worker is at it (or tried within the hour)."""
        sessions, claimant = self.runtime.sessions, owner()
        if not claim_task(sessions, TASK, claimant, lease=timedelta(hours=6)):
            self._last_try = now
            return
        try:
            self.run_once(now)
        finally:
            finish_task(sessions, TASK, claimant, next_run_at=utcnow() + RETRY_AFTER)
