"""Soak: a real `enclave serve` under mixed load — people asking, uploads, a connector syncing — for a while.

Sixteen simulated people ask the sample questions over and over, an admin uploads a new document every ten
seconds, and a local-folder connector gains a file and is synced every thirty. The server's memory (RSS) is
read a third of the way in (the load has warmed every cache by then) and at the end; every answer that is not a success counts as
an error. Goal: memory growth under 10 %, zero errors. `make bench` runs 30 minutes; the tests run 2
(tests/operations/test_soak.py).

    .venv/bin/python -m benchmarks.soak [--minutes 30] [--users 16]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from . import environment, report
from .query import QUESTIONS

GROWTH_LIMIT = 0.10
UPLOAD_EVERY_S, SYNC_EVERY_S = 10, 30


@dataclass
class Soak:
    minutes: float
    users: int
    answers: int = 0
    uploads: int = 0
    syncs: int = 0
    errors: Counter = field(default_factory=Counter)
    rss_start: int = 0
    rss_end: int = 0

    @property
    def growth(self) -> float:
        return self.rss_end / self.rss_start - 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30, help="How long the mixed load runs.")
    parser.add_argument("--users", type=int, default=16, help="People asking at once.")
    args = parser.parse_args(argv)
    result = run(environment.fresh_dir("soak"), args.minutes, args.users)
    rows = [[f"{result.minutes:g} min", result.users, result.answers, result.uploads, result.syncs,
             sum(result.errors.values()), f"{result.rss_start / 2**20:.0f} MB", f"{result.rss_end / 2**20:.0f} MB",
             f"{result.growth:+.1%}"]]  # fmt: skip
    met = result.growth < GROWTH_LIMIT and not result.errors
    report.write(
        "soak",
        "Soak: mixed load on one server",
        {"minutes": result.minutes, "users": result.users, "answers": result.answers, "uploads": result.uploads,
         "syncs": result.syncs, "errors": dict(result.errors), "rss_start": result.rss_start,
         "rss_end": result.rss_end},  # fmt: skip
        report.table(["duration", "people", "answers", "uploads", "syncs", "errors", "memory after warm-up",
                      "memory at the end", "growth"], rows),  # fmt: skip
        [f"Goal: growth under {GROWTH_LIMIT:.0%} and no errors: {report.verdict(met)}."],
    )


def run(data_dir: Path, minutes: float, users: int, port: int | None = None) -> Soak:
    """Start a server on ``data_dir``, load it for ``minutes``, stop it; what happened."""
    port = port or environment.free_port()
    environment.enclave(data_dir, "ingest", str(environment.SAMPLES))
    server = subprocess.Popen([str(environment.ENCLAVE), "serve", "--port", str(port)],
                              env=environment.enclave_environment(data_dir), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server)
        key = environment.api_key(data_dir, "soak@enclave.local", role="admin")
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)
        folder = data_dir.parent / "soak-folder"
        folder.mkdir(exist_ok=True)
        connector = client.post("/api/v1/connectors", json={"type": "local", "name": "Soak folder",
                                                            "config": {"path": str(folder), "watch": False}}).json()
        questions = [q["question"] for q in json.loads(QUESTIONS.read_text())]
        soak = Soak(minutes, users)
        started = time.monotonic()
        # Memory is first read a third of the way in: by then the models, caches and pools are as large as the
        # load makes them, and what grows after is what would creep.
        threading.Timer(minutes * 20, lambda: setattr(soak, "rss_start", _rss(server.pid))).start()
        _load(client, soak, questions, folder, connector["id"], started + minutes * 60)
        soak.rss_end = _rss(server.pid)
        return soak
    finally:
        server.terminate()
        server.wait(timeout=120)


def _load(client: httpx.Client, soak: Soak, questions: list[str], folder: Path, connector_id: int, until: float) -> None:
    lock = threading.Lock()

    def note(response: httpx.Response, what: str) -> bool:
        with lock:
            if response.is_success:
                return True
            soak.errors[f"{what}: HTTP {response.status_code}"] += 1
            return False

    def ask(person: int) -> None:
        n = person
        while time.monotonic() < until:
            if note(client.post("/api/v1/ask", json={"question": questions[n % len(questions)]}), "ask"):
                with lock:
                    soak.answers += 1
            n += soak.users

    def upload() -> None:
        while time.monotonic() < until:
            text = f"Soak memo {soak.uploads}: the meeting room code is R-{1000 + soak.uploads}.\n".encode()
            if note(client.post("/api/v1/documents", files={"files": (f"memo-{soak.uploads}.md", text)}), "upload"):
                soak.uploads += 1
            time.sleep(UPLOAD_EVERY_S)

    def sync() -> None:
        while time.monotonic() < until:
            (folder / f"note-{soak.syncs}.md").write_text(f"Folder note {soak.syncs}: the canteen opens at 07:{soak.syncs % 60:02}.\n")
            if note(client.post(f"/api/v1/connectors/{connector_id}/sync", json={}), "sync"):
                soak.syncs += 1
            time.sleep(SYNC_EVERY_S)

    workers = [threading.Thread(target=ask, args=(n,)) for n in range(soak.users)]
    workers += [threading.Thread(target=upload), threading.Thread(target=sync)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _wait_ready(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped while starting")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("the server did not get ready")


def _rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


if __name__ == "__main__":
    main()
