"""The API against its own OpenAPI schema, with Schemathesis: generated requests, valid and invalid, to a
running server (real models) as an admin — no 5xx, no hang, and every answer matches the schema.

Left out: creating or testing connectors (a generated local folder could be ``/``, and a sync of the whole
disk proves nothing) and deleting or changing users and keys (the generated ids would lock the test out).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from assistant.config import Settings
from enclave.runtime import Runtime
from web.app import create_app

from .conftest import index_corpus, make_person, start_server

CHECKS = [not_a_server_error, response_schema_conformance]


def _openapi() -> dict:
    """The schema the server serves at /openapi.json (the same app, built without starting it)."""
    with tempfile.TemporaryDirectory() as data_dir:
        return create_app(Runtime(Settings(data_dir=Path(data_dir)))).openapi()


schema = (
    schemathesis.openapi.from_dict(_openapi())
    .exclude(path_regex=r"^/api/v1/connectors(/test)?$", method="POST")
    .exclude(path_regex=r"^/api/v1/(users|apikeys)/\{", method=["DELETE", "PATCH"])
)


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory, embedder, llm):
    server, runtime = start_server(tmp_path_factory.mktemp("contract"), embedder, llm)
    index_corpus(runtime)
    admin = make_person(runtime, server.url, "contract@example.com", "admin")
    yield server.url, admin
    server.stop()


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_contract(case, contract_server):
    url, admin = contract_server
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {admin.key}"}, checks=CHECKS, timeout=120)
