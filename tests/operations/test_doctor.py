"""`enclave doctor` over a real data directory: all good after an ingest, each check failing for what was
really broken (vectors deleted in Chroma, an orphan vector, keyword rows deleted, the key readable by
others, the migration row gone), and `--repair` bringing it back so search finds the document again."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from assistant.access import Access
from assistant.config import CHECK_MODEL
from assistant.store.base import Chunk, ChunkOrigin
from assistant.store.chroma import ChromaStore

NOTES = {
    "parking.txt": "The parking garage at the Linz office closes at 22:00. Visitors park on level P1.",
    "canteen.txt": "The canteen serves a vegetarian lunch every Thursday from noon.",
    "travel.txt": "Night trains are booked in a sleeper compartment for trips over six hours.",
}


@pytest.fixture
def ingested(tmp_path, cli) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    data_dir = tmp_path / "data"
    assert cli("ingest", str(folder), data_dir=data_dir).returncode == 0
    return data_dir


def verdicts(result) -> dict[str, dict]:
    return {check["name"]: check for check in json.loads(result.stdout)["checks"]}


def document_ids(data_dir: Path) -> dict[str, str]:
    with sqlite3.connect(data_dir / "enclave.db") as db:
        return {title: doc_id for doc_id, title in db.execute("SELECT id, title FROM documents")}


def break_everything(data_dir: Path, lost: str, unindexed: str) -> None:
    store = ChromaStore("enclave", path=data_dir / "chroma")
    store.delete_documents([lost])
    orphan = ChunkOrigin("dorphan", "Gone", "file:///gone.txt", "files", "local", Access.everyone())
    store.upsert([Chunk(id="dorphan:0", text="a vector nobody recorded", position=0, origin=orphan,
                        embedding=[0.05] * 384)])  # fmt: skip
    with sqlite3.connect(data_dir / "enclave.db") as db:
        db.execute("DELETE FROM keyword_chunks WHERE document_id = ?", (unindexed,))
        db.execute("DELETE FROM alembic_version")
    key = data_dir / "secret.key"
    key.write_text("not needed for this test\n")
    os.chmod(key, 0o644)


def test_doctor_finds_what_was_broken_and_repairs_it(ingested, cli):
    clean = cli("doctor", data_dir=ingested)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("✓") == 9 and "✗" not in clean.stdout
    assert "qwen2.5-coder-0.5b-instruct, sha256 matches the catalog" in clean.stdout
    assert "check model: none: answers are checked by their facts" in clean.stdout
    checked = cli("doctor", data_dir=ingested, env={"ENCLAVE_ANSWER_CHECK": "facts+model"})
    assert f"check model: {CHECK_MODEL}, sha256 matches the catalog" in checked.stdout
    elsewhere = {"ENCLAVE_ANSWER_CHECK": "facts+model", "ENCLAVE_CHECK_MODEL": "gemma-3-270m"}  # not pulled
    missing = cli("doctor", data_dir=ingested, env=elsewhere)
    assert missing.returncode == 1 and "check model: gemma-3-270m is not on disk" in missing.stdout

    ids = document_ids(ingested)
    break_everything(ingested, lost=ids["parking.txt"], unindexed=ids["canteen.txt"])
    broken = cli("doctor", "--json", data_dir=ingested)
    assert broken.returncode == 1
    checks = verdicts(broken)
    assert json.loads(broken.stdout)["ok"] is False
    assert not checks["database migrations"]["ok"] and "records no migration" in checks["database migrations"]["detail"]
    assert not checks["vectors"]["ok"]
    assert f"{ids['parking.txt']} (0 of 1)" in checks["vectors"]["detail"] and "dorphan" in checks["vectors"]["detail"]
    assert not checks["keyword index"]["ok"] and ids["canteen.txt"] in checks["keyword index"]["detail"]
    assert not checks["secret key"]["ok"] and "0644" in checks["secret key"]["detail"]
    assert all(checks[name]["ok"] for name in ("egress guard", "language model", "embedding model", "data directory"))
    human = cli("doctor", data_dir=ingested)
    assert human.returncode == 1 and human.stdout.count("✗") == 4 and "--repair fixes it" in human.stdout

    repaired = cli("doctor", "--repair", data_dir=ingested)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert repaired.stdout.count("repaired:") == 4
    assert "indexed 1 again from their originals" in repaired.stdout
    assert cli("doctor", data_dir=ingested).returncode == 0
    assert os.stat(ingested / "secret.key").st_mode & 0o777 == 0o600
    found = cli("search", "When does the parking garage close?", "--k", "1", data_dir=ingested)
    assert found.returncode == 0 and "parking.txt" in found.stdout


def test_a_lost_document_without_its_original_is_forgotten_for_the_next_sync(ingested, cli):
    ids = document_ids(ingested)
    ChromaStore("enclave", path=ingested / "chroma").delete_documents([ids["travel.txt"]])
    for blob in (ingested / "blobs").rglob("*"):
        if blob.is_file() and b"sleeper" in blob.read_bytes():
            blob.unlink()
    assert cli("doctor", "--repair", data_dir=ingested).returncode == 0
    assert "travel.txt" not in document_ids(ingested)
    with sqlite3.connect(ingested / "enclave.db") as db:
        [(reason,)] = db.execute("SELECT reason FROM ingest_failures WHERE title = 'travel.txt'").fetchall()
    assert reason == "chunks lost; the next full sync fetches it again"
