"""Waiting for something another thread or process does (a socket event, a printed ticket)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """True as soon as `condition()` is; after `seconds`, whatever it says then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
