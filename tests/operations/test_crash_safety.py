"""Killed with kill -9 while indexing uploads, started again: every document ends indexed exactly once.

A real `enclave serve` takes a batch of uploads; the test kills it once some are indexed, starts it again
on the same data directory, uploads the same batch again (as a person whose upload broke off would), and
then `enclave doctor` must find the database, the keyword index and the vectors in agreement: each file one
document, each document's chunks there once, no orphans. (Folder ingest and connector syncs are killed the
same way in tests/sync/test_sharepoint_sync.py and the ingest tests.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading

import httpx
from sqlalchemy import func, select

from assistant import accounts
from assistant.db import session_factory
from assistant.db.models import Document
from tests.conftest import ENCLAVE, enclave_environment, run_enclave
from tests.polling import eventually
from tests.server.test_serve_command import free_port, healthy

FILES = {f"memo-{n:02}.md": f"# Memo {n}\n\nThe budget code for project {n} is BX-{4000 + n}.\n" for n in range(40)}


def serve(data_dir, port):
    process = subprocess.Popen([str(ENCLAVE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=enclave_environment(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: healthy(url) or process.poll() is not None, "the server answer /healthz")
    assert process.poll() is None
    return process, url


def admin_key(data_dir) -> str:
    with session_factory(f"sqlite:///{data_dir / 'enclave.db'}")() as session:
        admin = accounts.find_user(session, "admin@enclave.local")
        admin.must_change_password = False
        key, _ = accounts.create_api_key(session, admin, "uploads")
        session.commit()
    return key


def upload_all(url: str, key: str) -> None:
    """One file per request, as a browser's drop of many files does; a broken connection ends it."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        for name, text in FILES.items():
            try:
                client.post("/api/v1/documents", files={"files": (name, text.encode(), "text/markdown")})
            except httpx.HTTPError:
                return


def indexed(data_dir) -> int:
    with session_factory(f"sqlite:///{data_dir / 'enclave.db'}")() as session:
        return session.scalar(select(func.count()).select_from(Document))


def test_uploads_killed_midway_and_sent_again_are_indexed_exactly_once(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    process, url = serve(data_dir, port)
    key = admin_key(data_dir)
    uploading = threading.Thread(target=upload_all, args=(url, key), daemon=True)
    uploading.start()
    eventually(lambda: indexed(data_dir) >= 8, "some uploads indexed")
    process.send_signal(signal.SIGKILL)
    process.wait()
    uploading.join(timeout=60)
    assert 8 <= indexed(data_dir) < len(FILES), "the server must be killed midway"

    process, url = serve(data_dir, port)
    try:
        upload_all(url, key)
    finally:
        process.terminate()
        process.wait(timeout=60)

    assert indexed(data_dir) == len(FILES)
    doctor = run_enclave("doctor", "--json", data_dir=data_dir)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["vectors"]["ok"] and checks["keyword index"]["ok"], checks
    assert doctor.returncode == 0, checks
