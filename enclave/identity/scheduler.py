"""Runs group sync in a worker (or the all-in-one server): a pass at start-up, then every
``group_sync_minutes``, in one thread. The pass's due time is a task lease in the database, so with several
workers each pass runs on one of them."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from assistant.db.models import utcnow
from enclave.identity.groups import GroupSync, configured_methods
from enclave.leases import claim_task, finish_task, owner
from enclave.runtime import Runtime

log = logging.getLogger("enclave.group_sync")
TASK = "group-sync"
CHECK_SECONDS = 30.0


class GroupSyncScheduler:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._work, name="group-sync", daemon=True)

    def start(self) -> None:
        """Starts only when a directory is configured: with none, there are no groups to keep in step."""
        if configured_methods(self.runtime.settings):
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _work(self) -> None:
        # Due at once on a fresh database, so groups left stale while the servers were down are brought back in step.
        every = timedelta(minutes=self.runtime.settings.group_sync_minutes)
        while not self._stopping.is_set():
            claimant = owner()
            try:
                if claim_task(self.runtime.sessions, TASK, claimant, lease=every):
                    try:
                        self._pass()
                    finally:
                        finish_task(self.runtime.sessions, TASK, claimant, next_run_at=utcnow() + every)
            except Exception:  # the thread must outlive any one pass
                log.exception("group sync failed")
            self._stopping.wait(min(CHECK_SECONDS, every.total_seconds()))

    def _pass(self) -> None:
        report = GroupSync(self.runtime.settings, self.runtime.sessions).run()
        if report.failed:
            log.warning("group sync: %d people's groups could not be read: %s", len(report.failed),
                        next(iter(report.failed.values())))  # fmt: skip
