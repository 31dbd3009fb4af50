"""Footprint: how big the installed environment is, how much memory the server holds once ready,
and how long it takes to get there (with the model already on disk).

    .venv/bin/python -m benchmarks.footprint
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from . import environment, report
from .server import Server

TARGET_RSS_GB = 1.5
TARGET_READY_S = 15.0
QUESTION = "How many days per week can I work from home?"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)

    venv = Path(sys.prefix)
    size, largest = installed_size(venv)
    data_dir = environment.fresh_dir("footprint")
    environment.enclave(data_dir, "ingest", str(environment.SAMPLES))
    key = environment.api_key(data_dir)
    report.progress("starting the server")
    with Server(data_dir) as server:
        alive = server.wait_for("/healthz")
        ready = server.wait_for("/readyz")
        rss_ready = memory_gb(server.process.pid, "VmRSS")
        asked = time.perf_counter()
        response = httpx.post(
            server.url + "/api/v1/ask",
            json={"question": QUESTION},
            headers={"Authorization": f"Bearer {key}"},
            timeout=600,
        )
        response.raise_for_status()
        first_answer = ready + time.perf_counter() - asked
        rss_answered = memory_gb(server.process.pid, "VmRSS")
        peak = memory_gb(server.process.pid, "VmHWM")
    write_results(venv, size, largest, alive, ready, first_answer, rss_ready, rss_answered, peak)


def installed_size(venv: Path) -> tuple[int, list[tuple[str, int]]]:
    """Bytes of every file in the environment, and its five largest installed packages."""
    total = 0
    per_package: dict[str, int] = {}
    site_packages = next(venv.glob("lib/python*/site-packages"))
    for folder, _, files in os.walk(venv):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink():
                continue
            size = path.stat().st_size
            total += size
            if site_packages in path.parents:
                top = path.relative_to(site_packages).parts[0]
                per_package[top] = per_package.get(top, 0) + size
    largest = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:5]
    return total, largest


def memory_gb(pid: int, field: str) -> float:
    """A memory figure of a process from /proc (VmRSS: resident now; VmHWM: the peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 2**30
    raise KeyError(field)


def write_results(venv, size, largest, alive, ready, first_answer, rss_ready, rss_answered, peak) -> None:
    rows = [
        ("installed environment (.venv)", f"{size / 2**30:.2f} GB", ""),
        ("server start → /healthz answers", f"{alive:.1f} s", ""),
        ("server start → /readyz ready (models loaded)", f"{ready:.1f} s",
         f"≤ {TARGET_READY_S:g} s ({report.verdict(ready <= TARGET_READY_S)})"),
        ("server start → first answer", f"{first_answer:.1f} s", ""),
        ("RSS once ready", f"{rss_ready:.2f} GB", f"≤ {TARGET_RSS_GB} GB ({report.verdict(rss_ready <= TARGET_RSS_GB)})"),
        ("RSS after the first answer", f"{rss_answered:.2f} GB",
         f"≤ {TARGET_RSS_GB} GB ({report.verdict(rss_answered <= TARGET_RSS_GB)})"),
        ("peak RSS so far", f"{peak:.2f} GB", ""),
    ]
    notes = [
        "Largest packages: " + ", ".join(f"{name} {bytes_ / 2**20:.0f} MB" for name, bytes_ in largest) + ".",
        "`enclave serve` with default settings and the 0.5B model (qwen2.5-coder-0.5b-instruct, Q4_K_M) already in "
        "models/, samples/ indexed; /readyz answers 200 once the LLM and the embedding model are loaded and the "
        "database and index respond.",
        "The first answer also loads the check model (qwen2.5-coder-1.5b-instruct, answer_check = \"facts+model\", "
        "the default), which holds most of the memory after it; with answer_check = \"facts\" the same measure "
        "was 1.24 GB (2026-12-06).",
    ]
    report.write(
        "footprint",
        "Footprint",
        {"venv": str(venv), "installed_bytes": size, "largest_packages": largest, "healthz_s": alive,
         "ready_s": ready, "first_answer_s": first_answer, "rss_ready_gb": rss_ready,
         "rss_after_first_answer_gb": rss_answered, "peak_rss_gb": peak,
         "targets": {"rss_gb": TARGET_RSS_GB, "ready_s": TARGET_READY_S}},
        report.table(("Footprint", "measured", "target"), rows),
        notes,
    )


if __name__ == "__main__":
    main()
