"""Managing connectors: what the admin API and the CLI both do, with the same rules, each change audited
as the ``actor`` who asked for it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select

from assistant.db.models import ConnectorRecord, SyncRun, as_utc, utcnow
from assistant.errors import InvalidRequest, NotFoundError
from assistant.secrets import SecretBox
from connectors.interfaces import ConnectorConfig, ConnectorError
from connectors.registry import build, connector_class, connector_types

from .. import audit
from ..documents import DocumentsRepository
from ..runtime import Runtime
from .configs import masked, seal, unseal, updated


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str


def readable(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in error.errors())


def validated(type_name: str, config: dict):
    try:
        return connector_class(type_name).Config.model_validate(config)
    except KeyError as error:
        raise InvalidRequest(str(error.args[0])) from error
    except ValidationError as error:
        raise InvalidRequest(readable(error)) from error


def try_connection(type_name: str, config: dict | ConnectorConfig) -> TestResult:
    """Try a configuration for real: sign in, reach the source. Never raises."""
    try:
        parsed = config if isinstance(config, ConnectorConfig) else validated(type_name, config)
        connector = build(type_name, parsed)
    except InvalidRequest as problem:
        return TestResult(False, str(problem))
    try:
        return TestResult(True, connector.test_connection())
    except ConnectorError as error:
        return TestResult(False, str(error))
    except Exception as error:  # anything else still deserves an answer, not a 500
        return TestResult(False, f"unexpected error: {type(error).__name__}: {error}")
    finally:
        connector.close()


def create(runtime: Runtime, type_name: str, name: str, config: dict, schedule_minutes: int | None = None, *,
           actor: audit.Actor = audit.SYSTEM) -> ConnectorRecord:  # fmt: skip
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidRequest("a connector needs a name of at most 255 characters")
    parsed = validated(type_name, config)
    with runtime.sessions() as session:
        if session.scalar(select(ConnectorRecord).where(ConnectorRecord.name == name)):
            raise InvalidRequest(f"a connector named {name!r} already exists")
        record = ConnectorRecord(
            name=name,
            type=type_name,
            config=seal(parsed, SecretBox(runtime.settings)),
            schedule_minutes=schedule_minutes or runtime.settings.sync_interval_minutes,
        )
        session.add(record)
        session.flush()
        audit.record(session, actor, "connector.added", _target(record), name=name, type=type_name)
        session.commit()
        return record


def change(runtime: Runtime, connector_id: int, *, actor: audit.Actor = audit.SYSTEM, **changes) -> ConnectorRecord:
    """Apply ``changes`` (name, config, schedule_minutes, paused); the audit event names the fields, never values
    of the config (secrets)."""
    with runtime.sessions() as session:
        record = get(session, connector_id)
        if changes.get("config") is not None:
            try:
                config = updated(record.type, record.config, changes["config"], SecretBox(runtime.settings))
            except ValidationError as error:
                raise InvalidRequest(readable(error)) from error
            record.config = seal(config, SecretBox(runtime.settings))
        if changes.get("name"):
            record.name = changes["name"].strip()
        if changes.get("schedule_minutes"):
            record.schedule_minutes = changes["schedule_minutes"]
        if changes.get("paused") is not None:
            record.paused = changes["paused"]
        changed = sorted(k for k, v in changes.items() if v is not None)
        audit.record(session, actor, "connector.changed", _target(record), name=record.name, fields=changed)
        session.commit()
        return record


def sync_started(runtime: Runtime, actor: audit.Actor, connector_id: int, full: bool) -> None:
    """Record that someone started a sync by hand (scheduled syncs are Enclave's own and keep their run log)."""
    with runtime.sessions() as session:
        record = get(session, connector_id)
        audit.record(session, actor, "connector.sync_started", _target(record), name=record.name, full=full)
        session.commit()


def remove(runtime: Runtime, connector_id: int, actor: audit.Actor = audit.SYSTEM) -> int:
    """Delete a connector and everything it indexed; returns how many documents went."""
    with runtime.sessions() as session:
        source = get(session, connector_id).source_id
    removed = runtime.sink.remove_source(source)
    with runtime.sessions() as session:
        record = get(session, connector_id)
        audit.record(session, actor, "connector.removed", _target(record), name=record.name, documents_removed=removed)
        session.delete(record)
        session.commit()
    return removed


def _target(record: ConnectorRecord) -> str:
    return f"connector:{record.id}"


def unsealed(runtime: Runtime, record: ConnectorRecord) -> ConnectorConfig:
    """The stored config with its secrets decrypted."""
    return unseal(record.type, record.config, SecretBox(runtime.settings))


def request_sync(session, connector_id: int, full: bool = False) -> None:
    """Ask for a sync now (paused or not): the first worker whose scheduler sees the request runs it."""
    record = get(session, connector_id)
    record.sync_requested_at = utcnow()
    record.sync_requested_full = record.sync_requested_full or full
    session.commit()


def get(session, connector_id: int) -> ConnectorRecord:
    record = session.get(ConnectorRecord, connector_id)
    if record is None:
        raise NotFoundError("connector not found")
    return record


def records(session) -> list[ConnectorRecord]:
    """Every connector, by name."""
    return list(session.scalars(select(ConnectorRecord).order_by(ConnectorRecord.name)))


def find(session, name: str) -> ConnectorRecord:
    record = session.scalar(select(ConnectorRecord).where(ConnectorRecord.name == name))
    if record is None:
        raise NotFoundError(f"no connector named {name!r}; see `enclave connectors list`")
    return record


def latest_run(session, connector_id: int) -> SyncRun | None:
    return session.scalar(
        select(SyncRun).where(SyncRun.connector_id == connector_id).order_by(SyncRun.id.desc()).limit(1)
    )


def runs(session, connector_id: int, limit: int) -> list[SyncRun]:
    """The connector's latest syncs, newest first."""
    get(session, connector_id)
    query = select(SyncRun).where(SyncRun.connector_id == connector_id).order_by(SyncRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def state(record: ConnectorRecord, run: SyncRun | None) -> str:
    if run is not None and run.status == "running":
        return "syncing"
    if record.paused:
        return "paused"
    if record.last_error:
        return "error"
    return "warning" if run is not None and run.status == "warning" else "idle"


def describe(session, record: ConnectorRecord, documents: DocumentsRepository) -> dict:
    run = latest_run(session, record.id)
    progress = None
    if run is not None:
        progress = {f: getattr(run, f) for f in ("phase", "seen", "indexed", "unchanged", "failed", "deleted", "skipped")}
        progress["per_minute"] = _items_per_minute(run)
    return {
        "id": record.id,
        "name": record.name,
        "type": record.type,
        "label": connector_class(record.type).label,
        "config": masked(record.type, record.config),
        "schedule_minutes": record.schedule_minutes,
        "paused": record.paused,
        "state": state(record, run),
        "progress": progress,
        "warnings": list(run.warnings or ()) if run is not None else [],
        "last_sync_at": record.last_sync_at,
        "next_sync_at": None if record.paused else record.next_sync_at,
        "last_error": record.last_error,
        "documents": documents.count(record.source_id),
    }


def _items_per_minute(run: SyncRun) -> float | None:
    """Items seen per minute from the sync's start to its end, or to now while it runs."""
    seconds = (as_utc(run.finished_at or utcnow()) - as_utc(run.started_at)).total_seconds()
    return round(run.seen * 60 / seconds, 1) if seconds > 0 else None


def types() -> list[dict]:
    return [
        {"type": t, "label": c.label, "schema": c.Config.model_json_schema()} for t, c in connector_types().items()
    ]
