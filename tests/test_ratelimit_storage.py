"""The in-process rate-limit counts (ratelimit.PacedMemoryStorage): limits hold as before,
counting starts no threads, and the counts of clients that went away are dropped."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from server.ratelimit import PacedMemoryStorage


def test_limits_hold_and_counting_starts_no_threads():
    storage = PacedMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    per_second = parse("5 per second")
    before = threading.active_count()
    allowed = [limiter.hit(per_second, "phone", str(i % 50)) for i in range(500)]
    # 50 phones, 10 hits each within the second: 5 allowed each.
    assert sum(allowed) == 250
    # limits' own memory storage starts a timer thread 10 ms after any hit, over and over.
    assert threading.active_count() <= before


def test_counts_of_clients_gone_are_dropped_and_new_ones_counted_afresh(monkeypatch):
    storage = PacedMemoryStorage()
    monkeypatch.setattr(PacedMemoryStorage, "PRUNE_EVERY", 0.05)
    limiter = MovingWindowRateLimiter(storage)
    per_second = parse("2 per 1 second")
    for i in range(100):
        limiter.hit(per_second, "status", str(i))
    assert len(storage.events) == 100
    time.sleep(1.1)  # every count has expired
    assert limiter.hit(per_second, "status", "new")  # a hit after the pause prunes
    holding = [key for key, entries in storage.events.items() if entries]
    assert len(holding) == 1 and "/new/" in holding[0]
