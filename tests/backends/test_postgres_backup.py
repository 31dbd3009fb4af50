"""Backup and restore of an appliance whose database is PostgreSQL, in the tests' throwaway cluster.

Failure modes covered: a pg_dump backup that cannot be made (no counts for the
manifest) or not restored; a restore that loses documents, vectors or keyword
rows, answers a search differently, or records its audit event in the wrong
database; a restore over a database that already holds an appliance.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from assistant.access import Viewer
from assistant.db.models import AuditEvent, Document
from assistant.errors import ConfigurationError
from enclave import backup, doctor
from tests.conftest import runtime_with, settings_for
from tests.server.conftest import index_corpus

QUESTION = "Where do employees park at the Tromso office?"


def top_chunk(runtime) -> tuple[str, str, str]:
    hit = runtime.retriever.search(QUESTION, Viewer.operator(), k=3)[0]
    return hit.origin.document_id, hit.chunk_id, hit.text


def test_a_postgresql_appliance_restores_into_an_empty_database(postgres, postgres_url, embedder, tmp_path, cli):
    runtime = runtime_with(settings_for(data_dir=tmp_path / "data", database_url=postgres_url), embedder)
    documents = index_corpus(runtime)

    made = cli("backup", str(tmp_path / "backup"), data_dir=tmp_path / "data", env={"ENCLAVE_DATABASE_URL": postgres_url})

    assert made.returncode == 0, made.stderr
    assert f"Backed up {len(documents)} document(s)" in made.stdout and "pg_restore --list reads it" in made.stdout
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"] == "postgresql" and manifest["chunks"] >= len(documents)
    assert manifest["migration"] == doctor.head_revision()
    assert {"enclave.pgdump", "chroma/chroma.sqlite3"} <= {f["path"] for f in manifest["files"]}

    restored_url, restored_dir = postgres.create_database(), tmp_path / "restored"
    result = cli("restore", str(tmp_path / "backup"), data_dir=restored_dir, env={"ENCLAVE_DATABASE_URL": restored_url})
    assert result.returncode == 0, result.stderr
    assert f"Restored {len(documents)} document(s)" in result.stdout
    assert not (restored_dir / "enclave.pgdump").exists() and not (restored_dir / "enclave.db").exists()

    restored = runtime_with(settings_for(data_dir=restored_dir, database_url=restored_url), embedder)
    assert doctor.vectors(restored).ok and doctor.keywords(restored).ok
    with restored.sessions() as session:
        assert set(session.scalars(select(Document.id))) == set(documents.values())
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "backup.restored"
    assert top_chunk(restored) == top_chunk(runtime) and top_chunk(runtime)[0] == documents["parking.md"]


def test_a_postgresql_backup_is_not_restored_over_a_database_in_use(postgres_url, embedder, tmp_path):
    runtime = runtime_with(settings_for(data_dir=tmp_path / "data", database_url=postgres_url), embedder)
    index_corpus(runtime)
    backup.create(runtime, tmp_path / "backup")
    target = settings_for(data_dir=tmp_path / "restored", database_url=postgres_url)

    with pytest.raises(ConfigurationError, match="is not empty .* restore into a new, empty database"):
        backup.restore(tmp_path / "backup", target)
    with pytest.raises(ConfigurationError, match="set database_url to a new, empty PostgreSQL database"):
        backup.restore(tmp_path / "backup", target.model_copy(update={"database_url": None}))
    assert not (tmp_path / "restored").exists()


def test_the_database_password_reaches_pg_dump_through_its_environment_not_its_command_line():
    address, password = backup._libpq("postgresql+psycopg://enclave:s3cr%40t@db:5432/enclave?sslmode=require")

    assert address == "postgresql://enclave@db:5432/enclave?sslmode=require" and password == "s3cr@t"
