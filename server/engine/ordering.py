"""Queue order: priority class first, then appointment fairness, then check-in order.

Appointment fairness: an owner who arrives early for a later slot does not jump the owners of
the current slot: they join the queue as of their slot start (less a grace). Late arrivals and
walk-ins join as of their arrival. The database claims in exactly this order
(priority_rank, queue_at, seq), so the rule lives here and the query just sorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PRIORITY_RANKS: dict[str, int] = {"vip": 0, "elderly": 0, "disabled": 0, "pregnant": 0, "normal": 1}


def priority_rank(priority_class: str) -> int:
    return PRIORITY_RANKS.get(priority_class, 1)


def fair_queue_time(
    checked_in_at: datetime, slot_start: datetime | None, early_grace: timedelta
) -> datetime:
    if slot_start is None:
        return checked_in_at
    return max(checked_in_at, slot_start - early_grace)


@dataclass(frozen=True, order=True)
class QueueKey:
    priority_rank: int
    queue_at: datetime
    seq: int


def queue_key(priority_class: str, queue_at: datetime, seq: int) -> QueueKey:
    return QueueKey(priority_rank(priority_class), queue_at, seq)
