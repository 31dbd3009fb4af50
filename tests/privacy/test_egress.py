"""The egress guard: inside Enclave's process, nothing connects anywhere but loopback and configured services.

The guard is process-wide and permanent once installed, so the real checks run in fresh processes: a script
that builds Enclave's runtime and then behaves like a careless library, and the real ``enclave`` CLI with a
library smuggled in through ``sitecustomize`` that phones home while a folder is ingested.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from assistant.egress import EgressGuard
from tests.conftest import REPO, run_enclave
from tests.server.conftest import enclave_server  # noqa: F401 (a fixture)


@pytest.fixture
def guard() -> EgressGuard:
    guard = EgressGuard()  # not installed: only its rules are exercised here
    guard.permit(["https://login.microsoftonline.com/common", ".sharepoint.com", "10.1.0.0/16", "db.internal"])
    return guard


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("login.microsoftonline.com", True),
        ("contoso.sharepoint.com", True),
        ("DB.INTERNAL.", True),
        ("10.1.200.3", True),
        ("sharepoint.com.evil.example", False),
        ("evilsharepoint.com", False),
        ("10.2.0.1", False),
        ("8.8.8.8", False),
        ("api.openai.com", False),
    ],
)
def test_what_the_guard_allows(guard, host, allowed):
    assert guard.allows_name(host) is allowed


CARELESS_LIBRARY = textwrap.dedent(
    """
    import json, socket, sys, threading, urllib.request
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from pathlib import Path

    import requests

    from assistant.config import Settings
    from enclave.runtime import Runtime

    Runtime(Settings(data_dir=Path(sys.argv[1]), egress_allow=["192.0.2.0/24"]))

    def attempt(name, call):
        try:
            call()
            results[name] = "connected"
        except Exception as error:  # what a library would see
            results[name] = f"{type(error).__name__}: {error}"

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b"hi")
        def log_message(self, *args):
            pass

    local = HTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=local.serve_forever, daemon=True).start()
    results = {}
    attempt("raw socket", lambda: socket.create_connection(("203.0.113.9", 443), timeout=1))
    attempt("urllib", lambda: urllib.request.urlopen("http://updates.example.com/check", timeout=1))
    attempt("requests", lambda: requests.get("https://telemetry.example.org/v1", timeout=1))
    attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.51.100.7", 53)))
    attempt("loopback", lambda: urllib.request.urlopen(f"http://127.0.0.1:{local.server_port}/", timeout=5).read())
    attempt("allowed network", lambda: socket.create_connection(("192.0.2.1", 9), timeout=0.2))
    print(json.dumps(results))
    """
)


def test_connections_from_inside_the_process_are_refused_but_loopback_and_allowed_ones_pass(tmp_path):
    script = tmp_path / "careless.py"
    script.write_text(CARELESS_LIBRARY)
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "data")], capture_output=True, text=True,
                         cwd=REPO, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    for name, destination in [
        ("raw socket", "203.0.113.9:443"),
        ("urllib", "updates.example.com:80"),
        ("requests", "telemetry.example.org:443"),
        ("udp", "198.51.100.7:53"),
    ]:
        assert "egress guard refused a connection to " + destination in results[name], name
    assert results["loopback"] == "connected"
    assert "egress guard" not in results["allowed network"]  # refused by the network, if at all, not by Enclave
    # Each refusal is logged with the line of code that tried.
    assert f"attempted from {script}:" in run.stderr


PHONE_HOME = textwrap.dedent(
    """
    # A library that phones home once Enclave is running, as a careless dependency would.
    import threading, time, sys, urllib.request

    def guard_installed():
        # A module is in sys.modules before its body has run: look for the guard's attribute, not the module.
        guard = getattr(sys.modules.get("assistant.egress"), "GUARD", None)
        return getattr(guard, "installed", False)

    def phone_home():
        for _ in range(2400):  # two minutes at most
            if guard_installed():
                break
            time.sleep(0.05)
        try:
            urllib.request.urlopen("http://collector.example.net/usage", timeout=2)
            outcome = "sent"
        except Exception as error:
            outcome = str(error)
        with open(REPORT, "w") as report:
            report.write(outcome)

    threading.Thread(target=phone_home).start()  # not a daemon: the process writes its report before it exits
    """
)


def test_the_cli_refuses_a_library_phoning_home_and_still_does_its_work(tmp_path):
    smuggled = tmp_path / "site"
    smuggled.mkdir()
    report = tmp_path / "report.txt"
    (smuggled / "sitecustomize.py").write_text(f"REPORT = {str(report)!r}\n" + PHONE_HOME)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text("Employees park on level P3 of the garage.")
    run = run_enclave("ingest", str(folder), data_dir=tmp_path / "data", env={"PYTHONPATH": f"{smuggled}:{REPO}"})
    assert run.returncode == 0, run.stderr
    assert "refused a connection to collector.example.net:80" in report.read_text()
    assert "egress guard refused a connection to collector.example.net:80" in run.stderr
    assert "sitecustomize.py" in run.stderr  # where in the code it came from


def test_a_connector_reaches_its_own_service_and_nothing_else():
    from connectors.salesforce.config import SalesforceConfig

    config = SalesforceConfig(login_url="https://test.salesforce.com", client_id="x", client_secret="y")
    guard = EgressGuard()
    guard.permit(config.egress_destinations())
    assert guard.allows_name("test.salesforce.com") and guard.allows_name("acme.my.salesforce.com")
    assert not guard.allows_name("graph.microsoft.com")


def test_the_admin_sees_refusals_in_the_overview_and_metrics(enclave_server):
    import socket

    from assistant.egress import EgressRefused

    with pytest.raises(EgressRefused):
        socket.create_connection(("203.0.113.77", 80), timeout=1)
    overview = enclave_server.admin.client.get("/api/v1/admin/overview").json()["egress"]
    assert overview["guarded"] and overview["refused"] >= 1
    assert any(r.startswith("203.0.113.77:80 from ") and "test_egress.py" in r for r in overview["recent"])
    metrics = enclave_server.admin.client.get("/metrics").text
    assert re.search(r"^enclave_egress_refused [1-9]", metrics, re.M)
