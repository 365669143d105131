"""The queue's order and how a visit joins it, written once for check-in, counters and reports.

Order: priority class, then the time the visit fairly joined, then check-in order (the ticket's
sequence number). call-next claims by QUEUE_ORDER and people_ahead compares the same tuple (AHEAD_COUNT).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from server.engine import Action, State
from server.models import VisitStep

from .actor import Actor
from .transitions import move

QUEUE_ORDER = (VisitStep.priority_rank, VisitStep.queue_at, VisitStep.seq)


def enqueue(
    session: Session,
    vs: VisitStep,
    actor: Actor,
    now: datetime,
    *,
    queue_at: datetime | None = None,
    reason: str | None = None,
) -> None:
    """The visit reaches this step: it waits as of `queue_at` (default now), in check-in order
    (every step of a visit carries the ticket's sequence number from check-in)."""
    move(session, vs, Action.ENQUEUE, actor, now, reason=reason)
    vs.queue_at = queue_at or now
    vs.counter_id = None


def requeue_at_end(session: Session, vs: VisitStep, now: datetime) -> None:
    """Behind everyone who is due now. Never earlier than its own fair time: an owner early for
    a later slot would otherwise jump back to the front and be called again at once."""
    vs.queue_at = max(now, vs.queue_at or now)
    vs.seq = (
        session.scalar(select(func.max(VisitStep.seq)).where(VisitStep.step_id == vs.step_id)) or 0
    ) + 1


# Counts of who waits at a step today, built once and on the tables (no ORM entity in them, so
# they run as plain SQL): a statement made per request spends more CPU being built and keyed
# for the compiled cache than being run. Parameters: day, step_id, and the place compared
# against (rank, queue_at[, seq]). One range of the queue index: the step implies the project
# and the row carries its visit's day (VisitStep.day), so nothing is joined.
_vs = VisitStep.__table__.c
WAITING_AT_STEP = (
    select(func.count())
    .select_from(VisitStep.__table__)
    .where(
        _vs.state == State.WAITING,
        _vs.step_id == bindparam("step_id"),
        _vs.day == bindparam("day"),
    )
)
# people_ahead: strictly before this row in QUEUE_ORDER.
AHEAD_COUNT = WAITING_AT_STEP.where(
    tuple_(*(_vs[c.key] for c in QUEUE_ORDER))
    < tuple_(
        bindparam("rank", type_=Integer),
        bindparam("queue_at", type_=DateTime),
        bindparam("seq", type_=Integer),
    )
)
