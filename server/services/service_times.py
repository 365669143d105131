"""Today's measured service minutes per step, kept in memory and added to as services finish.

The wait estimate needs the recent pace of each step (the last 50 services). Reading every
finished service of the day on every change grew with the day; here they are read once (and
again every REFRESH_SECONDS, so that services finished by another server process count too)
and each completion in this process is added as it commits.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.engine import State
from server.models import Visit, VisitStep

RECENT = 50  # the recent pace matters, not the morning's
REFRESH_SECONDS = 60.0


@dataclass
class _Day:
    loaded_at: float
    by_step: dict[int, deque[float]] = field(default_factory=dict)


# Per database (engine) and (project, day); an engine that goes away takes its entries along.
_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[int, date], _Day]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _days(session: Session) -> dict[tuple[int, date], _Day]:
    engine = session.get_bind()
    with _lock:
        return _cache.setdefault(engine, {})


def _load(session: Session, project_id: int, day: date) -> _Day:
    rows = session.execute(
        select(VisitStep.step_id, VisitStep.started_at, VisitStep.finished_at)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .where(
            Visit.project_id == project_id,
            Visit.day == day,
            VisitStep.state == State.DONE,
            VisitStep.started_at.is_not(None),
            VisitStep.finished_at.is_not(None),
        )
        .order_by(VisitStep.finished_at.desc())
    ).all()
    entry = _Day(loaded_at=time.monotonic())
    for step_id, started, finished in rows:
        bucket = entry.by_step.setdefault(step_id, deque(maxlen=RECENT))
        if len(bucket) < RECENT:
            bucket.appendleft((finished - started).total_seconds() / 60)  # oldest first
    return entry


def by_step(session: Session, project_id: int, day: date) -> dict[int, list[float]]:
    """Service minutes per step, oldest first; at most one query per REFRESH_SECONDS."""
    days = _days(session)
    entry = days.get((project_id, day))
    if entry is None or time.monotonic() - entry.loaded_at > REFRESH_SECONDS:
        entry = days[(project_id, day)] = _load(session, project_id, day)
    return {step_id: list(q) for step_id, q in entry.by_step.items()}


def add(
    session: Session, project_id: int, day: date, step_id: int, started: datetime, ended: datetime
) -> None:
    """One committed service (call after the commit; a rolled-back one never happened)."""
    entry = _days(session).get((project_id, day))
    if entry is not None:
        entry.by_step.setdefault(step_id, deque(maxlen=RECENT)).append(
            (ended - started).total_seconds() / 60
        )
