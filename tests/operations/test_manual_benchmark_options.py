"""The long-manual benchmark refuses settings it cannot measure before it indexes anything (indexing the
manual takes the better part of an hour): the option is named with why."""

from __future__ import annotations

import pytest

from benchmarks import environment, manual


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--embedding-model", "no-such-model"], "--embedding-model no-such-model: neither all-MiniLM-L6-v2"),
        (["--chunk-size", "50"], "--chunk-size: Input should be greater than or equal to 100"),
    ],
)
def test_settings_it_cannot_measure_are_refused_before_anything_is_indexed(arguments, message, capsys):
    before = set(environment.SCRATCH.glob("manual-*"))  # a missing folder globs nothing
    with pytest.raises(SystemExit) as stopped:
        manual.main(arguments)

    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert set(environment.SCRATCH.glob("manual-*")) == before
