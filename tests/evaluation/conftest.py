"""What the evaluation tests share: the public datasets beside the repository."""

from __future__ import annotations

import os

import pytest

from enclave.evaluation.datasets import PUBMEDQA_FILE, SQUAD_FILE


@pytest.fixture(scope="session")
def shared_datasets() -> None:
    """Skip loudly on a workstation without ../shared/datasets; fail in CI, where they must be present."""
    missing = [str(path) for path in (SQUAD_FILE, PUBMEDQA_FILE) if not path.is_file()]
    if missing:
        message = f"benchmark data not found ({', '.join(missing)}): the evaluation tests did not run"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip("!!! " + message + " (it is required in CI) !!!")
