"""Atomic call-next: 16 counters pressing at once never get the same visit, none is left behind."""

from __future__ import annotations

import pytest

from bench.claim_race import run_race


@pytest.mark.timeout(300)
def test_sixteen_counters_claim_three_hundred_visits_exactly_once(db_url, capsys):
    result = run_race(db_url, threads=16, visits=300)
    with capsys.disabled():
        print("\n" + result.line(db_url.split(":")[0]))
    assert result.duplicates == 0
    assert result.claimed == result.unique == 300
    assert result.transitions_ok  # one "call" history row per claim
