"""Issue 7, finding 1, as a figure: staff request latency while one status page socket and one
staff socket flood `resync` for 10 s (see tests/test_flood.py for the setup).

    .venv/bin/python -m bench.bench_flood

p99 must stay under 200 ms (the test asserts it too).
"""

from __future__ import annotations

import pytest

if __name__ == "__main__":
    raise SystemExit(
        pytest.main(
            [
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "tests/test_flood.py::test_a_resync_flood_does_not_slow_staff_down",
            ]
        )
    )
