"""Two minutes of mixed load on a real server (people asking, uploads, a connector syncing): no errors, and
memory that does not creep up. The 30-minute run is `make bench` (benchmarks/soak.py)."""

from __future__ import annotations

import pytest

from benchmarks import soak

pytestmark = pytest.mark.llm


def test_two_minutes_of_mixed_load_give_no_errors_and_no_memory_creep(tmp_path):
    result = soak.run(tmp_path / "data", minutes=2, users=16)
    assert result.errors == {}, result.errors
    assert result.answers > 0 and result.uploads > 0 and result.syncs > 0
    assert result.growth < soak.GROWTH_LIMIT, f"memory grew {result.growth:+.1%}"
