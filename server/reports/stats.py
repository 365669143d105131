"""Descriptive figures for waits and service times (minutes), defined once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """n, mean, median, 90th percentile and longest of a list of durations in minutes.

    The median is the middle value (mean of the two middle ones for an even count); the 90th
    percentile is the nearest-rank one: the smallest value with at least 90% of the values at
    or below it (ceil(0.9 n)-th in ascending order), so it is always a measured duration.
    All rounded to 0.1 minute. Empty input: n = 0 and every figure None.
    """

    n: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


def spread(values: Sequence[float]) -> Spread:
    if not values:
        return Spread(0, None, None, None, None)
    xs = sorted(values)
    n = len(xs)
    mid = n // 2
    median = xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
    p90 = xs[max(0, math.ceil(0.9 * n) - 1)]
    return Spread(n, _r(sum(xs) / n), _r(median), _r(p90), _r(xs[-1]))


def _r(x: float) -> float:
    return round(x + 0.0, 1)


def minutes(seconds: float) -> float:
    return seconds / 60.0
