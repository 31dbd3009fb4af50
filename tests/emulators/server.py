"""Run an ASGI app (an emulated source, or Enclave itself) on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import trustme
import uvicorn


@dataclass(frozen=True)
class TestCA:
    """A throwaway certificate authority and a certificate for 127.0.0.1 / localhost signed by it."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def make_ca(folder: Path) -> TestCA:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.cert_pem.write_to_path(str(ca_pem))
    server_cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    for extra in server_cert.cert_chain_pems[1:]:
        with cert_pem.open("ab") as f:
            f.write(extra.bytes())
    server_cert.private_key_pem.write_to_path(str(key_pem))
    return TestCA(ca_pem, cert_pem, key_pem)


class BackgroundServer:
    """uvicorn serving ``app`` on 127.0.0.1 at a free port; HTTPS when given a TestCA."""

    def __init__(self, app, tls: TestCA | None = None):
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            ssl_certfile=str(tls.cert_pem) if tls else None,
            ssl_keyfile=str(tls.key_pem) if tls else None,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
