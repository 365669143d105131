"""Read models for the screens: what a display, a counter and an owner's phone show.

A client gets one of these in full on every (re)connect; events after that carry the same
shapes, so a screen that missed events catches up by itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from server import clock
from server.engine import estimated_wait_minutes, typical_service_minutes
from server.models import Counter, Project, Step, StepTransition, Visit, VisitStep, counter_steps
from server.printing import jobs as print_jobs


def _names(obj) -> dict[str, str]:
    return {"name_zh": obj.name_zh, "name_en": obj.name_en}


def _durations_by_step(session: Session, project_id: int, day: date) -> dict[int, list[float]]:
    """Today's measured service minutes per step, newest first (one query for all steps)."""
    rows = session.execute(
        select(VisitStep.step_id, VisitStep.started_at, VisitStep.finished_at)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .where(
            Visit.project_id == project_id,
            Visit.day == day,
            VisitStep.state == "done",
            VisitStep.started_at.is_not(None),
        )
        .order_by(VisitStep.finished_at.desc())
    ).all()
    out: dict[int, list[float]] = {}
    for step_id, started, finished in rows:
        bucket = out.setdefault(step_id, [])
        if finished and len(bucket) < 50:  # the recent pace matters, not the morning's
            bucket.append((finished - started).total_seconds() / 60)
    return out


def _open_counters_by_step(session: Session, project_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(counter_steps.c.step_id, func.count())
            .join(Counter, Counter.id == counter_steps.c.counter_id)
            .where(Counter.project_id == project_id, Counter.is_open)
            .group_by(counter_steps.c.step_id)
        ).all()
    )


def step_waits(session: Session, project_id: int, day: date) -> list[dict[str, Any]]:
    steps = session.scalars(
        select(Step).where(Step.project_id == project_id, Step.active).order_by(Step.sort)
    ).all()
    counts = dict(
        session.execute(
            select(VisitStep.step_id, func.count())
            .join(Visit, Visit.id == VisitStep.visit_id)
            .where(Visit.project_id == project_id, Visit.day == day, VisitStep.state == "waiting")
            .group_by(VisitStep.step_id)
        ).all()
    )
    durations = _durations_by_step(session, project_id, day)
    open_by_step = _open_counters_by_step(session, project_id)
    out = []
    for step in steps:
        waiting = counts.get(step.id, 0)
        minutes = typical_service_minutes(durations.get(step.id, []), step.default_service_minutes)
        n_open = open_by_step.get(step.id, 0)
        out.append(
            {
                "id": step.id,
                "code": step.code,
                **_names(step),
                "waiting": waiting,
                "open_counters": n_open,
                "service_minutes": round(minutes, 1),
                "estimated_wait": estimated_wait_minutes(waiting, minutes, n_open),
            }
        )
    return out


def counters_now(session: Session, project_id: int) -> list[dict[str, Any]]:
    counters = session.scalars(
        select(Counter)
        .where(Counter.project_id == project_id)
        .options(selectinload(Counter.steps))
        .order_by(Counter.code)
    ).all()
    busy = {
        counter_id: (ticket, state)
        for counter_id, ticket, state in session.execute(
            select(VisitStep.counter_id, Visit.ticket_no, VisitStep.state)
            .join(Visit, Visit.id == VisitStep.visit_id)
            .where(Visit.project_id == project_id, VisitStep.state.in_(("called", "serving")))
        )
    }
    out = []
    for c in counters:
        ticket, state = busy.get(c.id, (None, None))
        out.append(
            {
                "id": c.id,
                "code": c.code,
                **_names(c),
                "area": c.area,
                "is_open": c.is_open,
                "steps": [s.code for s in c.steps],
                "ticket_no": ticket,
                "state": state,
            }
        )
    return out


def recent_calls(
    session: Session, project_id: int, day: date, limit: int = 12
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(StepTransition, Visit, Counter, Step)
        .join(Visit, Visit.id == StepTransition.visit_id)
        .join(Counter, Counter.id == StepTransition.counter_id)
        .join(Step, Step.id == StepTransition.step_id)
        .where(
            Visit.project_id == project_id,
            Visit.day == day,
            StepTransition.action.in_(("call", "recall")),
        )
        .order_by(StepTransition.at.desc(), StepTransition.id.desc())
        .limit(limit)
    ).all()
    return [call_payload(t, v, c, s) for t, v, c, s in rows]


def call_payload(t: StepTransition, visit: Visit, counter: Counter, step: Step) -> dict[str, Any]:
    return {
        "id": t.id,
        "ticket_no": visit.ticket_no,
        "recall": t.action == "recall",
        "at": t.at.isoformat(timespec="seconds"),
        "counter": {
            "id": counter.id,
            "code": counter.code,
            **_names(counter),
            "area": counter.area,
        },
        "step": {"code": step.code, **_names(step)},
    }


def queue_state(session: Session, project_id: int, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    return {
        "day": day.isoformat(),
        "steps": step_waits(session, project_id, day),
        "counters": counters_now(session, project_id),
    }


def display_snapshot(session: Session, project_id: int, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    project = session.get(Project, project_id)
    return {
        "project": {"name": project.name, "name_en": project.name_en},
        **queue_state(session, project_id, day),
        "calls": recent_calls(session, project_id, day),
    }


def people_ahead(session: Session, vs: VisitStep) -> int:
    if vs.state != "waiting":
        return 0
    return session.scalar(
        select(func.count())
        .select_from(VisitStep)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .where(
            Visit.day == vs.visit.day,
            Visit.project_id == vs.visit.project_id,
            VisitStep.step_id == vs.step_id,
            VisitStep.state == "waiting",
            or_(
                VisitStep.priority_rank < vs.priority_rank,
                and_(VisitStep.priority_rank == vs.priority_rank, VisitStep.queue_at < vs.queue_at),
                and_(
                    VisitStep.priority_rank == vs.priority_rank,
                    VisitStep.queue_at == vs.queue_at,
                    VisitStep.seq < vs.seq,
                ),
            ),
        )
    )


def visit_status(session: Session, visit: Visit) -> dict[str, Any]:
    """What the owner's phone and the staff see of one visit."""
    current = next(
        (s for s in visit.steps if s.state in ("waiting", "called", "serving", "held")), None
    )
    ahead = people_ahead(session, current) if current is not None else 0
    wait = None
    if current is not None and current.state == "waiting":
        measured = _durations_by_step(session, visit.project_id, visit.day).get(current.step_id, [])
        minutes = typical_service_minutes(measured, current.step.default_service_minutes)
        n_open = _open_counters_by_step(session, visit.project_id).get(current.step_id, 0)
        wait = estimated_wait_minutes(ahead, minutes, n_open)
    unit = visit.unit
    return {
        "visit_id": visit.id,
        "ticket_no": visit.ticket_no,
        "status": visit.status,
        "unit": unit.label,
        "unit_en": unit.label_en,
        "owner": visit.owner.masked_name if visit.owner else None,
        "checked_in_at": visit.checked_in_at.isoformat(timespec="seconds"),
        "finished_at": visit.finished_at.isoformat(timespec="seconds")
        if visit.finished_at
        else None,
        "current": None
        if current is None
        else {
            "visit_step_id": current.id,
            "step": {"code": current.step.code, **_names(current.step)},
            "state": current.state,
            "counter": None
            if current.counter is None
            else {"id": current.counter.id, **_names(current.counter)},
            "people_ahead": ahead,
            "estimated_wait": wait,
            "recall_count": current.recall_count,
            "hold_reason": current.note if current.state == "held" else None,
        },
        "steps": [
            {"visit_step_id": s.id, "code": s.step.code, **_names(s.step), "state": s.state}
            for s in visit.steps
        ],
    }


def counter_snapshot(session: Session, counter: Counter, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    served = {s.id for s in counter.steps}
    current = session.scalar(
        select(VisitStep).where(
            VisitStep.counter_id == counter.id, VisitStep.state.in_(("called", "serving"))
        )
    )
    held = session.scalars(
        select(VisitStep).where(VisitStep.counter_id == counter.id, VisitStep.state == "held")
    ).all()
    return {
        "counter": {
            "id": counter.id,
            "code": counter.code,
            **_names(counter),
            "is_open": counter.is_open,
            "steps": [{"id": s.id, "code": s.code, **_names(s)} for s in counter.steps],
        },
        "waiting": [w for w in step_waits(session, counter.project_id, day) if w["id"] in served],
        "current": visit_status(session, current.visit) if current else None,
        "held": [visit_status(session, h.visit) for h in held],
        "print_problems": [
            {
                "id": job.id,
                "kind": job.kind,
                "state": job.state,
                "attempts": job.attempts,
                "error": job.last_error,
                "printer": job.printer.name if job.printer else None,
            }
            for job in print_jobs.problem_jobs(session, counter_id=counter.id)
        ],
    }


def timestamp(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") if dt else None
