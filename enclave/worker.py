"""Enclave's background role: the connector scheduler (syncs and folder watches), group sync, scheduled
backups and the job loop that indexes queued uploads.

``enclave serve --role worker`` runs only this (no HTTP); ``--role all`` runs it inside the web server, as
one box always has; ``--role web`` never does. Every piece coordinates through the database (claims with
leases, due times), so any number of workers can run side by side.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .backup_schedule import BackupSchedule
from .identity.scheduler import GroupSyncScheduler
from .jobs import JobRunner
from .runtime import Runtime
from .sources.scheduler import Scheduler

log = logging.getLogger("enclave.worker")
HEARTBEAT_SECONDS = 10.0


class Worker:
    def __init__(self, runtime: Runtime):
        self.scheduler = Scheduler(runtime)
        self.group_sync = GroupSyncScheduler(runtime)
        self.backups = BackupSchedule(runtime)
        self.jobs = JobRunner(runtime)

    def start(self) -> None:
        self.scheduler.start()
        self.group_sync.start()
        self.backups.start()
        self.jobs.start()

    def stop(self) -> None:
        self.jobs.stop()
        self.backups.stop()
        self.group_sync.stop()
        self.scheduler.stop()

    def run_until(self, stop: threading.Event, heartbeat: Path | None = None) -> None:
        """Work until ``stop`` is set, touching ``heartbeat`` every few seconds meanwhile (a container's
        health check reads its age)."""
        self.start()
        log.info("worker started: syncs, group sync, backups and queued uploads")
        try:
            while True:
                if heartbeat:
                    heartbeat.touch()
                if stop.wait(HEARTBEAT_SECONDS):
                    break
        finally:
            self.stop()
            log.info("worker stopped")
