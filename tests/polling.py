"""Waiting for something another thread or process does, without timing assertions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, seconds: float = 120) -> T:
    """Poll ``check`` until it returns something truthy, and return that.

    The bound only keeps a broken build from hanging the suite; it is not an
    assertion about speed.
    """
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.03)
