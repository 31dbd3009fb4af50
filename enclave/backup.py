"""Backups of the data directory that are consistent while the server runs, verified, and restorable.

Consistency: every change to the indexes (vectors, keyword rows, document
records, originals) is made while holding the index-writes lock
(``Runtime.index_writes``). A backup holds it while it copies, so the copies
of the database, Chroma's folder and the originals show one moment. The
databases are copied with SQLite's online backup API (a consistent snapshot
even while other connections read and write: conversations and logins go on),
Chroma's segment files as files (Chroma only changes them when chunks are
written). The keyword index is in the database. PostgreSQL is dumped with
``pg_dump``; an index on a Chroma server is backed up by that server's tools.

Verification: the copy is opened as an appliance of its own (a Runtime over
a scratch copy of it) and must pass doctor's index checks and find a stored
chunk by searching for its text. The manifest records every file with its size
and sha256, the counts, the Enclave version and the schema's migration.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select

from assistant.access import Viewer
from assistant.config import Settings, config_file
from assistant.db.models import Document
from assistant.errors import ConfigurationError, StorageFailure
from assistant.secrets import KEY_FILE

from . import audit, doctor
from .audit import SYSTEM, Actor
from .runtime import Runtime

MANIFEST = "manifest.json"
DATABASE = "enclave.db"
POSTGRES_DUMP = "enclave.pgdump"
SETTINGS_FILE = "enclave.toml"
CHROMA = "chroma"
CHROMA_DATABASE = "chroma.sqlite3"
LOCK_FILES = {"enclave.lock"}


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict

    @property
    def documents(self) -> int:
        return self.manifest["documents"]

    @property
    def chunks(self) -> int:
        return self.manifest["chunks"]


def enclave_version() -> str:
    try:
        return importlib.metadata.version("enclave")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def create(runtime: Runtime, target: Path, actor: Actor = SYSTEM) -> Backup:
    """Copy the appliance's data into ``target`` (a new folder), verify the copy, write its manifest;
    audited as ``backup.created`` (with outcome ``failed`` and the reason when it fails)."""
    try:
        backup = _create(runtime, target)
    except Exception as error:
        _audit(runtime, actor, "backup.created", target, "failed", error=str(error))
        raise
    _audit(runtime, actor, "backup.created", target, documents=backup.documents, chunks=backup.chunks)
    return backup


def _audit(runtime: Runtime, actor: Actor, action: str, target: Path, outcome: str = "ok", **details) -> None:
    with runtime.sessions() as session:
        audit.record(session, actor, action, str(target), outcome, **details)
        session.commit()


def _create(runtime: Runtime, target: Path) -> Backup:
    settings = runtime.settings
    if settings.chroma_url:
        raise ConfigurationError(
            f"the index is on a Chroma server ({settings.chroma_url}); back it up with that server's own tools"
        )
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise ConfigurationError(f"{target} is not empty; give a new folder for the backup")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with runtime.index_writes.held():
            _copy_data(settings, partial)
        manifest = _manifest(settings, partial)
        manifest["verified"] = verify(partial, settings, runtime.embedder)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(target, manifest)


def _copy_data(settings: Settings, into: Path) -> None:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        _copy_sqlite(Path(url.split("///", 1)[-1]), into / DATABASE)
    else:
        _pg_dump(url, into / POSTGRES_DUMP)
    chroma = settings.chroma_path
    for path in sorted(chroma.rglob("*")) if chroma.exists() else []:
        relative = path.relative_to(chroma)
        if path.is_dir() or path.name in LOCK_FILES or path.name.startswith(f"{CHROMA_DATABASE}-"):
            continue  # the database's -wal and -shm files are read through the backup API
        copy = into / CHROMA / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.name == CHROMA_DATABASE:
            _copy_sqlite(path, copy)
        else:
            shutil.copy2(path, copy)
    if settings.blobs_dir.exists():
        shutil.copytree(settings.blobs_dir, into / "blobs", ignore=shutil.ignore_patterns(".*"))
    key = settings.data_dir / KEY_FILE
    if key.exists():
        shutil.copy2(key, into / KEY_FILE)
    if config_file().exists():
        shutil.copy2(config_file(), into / SETTINGS_FILE)


def _copy_sqlite(source: Path, copy: Path) -> None:
    if not source.exists():
        return
    reading = sqlite3.connect(source, timeout=30)
    writing = sqlite3.connect(copy)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _pg_dump(url: str, dump: Path) -> None:
    if not shutil.which("pg_dump"):
        raise ConfigurationError(
            "the database is PostgreSQL and pg_dump is not installed; install the PostgreSQL client "
            "(apt-get install postgresql-client) or back the database up with your own tools"
        )
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise StorageFailure(f"pg_dump failed: {result.stderr.strip()[-1000:]}")


def _manifest(settings: Settings, folder: Path) -> dict:
    files = [
        {"path": str(path.relative_to(folder)), "size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    manifest = {
        "enclave_version": enclave_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite" if (folder / DATABASE).exists() else "postgresql",
        "files": files,
    }
    if manifest["database"] == "sqlite":
        engine = create_engine(f"sqlite:///{folder / DATABASE}")
        with engine.connect() as connection:
            manifest["documents"] = connection.scalar(select(func.count()).select_from(Document))
            manifest["chunks"] = connection.scalar(select(func.coalesce(func.sum(Document.chunk_count), 0)))
        manifest["migration"] = doctor.current_revision(engine)
        engine.dispose()
    else:
        manifest["migration"] = doctor.head_revision()
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, settings: Settings, embedder) -> dict:
    """Open a scratch copy of the backup in ``folder`` as an appliance; its indexes must agree and a
    search for a stored chunk's text must find it. Returns what was searched and found."""
    if not (folder / DATABASE).exists():
        return {"search": "not run: the database is a PostgreSQL dump (pg_restore --list reads it)"}
    with tempfile.TemporaryDirectory(prefix="enclave-verify-") as scratch:
        shutil.copytree(folder, Path(scratch), dirs_exist_ok=True)
        copy = Runtime(settings.model_copy(update={"data_dir": Path(scratch), "database_url": None}))
        copy.__dict__["embedder"] = embedder  # the model already loaded; the copy's files are what is checked
        for check in (doctor.vectors(copy), doctor.keywords(copy)):
            if not check.ok:
                raise StorageFailure(f"the backup in {folder} is not consistent: {check.name}: {check.detail}")
        chunk = next(copy.store.stored_chunks(), None)
        if chunk is None:
            return {"search": "not run: nothing is indexed"}
        query = chunk.text[:200]
        hits = copy.retriever.search(query, Viewer.operator(), k=5)
        if chunk.origin.document_id not in {hit.origin.document_id for hit in hits}:
            raise StorageFailure(f"the backup in {folder} does not find its own chunk {chunk.id} by its text")
        return {"search": query, "found": chunk.origin.document_id}


def read_manifest(folder: Path) -> dict:
    """The backup's manifest, after checking every file it lists against its size and sha256."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ConfigurationError(f"{folder} is no Enclave backup: it has no {MANIFEST}")
    manifest = json.loads(path.read_text())
    for entry in manifest["files"]:
        file = folder / entry["path"]
        if not file.is_file() or file.stat().st_size != entry["size"] or _sha256(file) != entry["sha256"]:
            raise StorageFailure(f"the backup in {folder} is damaged: {entry['path']} is missing or changed")
    return manifest


def restore(folder: Path, settings: Settings, actor: Actor = SYSTEM) -> dict:
    """Put a verified backup in place as the data directory of ``settings``, which must be empty; returns
    its manifest. Audited as ``backup.restored`` in the restored database."""
    folder, data_dir = folder.resolve(), settings.data_dir.resolve()
    manifest = read_manifest(folder)
    if manifest["database"] != "sqlite":
        raise ConfigurationError(
            f"this backup's database is a PostgreSQL dump: restore it with `pg_restore --no-owner --dbname=URL "
            f"{folder / POSTGRES_DUMP}` into an empty database, and copy chroma/, blobs/ and secret.key into the "
            "data directory"
        )
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise ConfigurationError(f"{data_dir} is not empty; restore into a new or empty data directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    for entry in manifest["files"]:
        if entry["path"] == SETTINGS_FILE:
            continue  # the settings file is the admin's to put back where ENCLAVE_CONFIG looks
        copy = data_dir / entry["path"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / entry["path"], copy)
    if (data_dir / KEY_FILE).exists():
        (data_dir / KEY_FILE).chmod(0o600)
    restored = Runtime(settings.model_copy(update={"database_url": None}))
    _audit(restored, actor, "backup.restored", folder, created_at=manifest["created_at"])
    return manifest
