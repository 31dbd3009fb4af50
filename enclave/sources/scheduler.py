"""Runs syncs in a worker (or the all-in-one server): each connector on its own schedule, on "sync now",
and on folder changes.

What is due lives in the database: a connector's next sync time, and a "sync now" asked for by any web
replica, the CLI or a folder watch (``service.request_sync``). Each worker's scheduler looks every few
seconds (at once when woken in the same process) and syncs what is due, one sync after another, so
indexing never takes more than its share of a small box. The claim re-checks that the connector is still
due, so of several workers that saw it due exactly one syncs it. Syncs of paused connectors are not
scheduled (an explicit "sync now" still runs).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import select

from assistant.db.models import ConnectorRecord, as_utc, utcnow
from connectors.interfaces import Watchable
from enclave.runtime import Runtime
from enclave.sources import service
from enclave.sources.sync import SyncAlreadyRunning, SyncEngine

log = logging.getLogger("enclave.scheduler")
TICK_SECONDS = 5.0


def within_hours(hours: str | None, hour: int) -> bool:
    """Whether ``hour`` (0-23, local) falls in ``background_hours`` ("19-7" wraps past midnight; None: always)."""
    if not hours:
        return True
    start, end = (int(h) for h in hours.split("-"))
    return start <= hour < end if start <= end else hour >= start or hour < end


class Scheduler:
    def __init__(self, runtime: Runtime):
        self.engine = SyncEngine(runtime)
        self.runtime = runtime
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._watches: dict[int, object] = {}
        self._thread = threading.Thread(target=self._work, name="sync-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for watch in self._watches.values():
            watch.stop()
        self._thread.join(timeout=30)

    def request(self, connector_id: int, full: bool = False) -> None:
        """Ask for a sync of this connector now (recorded in the database, so any worker may run it)."""
        with self.runtime.sessions() as session:
            service.request_sync(session, connector_id, full)
        self.wake()

    def wake(self) -> None:
        """Look for due syncs now instead of at the next tick."""
        self._wake.set()

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(TICK_SECONDS)
            self._wake.clear()
            try:
                due = self._due_and_watch()
            except Exception:  # the database is away for a moment: the next tick tries again
                log.exception("could not read the connectors' schedules")
                continue
            for connector_id in due:
                if self._stopping.is_set():
                    return
                self._sync(connector_id)

    def _sync(self, connector_id: int) -> None:
        try:
            self.engine.sync(connector_id, if_due=True)
        except SyncAlreadyRunning as busy:  # another worker, or `enclave sync` from the shell
            log.info("%s", busy)
        except KeyError:
            pass  # deleted meanwhile
        except Exception:  # the worker must outlive any one sync
            log.exception("sync of connector %s failed", connector_id)

    def _due_and_watch(self) -> list[int]:
        """The connectors due now, those asked for first; and the folder watches brought in step."""
        now = utcnow()
        with self.runtime.sessions() as session:
            records = session.scalars(select(ConnectorRecord).order_by(ConnectorRecord.id)).all()
        asked = [r.id for r in records if r.sync_requested_at is not None]
        allowed = within_hours(self.runtime.settings.background_hours, datetime.now().hour)
        scheduled = [
            r.id for r in records
            if allowed and not r.paused and r.id not in asked and (r.next_sync_at is None or as_utc(r.next_sync_at) <= now)
        ]  # fmt: skip
        self._update_watches([r for r in records if not r.paused])
        return asked + scheduled

    def _update_watches(self, records: list[ConnectorRecord]) -> None:
        wanted = {r.id: r for r in records if r.type == "local" and r.config.get("watch", True)}
        for connector_id in set(self._watches) - set(wanted):
            self._watches.pop(connector_id).stop()
        for connector_id, record in wanted.items():
            if connector_id in self._watches:
                continue
            try:
                connector = self.engine.connector(record)
                if isinstance(connector, Watchable):
                    self._watches[connector_id] = connector.watch(lambda cid=connector_id: self._changed(cid))
            except Exception as error:  # a missing folder: the sync will report it
                log.warning("cannot watch connector %s: %s", record.name, error)

    def _changed(self, connector_id: int) -> None:
        try:
            self.request(connector_id)
        except Exception:  # e.g. the connector was deleted as its folder changed
            log.exception("could not ask for a sync of connector %s after a change", connector_id)
