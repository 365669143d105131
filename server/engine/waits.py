"""Estimated wait per step from today's measured service times and open counters."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median


def typical_service_minutes(
    measured_minutes: Sequence[float], default_minutes: float, min_samples: int = 3
) -> float:
    """Median of today's service times once there are enough; the planned figure until then.

    Median, not mean: one owner arguing for an hour should not double everyone's estimate.
    """
    if len(measured_minutes) < min_samples:
        return float(default_minutes)
    return float(median(measured_minutes))


def estimated_wait_minutes(
    people_ahead: int, service_minutes: float, open_counters: int
) -> int | None:
    """Minutes until this visit is called; None when no counter serves the step (no estimate)."""
    if open_counters <= 0:
        return None
    if people_ahead <= 0:
        return 0
    return round(people_ahead * service_minutes / open_counters)
