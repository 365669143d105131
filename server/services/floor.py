"""The supervisor's floor view: one snapshot in a few grouped queries, and the supervisor's
own actions (change a visit's priority). The view refreshes itself on every queue event, so
what it shows is what is committed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import clock
from server import realtime as rt
from server.engine import Invalid
from server.engine.ordering import PRIORITY_RANKS, priority_rank
from server.models import (
    Appointment,
    Counter,
    InspectionResult,
    OwnerRequest,
    Printer,
    PrintJob,
    Project,
    Staff,
    Step,
    StepTransition,
    Unit,
    Visit,
    VisitStep,
    counter_steps,
)

from . import audit, events
from .actor import Actor
from .snapshots import timestamp

FLOOR_CHANGED = "floor_changed"
OPEN = ("waiting", "called", "serving", "held")


def _unit_label(unit: Unit) -> str:
    return unit.label


def level(minutes: float | None, project: Project) -> str:
    if minutes is None:
        return "ok"
    if minutes >= project.wait_red_minutes:
        return "red"
    if minutes >= project.wait_amber_minutes:
        return "amber"
    return "ok"


def floor_snapshot(session: Session, project_id: int, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    now = clock.now()
    project = session.get(Project, project_id)
    steps = session.scalars(
        select(Step).where(Step.project_id == project_id).order_by(Step.sort)
    ).all()

    # Steps: queue length and the longest current wait (oldest waiting since).
    per_step = {
        step_id: (n, oldest)
        for step_id, n, oldest in session.execute(
            select(VisitStep.step_id, func.count(), func.min(VisitStep.queue_at))
            .join(Visit, Visit.id == VisitStep.visit_id)
            .where(Visit.project_id == project_id, Visit.day == day, VisitStep.state == "waiting")
            .group_by(VisitStep.step_id)
        )
    }
    open_by_step = dict(
        session.execute(
            select(counter_steps.c.step_id, func.count())
            .join(Counter, Counter.id == counter_steps.c.counter_id)
            .where(Counter.project_id == project_id, Counter.is_open)
            .group_by(counter_steps.c.step_id)
        ).all()
    )
    step_rows = []
    for s in steps:
        n, oldest = per_step.get(s.id, (0, None))
        # queue_at may lie ahead (early arrivals queue as of their slot): no negative waits.
        longest = max(0.0, (now - oldest).total_seconds() / 60) if oldest else None
        step_rows.append(
            {
                "id": s.id,
                "code": s.code,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "active": s.active,
                "waiting": n,
                "open_counters": open_by_step.get(s.id, 0),
                "longest_wait": round(longest, 1) if longest is not None else None,
                "oldest_since": timestamp(oldest),
                "level": level(longest, project),
            }
        )

    # Counters: who holds it, whom it serves and since when.
    counters = session.execute(
        select(Counter, Staff.display_name)
        .outerjoin(Staff, Staff.id == Counter.staff_id)
        .where(Counter.project_id == project_id)
        .order_by(Counter.code)
    ).all()
    serving = {
        row.counter_id: row
        for row in session.execute(
            select(
                VisitStep.counter_id,
                VisitStep.state,
                VisitStep.called_at,
                VisitStep.started_at,
                Visit.id.label("visit_id"),
                Visit.ticket_no,
                Step.code.label("step_code"),
            )
            .join(Visit, Visit.id == VisitStep.visit_id)
            .join(Step, Step.id == VisitStep.step_id)
            .where(Visit.project_id == project_id, VisitStep.state.in_(("called", "serving")))
        )
    }
    served_steps: dict[int, list[str]] = {}
    for cid, code in session.execute(
        select(counter_steps.c.counter_id, Step.code)
        .join(Step, Step.id == counter_steps.c.step_id)
        .where(Step.project_id == project_id)
        .order_by(Step.sort)
    ):
        served_steps.setdefault(cid, []).append(code)
    counter_rows = []
    for c, staff_name in counters:
        row = serving.get(c.id)
        state = "closed" if not c.is_open else (row.state if row else "idle")
        counter_rows.append(
            {
                "id": c.id,
                "code": c.code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "area": c.area,
                "is_open": c.is_open,
                "steps": served_steps.get(c.id, []),
                "staff": staff_name,
                "state": state,
                "ticket_no": row.ticket_no if row else None,
                "visit_id": row.visit_id if row else None,
                "since": timestamp((row.started_at or row.called_at) if row else None),
            }
        )

    # Visits on hold and why (the hold's reason is on its transition).
    held_rows = session.execute(
        select(VisitStep, Visit, Step.code, Step.name_zh, Step.name_en)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .join(Step, Step.id == VisitStep.step_id)
        .where(Visit.project_id == project_id, Visit.day == day, VisitStep.state == "held")
        .order_by(VisitStep.id)
        .limit(100)
    ).all()
    reasons = {}
    if held_rows:
        ids = [vs.id for vs, *_ in held_rows]
        for vs_id, reason, at in session.execute(
            select(StepTransition.visit_step_id, StepTransition.reason, StepTransition.at)
            .where(StepTransition.visit_step_id.in_(ids), StepTransition.to_state == "held")
            .order_by(StepTransition.id)
        ):
            reasons[vs_id] = (reason, at)
    held = [
        {
            "visit_id": v.id,
            "visit_step_id": vs.id,
            "ticket_no": v.ticket_no,
            "step": {"code": code, "name_zh": zh, "name_en": en},
            "reason": reasons.get(vs.id, (None, None))[0],
            "since": timestamp(reasons.get(vs.id, (None, None))[1]),
        }
        for vs, v, code, zh, en in held_rows
    ]

    # Active visits (to move or reprioritise): where each is now.
    active = [
        {
            "visit_id": vid,
            "ticket_no": ticket,
            "priority_class": prio,
            "priority_requested": asked,
            "step": step_code,
            "state": state,
        }
        for vid, ticket, prio, asked, step_code, state in session.execute(
            select(
                Visit.id,
                Visit.ticket_no,
                Visit.priority_class,
                Visit.priority_requested,
                Step.code,
                VisitStep.state,
            )
            .join(VisitStep, VisitStep.visit_id == Visit.id)
            .join(Step, Step.id == VisitStep.step_id)
            .where(
                Visit.project_id == project_id,
                Visit.day == day,
                Visit.status == "active",
                VisitStep.state.in_(OPEN),
            )
            .order_by(Visit.checked_in_at)
            .limit(300)
        )
    ]

    start = datetime.combine(day, datetime.min.time())
    refusals = [
        {"visit_id": vid, "ticket_no": ticket, "reason": reason, "at": timestamp(at)}
        for vid, ticket, reason, at in session.execute(
            select(Visit.id, Visit.ticket_no, InspectionResult.reason, InspectionResult.created_at)
            .join(Visit, Visit.id == InspectionResult.visit_id)
            .where(
                Visit.project_id == project_id,
                InspectionResult.outcome == "refused",
                InspectionResult.created_at >= start,
            )
            .order_by(InspectionResult.id.desc())
            .limit(30)
        )
    ]
    failed_prints = [
        {"id": jid, "kind": kind, "printer": pname, "error": err, "at": timestamp(at)}
        for jid, kind, pname, err, at in session.execute(
            select(
                PrintJob.id, PrintJob.kind, Printer.name, PrintJob.last_error, PrintJob.created_at
            )
            .join(Printer, Printer.id == PrintJob.printer_id)
            .where(Printer.project_id == project_id, PrintJob.state == "failed")
            .order_by(PrintJob.id.desc())
            .limit(30)
        )
    ]
    requests = [
        {
            "id": rid,
            "text": text,
            "category": cat,
            "urgency": urg,
            "status": st,
            "department": dept,
            "at": timestamp(at),
        }
        for rid, text, cat, urg, st, dept, at in session.execute(
            select(
                OwnerRequest.id,
                OwnerRequest.text,
                OwnerRequest.category,
                OwnerRequest.urgency,
                OwnerRequest.status,
                OwnerRequest.department,
                OwnerRequest.created_at,
            )
            .where(OwnerRequest.project_id == project_id, OwnerRequest.created_at >= start)
            .order_by(OwnerRequest.id.desc())
            .limit(30)
        )
    ]
    status_counts = dict(
        session.execute(
            select(Visit.status, func.count())
            .where(Visit.project_id == project_id, Visit.day == day)
            .group_by(Visit.status)
        ).all()
    )
    expected = session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.project_id == project_id, Appointment.day == day)
    )
    return {
        "day": day.isoformat(),
        "now": timestamp(now),
        "thresholds": {"amber": project.wait_amber_minutes, "red": project.wait_red_minutes},
        "steps": step_rows,
        "counters": counter_rows,
        "held": held,
        "active": active,
        "refusals": refusals,
        "failed_prints": failed_prints,
        "requests": requests,
        "progress": {
            "expected": expected or 0,
            "checked_in": sum(status_counts.values()),
            "active": status_counts.get("active", 0),
            "finished": status_counts.get("finished", 0),
            "cancelled": status_counts.get("cancelled", 0) + status_counts.get("out", 0),
        },
    }


def set_priority(
    session: Session,
    *,
    project_id: int,
    visit_id: int,
    priority_class: str,
    actor: Actor,
    reason: str | None = None,
) -> Visit:
    """Moves a visit up (elderly, disabled, pregnant, VIP) or back to normal in every queue it
    has still to join; its place among equals stays its fair time."""
    if priority_class not in PRIORITY_RANKS:
        raise Invalid("bad_priority", "Unknown priority.")
    visit = session.get(Visit, visit_id)
    if visit is None or visit.project_id != project_id:
        from server.engine import NotFound

        raise NotFound("unknown_visit", "Unknown visit.")
    if visit.status != "active":
        raise Invalid("visit_not_active", "This visit is no longer active.")
    before = visit.priority_class
    if before == priority_class:
        return visit
    visit.priority_class = priority_class
    rank = priority_rank(priority_class)
    for vs in visit.steps:
        if vs.state in ("pending", "waiting", "held"):
            vs.priority_rank = rank
    audit.record(
        session,
        actor,
        "visit.priority",
        "visit",
        visit.id,
        before=before,
        after=priority_class,
        reason=(reason or "").strip() or None,
    )
    rt.publish(session, FLOOR_CHANGED, {"visit_id": visit.id}, [rt.SUPERVISOR])
    session.commit()
    events.visit_changed(session, visit.id)
    return visit
