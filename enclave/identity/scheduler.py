"""Runs group sync in the server: a pass at start-up, then every ``group_sync_minutes``, in one thread."""

from __future__ import annotations

import logging
import threading

from enclave.identity.groups import GroupSync, configured_methods
from enclave.runtime import Runtime

log = logging.getLogger("enclave.group_sync")


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
        # At once, so groups left stale while the server was down are brought back in step.
        while not self._stopping.is_set():
            try:
                report = GroupSync(self.runtime.settings, self.runtime.sessions).run()
                if report.failed:
                    log.warning("group sync: %d people's groups could not be read: %s", len(report.failed),
                                next(iter(report.failed.values())))  # fmt: skip
            except Exception:  # the thread must outlive any one pass
                log.exception("group sync failed")
            self._stopping.wait(self.runtime.settings.group_sync_minutes * 60)
