"""Backups of the data directory that are consistent while the server runs, verified, and restorable.

Consistency: every change to the indexes (vectors, keyword rows, document
records, originals) is made while holding the index-writes lock
(``Runtime.index_writes``). A backup holds it while it copies, so the copies
of the database, Chroma's folder and the originals show one moment. The
databases are copied with SQLite's online backup API (a consistent snapshot
even while other connections read and write: conversations and logins go on),
Chroma's segment files as files (Chroma only changes them when chunks are
written). The keyword index is in the database. PostgreSQL is dumped with
``pg_dump`` (the dump is one snapshot; the counts are read under the same
lock); an index on a Chroma server is backed up by that server's tools.

Verification: the copy is opened as an appliance of its own (a Runtime over
a scratch copy of it) and must pass doctor's index checks and find a stored
chunk by searching for its text; a PostgreSQL dump must be readable by
``pg_restore`` and hold the documents' table. The manifest records every file
with its size and sha256, the counts, the Enclave version and the schema's migration.

Restore: the files go into an empty data directory; a PostgreSQL dump goes, with
``pg_restore`` in one transaction, into the database the settings name, which
must have no tables. ``pg_dump`` and ``pg_restore`` are looked up on PATH, where
the PostgreSQL client packages put them (Debian's wrappers pick the version that
suits the server).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, create_engine, func, inspect, make_url, select
from sqlalchemy.exc import OperationalError

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
            counted = _copy_data(settings, partial)
        manifest = {**_manifest(partial), **counted}
        manifest["verified"] = verify(partial, settings, runtime.embedder)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(target, manifest)


def _copy_data(settings: Settings, into: Path) -> dict:
    """Copy the data into ``into``; returns the copied database's counts and migration."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        _copy_sqlite(Path(url.split("///", 1)[-1]), into / DATABASE)
        counted = _counts(f"sqlite:///{into / DATABASE}")
    else:
        _pg_dump(url, into / POSTGRES_DUMP)
        counted = _counts(url)  # the live database, still under the lock: what the dump holds
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
    return counted


def _counts(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            documents = connection.scalar(select(func.count()).select_from(Document))
            chunks = connection.scalar(select(func.coalesce(func.sum(Document.chunk_count), 0)))
        return {"documents": documents, "chunks": chunks, "migration": doctor.current_revision(engine)}
    finally:
        engine.dispose()


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
    address, password = _libpq(url)
    _postgres_tool("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", address, password=password)


def _pg_restore(dump: Path, url: str) -> None:
    address, password = _libpq(url)
    # One transaction: a failed restore leaves the database empty, so it can be tried again.
    _postgres_tool("pg_restore", "--no-owner", "--single-transaction", f"--dbname={address}", str(dump),
                   password=password)  # fmt: skip


def _postgres_tool(name: str, *arguments: str, password: str | None = None) -> str:
    """Run PostgreSQL's ``name`` (from PATH); returns its output. The password goes in the tool's
    environment (PGPASSWORD), not its command line, which every user of the machine can read."""
    if not shutil.which(name):
        raise ConfigurationError(
            f"the database is PostgreSQL and {name} is not on PATH; install the PostgreSQL client of the "
            "server's version or newer (apt-get install postgresql-client) or use your own tools"
        )
    environment = {**os.environ, "PGPASSWORD": password} if password else None
    result = subprocess.run([name, *arguments], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise StorageFailure(f"{name} failed: {result.stderr.strip()[-1000:]}")
    return result.stdout


def _libpq(url: str) -> tuple[str, str | None]:
    """The database URL as libpq reads it, without its password; and the password."""
    parsed = make_url(url)
    address = URL.create(
        "postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query
    ).render_as_string(hide_password=False)
    return address, parsed.password


def _manifest(folder: Path) -> dict:
    files = [
        {"path": str(path.relative_to(folder)), "size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    return {
        "enclave_version": enclave_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite" if (folder / DATABASE).exists() else "postgresql",
        "files": files,
    }


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
        if "TABLE DATA public documents" not in _postgres_tool("pg_restore", "--list", str(folder / POSTGRES_DUMP)):
            raise StorageFailure(f"the PostgreSQL dump in {folder} holds no documents table")
        return {"search": "not run: the database is a PostgreSQL dump; pg_restore --list reads it"}
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
    """Put a verified backup in place as the data directory of ``settings``, which must be empty, and a
    PostgreSQL dump into the (empty) database that ``database_url`` names; returns its manifest.
    Audited as ``backup.restored`` in the restored database."""
    folder, data_dir = folder.resolve(), settings.data_dir.resolve()
    manifest = read_manifest(folder)
    postgres = manifest["database"] == "postgresql"
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise ConfigurationError(f"{data_dir} is not empty; restore into a new or empty data directory")
    if postgres:
        _require_empty_postgres(settings.database_url)
        _pg_restore(folder / POSTGRES_DUMP, settings.database_url)
    data_dir.mkdir(parents=True, exist_ok=True)
    for entry in manifest["files"]:
        if entry["path"] in (SETTINGS_FILE, POSTGRES_DUMP):
            continue  # the settings file is the admin's to put back where ENCLAVE_CONFIG looks; the dump is restored
        copy = data_dir / entry["path"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / entry["path"], copy)
    if (data_dir / KEY_FILE).exists():
        (data_dir / KEY_FILE).chmod(0o600)
    restored = Runtime(settings if postgres else settings.model_copy(update={"database_url": None}))
    _audit(restored, actor, "backup.restored", folder, created_at=manifest["created_at"])
    return manifest


def _require_empty_postgres(url: str | None) -> None:
    if not url or not url.startswith("postgresql"):
        raise ConfigurationError(
            "this backup's database is a PostgreSQL dump: set database_url to a new, empty PostgreSQL database "
            "to restore it into"
        )
    engine = create_engine(url)  # not assistant.db.engine_for: that would create the tables
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as error:
        raise ConfigurationError(f"cannot open the PostgreSQL database to restore into: {error.orig}") from error
    finally:
        engine.dispose()
    if tables:
        raise ConfigurationError(
            f"the PostgreSQL database {engine.url.render_as_string(hide_password=True)} is not empty "
            f"(it has {len(tables)} tables); restore into a new, empty database"
        )
