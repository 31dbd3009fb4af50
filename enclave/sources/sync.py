"""The sync engine: runs a connector, indexes what it yields, keeps the checkpoint and the run's record.

A sync claims its connector first (never two syncs of one connector at once,
across threads, processes and workers), then loads from the stored checkpoint.
A heartbeat renews the claim's lease while the sync runs (``sync_lease_seconds``);
a worker that dies stops renewing it, and once it has run out another worker
takes the connector over and resumes from the checkpoint. Items
are indexed as they arrive; a Checkpoint is saved only when everything before
it is indexed, so a crash or kill resumes from it with nothing lost and nothing
indexed twice. One item failing is recorded with its reason and retried next
time; it never stops the rest. Progress and a log are kept in the run's row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from assistant.db.models import ConnectorRecord, SyncRun, utcnow
from assistant.errors import Conflict
from assistant.secrets import SecretBox
from connectors.interfaces import (
    Checkpoint,
    CheckpointExpired,
    Connector,
    ConnectorError,
    Deleted,
    IdListing,
    Refetchable,
    Skipped,
    SourceBusy,
    SyncEvent,
)
from connectors.registry import build
from enclave.leases import Heartbeat, owner_is_dead
from enclave.leases import owner as lease_owner
from enclave.runtime import Runtime
from enclave.sources.configs import unseal
from ingest import containers
from ingest.documents import ItemFailure
from ingest.index import Source

log = logging.getLogger("enclave.sync")

FLUSH_SECONDS = 0.5
MAX_LOG_LINES = 500


class SyncAlreadyRunning(Conflict):
    """A sync of this connector is under way (in this process or another)."""


@dataclass
class Progress:
    phase: str = "starting"
    seen: int = 0
    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    skipped: int = 0


def source_of(record: ConnectorRecord) -> Source:
    return Source(id=record.source_id, type=record.type)


class RunRecorder:
    """Keeps the SyncRun row up to date: counts and phase (written at most twice a second) and a log."""

    def __init__(self, runtime: Runtime, run_id: int, on_progress: Callable[[Progress], None] | None):
        self.runtime = runtime
        self.run_id = run_id
        self.progress = Progress()
        self.lines: list[str] = []
        self.attempted: set[str] = set()  # external ids this run has tried to index
        self.warnings: list[str] = []
        self.kept_prefixes: set[str] = set()  # documents of skipped parts: kept, never pruned ("": all of them)
        self.on_progress = on_progress
        self._flushed = 0.0

    def count(self, field: str, amount: int = 1) -> None:
        setattr(self.progress, field, getattr(self.progress, field) + amount)
        self.flush()

    def phase(self, phase: str) -> None:
        self.progress.phase = phase
        self.note(phase)
        self.flush(force=True)

    def note(self, line: str) -> None:
        log.info("run %s: %s", self.run_id, line)
        self.lines.append(f"{utcnow():%H:%M:%S} {line}")
        del self.lines[:-MAX_LOG_LINES]

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)
        self.note(f"warning: {warning}")

    def flush(self, force: bool = False, **final) -> None:
        if self.on_progress:
            self.on_progress(self.progress)
        if not force and time.monotonic() - self._flushed < FLUSH_SECONDS:
            return
        with self.runtime.sessions() as session:
            run = session.get(SyncRun, self.run_id)
            for field, value in vars(self.progress).items():
                setattr(run, field, value)
            run.log = list(self.lines)
            run.warnings = list(self.warnings)
            for field, value in final.items():
                setattr(run, field, value)
            session.commit()
        self._flushed = time.monotonic()


class SyncEngine:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.box = SecretBox(runtime.settings)
        self.lease = timedelta(seconds=runtime.settings.sync_lease_seconds)

    def connector(self, record: ConnectorRecord) -> Connector:
        return build(record.type, unseal(record.type, record.config, self.box))

    def sync(
        self,
        connector_id: int,
        full: bool = False,
        on_progress: Callable[[Progress], None] | None = None,
        if_due: bool = False,
    ) -> SyncRun:
        """Run one sync to its end; returns the finished run. Raises SyncAlreadyRunning if one is under way.

        ``if_due`` (the workers' schedulers): only if the connector is due or a sync was asked for, checked
        with the claim, so of several workers that saw it due exactly one syncs it.
        """
        owner = lease_owner()
        run_id, full = self._claim(connector_id, owner, full, if_due)
        recorder = RunRecorder(self.runtime, run_id, on_progress)
        renew_every = self.lease.total_seconds() / 3
        with Heartbeat(lambda: self._renew(connector_id, owner), renew_every, f"connector {connector_id}"):
            return self._sync_claimed(connector_id, owner, run_id, full, recorder)

    def _sync_claimed(self, connector_id: int, owner: str, run_id: int, full: bool, recorder: RunRecorder) -> SyncRun:
        status, error = "succeeded", None
        connector: Connector | None = None
        source, checkpoint = None, None
        try:
            with self.runtime.sessions() as session:
                record = session.get(ConnectorRecord, connector_id)
                connector = self.connector(record)
                checkpoint, source = (None if full else record.checkpoint), source_of(record)
            if checkpoint is None:
                recorder.flush(force=True, full=True)  # a first sync loads everything too
            self._run(connector, source, connector_id, checkpoint, recorder, owner)
        except SourceBusy as busy:
            status, error = "deferred", str(busy)
        except ConnectorError as failure:
            status, error = "failed", str(failure)
        except Exception as failure:  # a bug or an unreadable config: the run fails visibly, the server lives on
            log.exception("sync of connector %s failed", connector_id)
            status, error = "failed", f"unexpected error: {type(failure).__name__}: {failure}"
        finally:
            if connector:
                connector.close()
        held = self.runtime.documents.count(source.id) if source else None
        if status == "succeeded":
            self._reconcile(connector_id, recorder, held, full=checkpoint is None)
            status = "warning" if recorder.warnings else status
        if error:
            recorder.note(f"{status}: {error}")
        recorder.phase("done" if status in ("succeeded", "warning") else status)
        recorder.flush(force=True, status=status, error=error, held=held, finished_at=utcnow())
        return self._release(connector_id, owner, run_id, status, error)

    def _run(self, connector, source, connector_id, checkpoint, recorder: RunRecorder, owner: str) -> None:
        # A file inside a container is not the source's to fetch: it is read again with its container.
        earlier_failures = {e for e in self.runtime.documents.failed_ids(source.id) if not containers.holders(e)}
        full = checkpoint is None
        recorder.phase("loading everything" if full else "loading changes")
        try:
            self._load(connector, source, connector_id, checkpoint, recorder, owner)
        except CheckpointExpired as expired:
            recorder.note(f"the checkpoint expired ({expired}); loading everything again")
            self._save_checkpoint(connector_id, None, owner)
            full = True
            recorder.phase("loading everything")
            self._load(connector, source, connector_id, None, recorder, owner)
        if isinstance(connector, IdListing) and (full or not connector.reports_deletions):
            recorder.phase("finding deleted items")
            self._prune(connector, source, recorder)
        retry = sorted(earlier_failures - recorder.attempted)
        if retry and isinstance(connector, Refetchable):
            recorder.phase(f"retrying {len(retry)} earlier failure(s)")
            for event in connector.fetch(retry):
                if not isinstance(event, Checkpoint):
                    self._apply(source, event, recorder)

    def _load(self, connector, source, connector_id, checkpoint, recorder, owner) -> None:
        for event in connector.load(checkpoint):
            if isinstance(event, Checkpoint):
                self._save_checkpoint(connector_id, event.state, owner)
                recorder.flush()
            else:
                self._apply(source, event, recorder)

    def _apply(self, source: Source, event: SyncEvent, recorder: RunRecorder) -> None:
        sink = self.runtime.sink
        if isinstance(event, Deleted):
            recorder.count("deleted", sink.remove(source, [event.external_id]))
            return
        if isinstance(event, Skipped):
            recorder.count("skipped")
            recorder.warn(f"skipped {event.part}: {event.reason}. To sync it, {event.grant}")
            # Without a prefix, which documents came from the skipped part is unknown: keep them all.
            recorder.kept_prefixes.add(event.kept_prefix or "")
            return
        recorder.count("seen")
        recorder.attempted.add(event.external_id)
        if isinstance(event, ItemFailure):
            result = sink.fail(source, event.external_id, event.title, event.reason)
        else:
            result = sink.index(source, event)
        if result.outcome == "failed":
            recorder.note(f"failed: {event.title}: {result.reason}")
        elif result.ocr_pages:
            recorder.note(f"read {event.title}: {result.ocr_pages} page(s) by OCR")
        recorder.count({"failed": "failed", "unchanged": "unchanged"}.get(result.outcome, "indexed"))

    def _prune(self, connector: IdListing, source: Source, recorder: RunRecorder) -> None:
        present = set(connector.list_ids())
        held = self.runtime.documents.count(source.id)
        if not present and held:
            # An account that suddenly sees nothing is far likelier than a source emptied: keep the index.
            recorder.warn(f"the source listed no items while the index holds {held} from it; nothing was removed")
            return
        kept = tuple(recorder.kept_prefixes)
        gone = self.runtime.sink.prune(source, lambda external_id: external_id in present or external_id.startswith(kept))
        if gone:
            recorder.count("deleted", len(gone))
            recorder.note(f"removed {len(gone)} item(s) no longer in the source")

    def _reconcile(self, connector_id: int, recorder: RunRecorder, held: int | None, full: bool) -> None:
        """Warn when the run's counts do not add up, or a full load found nothing where the last one found some."""
        progress = recorder.progress
        outcomes = progress.indexed + progress.unchanged + progress.failed
        if outcomes != progress.seen:
            recorder.warn(f"the counts do not reconcile: {progress.seen} seen, but {outcomes} indexed, unchanged or failed")
        if full and progress.seen == 0:
            found_before = self._last_full_load_seen(connector_id, recorder.run_id)
            if found_before:
                recorder.warn(f"found no items where the last full sync found {found_before}; check the account's access")

    def _last_full_load_seen(self, connector_id: int, run_id: int) -> int:
        with self.runtime.sessions() as session:
            return session.scalar(
                select(SyncRun.seen)
                .where(SyncRun.connector_id == connector_id, SyncRun.id != run_id, SyncRun.full.is_(True),
                       SyncRun.status.in_(("succeeded", "warning")))
                .order_by(SyncRun.id.desc())
                .limit(1)
            ) or 0  # fmt: skip

    def _claim(self, connector_id: int, owner: str, full: bool, if_due: bool = False) -> tuple[int, bool]:
        """Claim the connector; returns the new run's id and whether it loads everything (asked here, or
        asked for with "sync now"). Raises SyncAlreadyRunning when another holds it (or, ``if_due``, when
        it is no longer due: another worker synced it)."""
        now = utcnow()
        with self.runtime.sessions() as session:
            record = session.get(ConnectorRecord, connector_id)
            if record is None:
                raise KeyError(f"no connector {connector_id}")
            free = (ConnectorRecord.sync_owner.is_(None)) | (ConnectorRecord.sync_lease_until < now)
            if record.sync_owner and owner_is_dead(record.sync_owner):
                free = free | (ConnectorRecord.sync_owner == record.sync_owner)
            if if_due:
                scheduled = ConnectorRecord.next_sync_at.is_(None) | (ConnectorRecord.next_sync_at <= now)
                free = free & (ConnectorRecord.sync_requested_at.is_not(None) | (~ConnectorRecord.paused & scheduled))
            full = full or record.sync_requested_full
            claimed = session.execute(
                update(ConnectorRecord)
                .where(ConnectorRecord.id == connector_id, free)
                .values(sync_owner=owner, sync_lease_until=now + self.lease, sync_requested_at=None,
                        sync_requested_full=False)
                .execution_options(synchronize_session=False)
            ).rowcount  # fmt: skip
            if not claimed:
                raise SyncAlreadyRunning(f"a sync of {record.name} is already running, or has just run")
            # A run left "running" by a process that died is over.
            for stale in session.scalars(
                select(SyncRun).where(SyncRun.connector_id == connector_id, SyncRun.status == "running")
            ):
                stale.status, stale.error, stale.finished_at = "failed", "interrupted: the process stopped", now
            run = SyncRun(connector_id=connector_id, full=full, status="running")
            session.add(run)
            session.commit()
            return run.id, full

    def _renew(self, connector_id: int, owner: str) -> bool:
        """Extend this owner's lease on the connector; False when it no longer holds it."""
        with self.runtime.sessions() as session:
            renewed = session.execute(
                update(ConnectorRecord)
                .where(ConnectorRecord.id == connector_id, ConnectorRecord.sync_owner == owner)
                .values(sync_lease_until=utcnow() + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
            return bool(renewed)

    def _save_checkpoint(self, connector_id: int, state: dict | None, owner: str) -> None:
        with self.runtime.sessions() as session:
            session.execute(
                update(ConnectorRecord)
                .where(ConnectorRecord.id == connector_id, ConnectorRecord.sync_owner == owner)
                .values(checkpoint=state, sync_lease_until=utcnow() + self.lease)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def _release(self, connector_id: int, owner: str, run_id: int, status: str, error: str | None) -> SyncRun:
        now = utcnow()
        with self.runtime.sessions() as session:
            record = session.get(ConnectorRecord, connector_id)
            if record is not None and record.sync_owner == owner:
                record.sync_owner, record.sync_lease_until = None, None
                record.last_sync_at = now
                record.next_sync_at = now + timedelta(minutes=record.schedule_minutes)
                record.last_error = error
            session.commit()
            return session.get(SyncRun, run_id)

