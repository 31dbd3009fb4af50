"""`enclave serve` as a subprocess on a free port, in a scratch data dir."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .environment import ENCLAVE, enclave_environment


class Server:
    def __init__(self, data_dir: Path, **settings: str):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self._environment = enclave_environment(data_dir, **settings)
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def __enter__(self) -> Server:
        # Stopped with a signal, the benchmark still stops its server on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            [str(ENCLAVE), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self._environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_for(self, path: str, timeout: float = 300) -> float:
        """Poll ``path`` until it answers 200; returns the seconds since the process started."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"enclave serve exited ({self.process.returncode}); see {self.log}")
            try:
                if httpx.get(self.url + path, timeout=5).status_code == 200:
                    return time.perf_counter() - self.started_at
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{path} did not answer 200 within {timeout:.0f}s; see {self.log}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
