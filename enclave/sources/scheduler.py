"""Runs syncs in the server: each connector on its own schedule, on "sync now", and on folder changes.

One worker thread runs the syncs one after another, so indexing never takes
more than its share of a small box; requests for a connector already waiting
are merged. Syncs of paused connectors are not scheduled (an explicit "sync
now" still runs).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import select

from assistant.db.models import ConnectorRecord, as_utc, utcnow
from connectors.interfaces import Watchable
from enclave.runtime import Runtime
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
        self._wanted: OrderedDict[int, bool] = OrderedDict()  # connector id -> full sync?
        self._running: int | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._watches: dict[int, object] = {}
        self._thread = threading.Thread(target=self._work, name="sync-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for watch in self._watches.values():
            watch.stop()
        self._thread.join(timeout=30)

    def request(self, connector_id: int, full: bool = False) -> None:
        """Sync this connector as soon as the worker is free."""
        with self._wake:
            self._wanted[connector_id] = self._wanted.get(connector_id, False) or full
            self._wake.notify_all()

    def is_queued(self, connector_id: int) -> bool:
        return connector_id in self._wanted or self._running == connector_id

    def _work(self) -> None:
        while True:
            with self._wake:
                if not self._wanted and not self._stopping:
                    self._wake.wait(TICK_SECONDS)
                if self._stopping:
                    return
            self._refresh_watches_and_schedule()
            with self._wake:
                if not self._wanted:
                    continue
                connector_id, full = self._wanted.popitem(last=False)
                self._running = connector_id
            try:
                self.engine.sync(connector_id, full=full)
            except SyncAlreadyRunning as busy:  # e.g. `enclave sync` from the shell
                log.info("%s", busy)
            except KeyError:
                pass  # deleted while it waited
            except Exception:  # the worker must outlive any one sync
                log.exception("sync of connector %s failed", connector_id)
            finally:
                self._running = None

    def _refresh_watches_and_schedule(self) -> None:
        now = utcnow()
        with self.runtime.sessions() as session:
            records = session.scalars(select(ConnectorRecord)).all()
        allowed = within_hours(self.runtime.settings.background_hours, datetime.now().hour)
        for record in records:
            due = record.next_sync_at is None or as_utc(record.next_sync_at) <= now
            if allowed and not record.paused and due and not self.is_queued(record.id):
                self.request(record.id)
        self._update_watches([r for r in records if not r.paused])

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
                    self._watches[connector_id] = connector.watch(lambda cid=connector_id: self.request(cid))
            except Exception as error:  # a missing folder: the sync will report it
                log.warning("cannot watch connector %s: %s", record.name, error)
