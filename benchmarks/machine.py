"""What the numbers were measured on: they mean little without the machine."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": _os_name(),
        "python": platform.python_version(),
        # Other work on the box slows every measurement; the load says how busy it was (taken as results are written).
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def one_line(machine: dict) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB RAM, {machine['os']}, "
        f"Python {machine['python']} (load average {machine['load_average_1m']} as the run ended)"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        )
        return release.get("PRETTY_NAME", "").strip('"') or platform.platform()
    except OSError:
        return platform.platform()
