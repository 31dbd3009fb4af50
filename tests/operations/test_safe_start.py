"""Storage that cannot be used stops `enclave serve` and the CLI with one sentence naming the path and a
non-zero exit: a data directory that is a file, a full disk, a corrupt database, a corrupt index."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def refused(result: subprocess.CompletedProcess, path: Path, words: str) -> bool:
    return (
        result.returncode == 1 and "Traceback" not in result.stderr
        and str(path) in result.stderr and words in result.stderr
    )  # fmt: skip


def test_a_data_directory_that_is_a_file_is_named(tmp_path, cli):
    data_dir = tmp_path / "data"
    data_dir.write_text("not a folder")
    for command in (("serve",), ("status",), ("ingest", str(tmp_path))):
        assert refused(cli(*command, data_dir=data_dir), data_dir, "is a file, not a folder")


def test_a_corrupt_database_stops_serve_and_search(tmp_path, cli):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "enclave.db").write_bytes(b"\x13garbage" * 4096)
    for command in (("serve",), ("search", "parking")):
        assert refused(cli(*command, data_dir=data_dir), data_dir / "enclave.db", "file is not a database")


def test_a_corrupt_index_stops_serve_and_search(tmp_path, cli):
    data_dir = tmp_path / "data"
    (data_dir / "chroma").mkdir(parents=True)
    (data_dir / "chroma" / "chroma.sqlite3").write_bytes(b"\x13garbage" * 4096)
    for command in (("serve",), ("search", "parking")):
        assert refused(cli(*command, data_dir=data_dir), data_dir / "chroma", "the index at")


@pytest.fixture
def full_disk(tmp_path):
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): no full filesystem to test with")
    (mount_point / "filler").write_bytes(b"\0" * (2**20 - 8192))
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_refused_before_anything_is_written(full_disk, cli):
    data_dir = full_disk / "data"
    result = cli("serve", data_dir=data_dir)
    assert refused(result, data_dir, "is full")
    assert not (data_dir / "enclave.db").exists() and not (data_dir / "chroma").exists()
