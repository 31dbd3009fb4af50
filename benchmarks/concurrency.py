"""Concurrency: many people asking at once over HTTP, while a probe watches /healthz.

The real server (`enclave serve`) runs in a scratch data dir with samples/
indexed; a user and an API key are made with the CLI. Then every simulated user
posts a streamed question (POST /api/v1/ask, Server-Sent Events) at the same
moment. Each must be answered, or refused at once with 503 and Retry-After;
none may time out. Meanwhile /healthz is polled every 100 ms.

    .venv/bin/python -m benchmarks.concurrency [--users 16] [--timeout 900]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from enclave.evaluation.metrics import percentile

from . import environment, report
from .server import Server

QUESTIONS = Path(__file__).resolve().parent / "data" / "sample_questions.json"
HEALTH_INTERVAL_S = 0.1
HEALTH_TIMEOUT_S = 30
TARGET_HEALTH_MS = 100


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16, help="Simulated users asking at the same moment.")
    parser.add_argument("--timeout", type=float, default=900, help="Seconds a user waits before giving up.")
    args = parser.parse_args(argv)

    data_dir = environment.fresh_dir("concurrency")
    environment.enclave(data_dir, "ingest", str(environment.SAMPLES))
    key = environment.api_key(data_dir)
    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())]
    asked = [questions[i % len(questions)] for i in range(args.users)]

    with Server(data_dir) as server:
        report.progress("starting the server")
        server.wait_for("/readyz")
        probe = HealthProbe(server.url)
        probe.start()
        report.progress(f"{args.users} users ask at once")
        started = time.perf_counter()
        outcomes = asyncio.run(ask_all(server.url, key, asked, args.timeout))
        elapsed = time.perf_counter() - started
        probe.stop()
    write_results(args.users, outcomes, elapsed, probe)


class HealthProbe(threading.Thread):
    """GET /healthz every 100 ms from its own thread and connection, recording each latency."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url + "/healthz"
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=HEALTH_TIMEOUT_S) as client:
            while not self._stopping.is_set():
                started = time.perf_counter()
                try:
                    client.get(self.url).raise_for_status()
                except httpx.HTTPError:
                    self.failures += 1  # counted, and its latency kept: at least the time it took to fail
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                self._stopping.wait(HEALTH_INTERVAL_S)

    def stop(self) -> None:
        self._stopping.set()
        self.join()


async def ask_all(url: str, key: str, questions: list[str], timeout: float) -> list[dict]:
    limits = httpx.Limits(max_connections=len(questions) + 1)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout, limits=limits
    ) as client:
        return await asyncio.gather(*(ask(client, question, timeout) for question in questions))


async def ask(client: httpx.AsyncClient, question: str, timeout: float) -> dict:
    """One streamed question: answered (with its time to first token), refused (503), or failed."""
    started = time.perf_counter()
    outcome: dict = {"question": question}
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("POST", "/api/v1/ask", json={"question": question, "stream": True}) as response:
                if response.status_code == 503:
                    await response.aread()
                    outcome["outcome"] = "refused" if response.headers.get("retry-after") else "503 without Retry-After"
                    return outcome
                if response.status_code != 200:
                    outcome["outcome"] = f"HTTP {response.status_code}"
                    return outcome
                async for line in response.aiter_lines():
                    if line == "event: token" and "ttft_s" not in outcome:
                        outcome["ttft_s"] = time.perf_counter() - started
                    elif line == "event: error":
                        outcome["outcome"] = "error event"
                    elif line == "event: done":
                        outcome.setdefault("outcome", "answered")
                outcome["total_s"] = time.perf_counter() - started
                outcome.setdefault("outcome", "stream ended without done")
    except TimeoutError:
        outcome["outcome"] = "timed out"
    except httpx.HTTPError as error:
        outcome["outcome"] = f"{type(error).__name__}: {error}"
    return outcome


def write_results(users: int, outcomes: list[dict], elapsed: float, probe: HealthProbe) -> None:
    health_ms = probe.latencies_ms
    answered = [o for o in outcomes if o["outcome"] == "answered"]
    refused = [o for o in outcomes if o["outcome"] == "refused"]
    other = [o for o in outcomes if o["outcome"] not in ("answered", "refused")]
    ttft = [o["ttft_s"] for o in answered]
    health_max = max(health_ms)
    per_minute = len(answered) / (elapsed / 60)
    rows = [
        ("questions sent at once", users, ""),
        ("answered", len(answered), ""),
        ("refused with 503 + Retry-After", len(refused), ""),
        ("timed out or failed", len(other), f"0 ({report.verdict(not other)})"),
        ("time to first token p50 (s)", percentile(ttft, 50), ""),
        ("time to first token p95 (s)", percentile(ttft, 95), ""),
        ("answers per minute", per_minute, ""),
        ("/healthz latency max (ms)", health_max, f"< {TARGET_HEALTH_MS} ({report.verdict(health_max < TARGET_HEALTH_MS)})"),
        ("/healthz latency p99 (ms)", percentile(health_ms, 99), ""),
        ("/healthz latency median (ms)", statistics.median(health_ms), ""),
        (f"/healthz probes failed or slower than {HEALTH_TIMEOUT_S} s", probe.failures, ""),
    ]
    notes = [
        f"`enclave serve` with the default settings (queue_size 16), samples/ indexed; {users} streamed "
        "POST /api/v1/ask requests started together with one employee's API key; time to first token is "
        "measured by the client, from sending the request to the first `token` event.",
        f"/healthz polled every {HEALTH_INTERVAL_S * 1000:.0f} ms from a separate thread and connection for the "
        f"whole {elapsed:.0f} s ({len(health_ms)} probes).",
    ]
    if other:
        notes.append(f"Failures: {sorted({o['outcome'] for o in other})}")
    report.write(
        "concurrency",
        f"Concurrency: {users} users at once over HTTP",
        {"users": users, "elapsed_s": elapsed, "answers_per_minute": per_minute, "outcomes": outcomes,
         "healthz_ms": health_ms, "healthz_failures": probe.failures, "target_healthz_ms": TARGET_HEALTH_MS},
        report.table(("Concurrency", "measured", "target"), rows),
        notes,
    )


if __name__ == "__main__":
    main()
