"""客户诉求: raised at any step, routed to a department; the supervisor sees it at once and the
department finds it on its list the same day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid
from server.models import Counter, Department, OwnerRequest, Staff, Visit, VisitStep

from . import counter_events
from .actor import Actor
from .counter_desk import ensure_holder

CATEGORIES = (
    "sales",
    "construction_quality",
    "design",
    "property_service",
    "customer_service",
    "other",
)
URGENCIES = ("normal", "urgent")


def departments(session: Session, project_id: int) -> list[Department]:
    return list(
        session.scalars(
            select(Department)
            .where(Department.project_id == project_id)
            .order_by(Department.sort, Department.id)
        )
    )


def payload(session: Session, r: OwnerRequest) -> dict[str, Any]:
    visit = session.get(Visit, r.visit_id) if r.visit_id else None
    staff = session.get(Staff, r.staff_id) if r.staff_id else None
    counter = session.get(Counter, r.counter_id) if r.counter_id else None
    return {
        "id": r.id,
        "visit_id": r.visit_id,
        "ticket_no": visit.ticket_no if visit else None,
        "unit": visit.unit.label if visit else None,
        "category": r.category,
        "department": r.department,
        "urgency": r.urgency,
        "item": r.item,
        "text": r.text,
        "status": r.status,
        "staff": staff.display_name if staff else None,
        "counter": {"name_zh": counter.name_zh, "name_en": counter.name_en} if counter else None,
        "at": r.created_at.isoformat(timespec="seconds") if r.created_at else None,
    }


def raise_request(
    session: Session,
    *,
    counter: Counter,
    visit_id: int,
    actor: Actor,
    category: str,
    department: str,
    text: str,
    urgency: str = "normal",
    item: str | None = None,
) -> OwnerRequest:
    ensure_holder(session, counter, actor)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.project_id != counter.project_id:
        raise Invalid("unknown_visit", "Unknown visit.")
    at_counter = session.scalar(
        select(VisitStep).where(
            VisitStep.visit_id == visit.id,
            VisitStep.counter_id == counter.id,
            VisitStep.state.in_(("called", "serving", "held")),
        )
    )
    if at_counter is None:
        raise Invalid("ticket_not_here", "This ticket is not being served at this counter.")
    if category not in CATEGORIES:
        raise Invalid("bad_request_category", "Choose a category.")
    if urgency not in URGENCIES:
        raise Invalid("bad_urgency", "Choose the urgency.")
    codes = {d.code for d in departments(session, visit.project_id)}
    if department not in codes:
        raise Invalid("bad_department", "Choose the department that follows this up.")
    text = (text or "").strip()
    if not text:
        raise Invalid("request_text_required", "Write down what the owner asks.")
    row = OwnerRequest(
        project_id=visit.project_id,
        visit_id=visit.id,
        unit_id=visit.unit_id,
        category=category,
        item=(item or "").strip()[:60] or None,
        department=department,
        urgency=urgency,
        text=text,
        step_id=at_counter.step_id,
        counter_id=counter.id,
        staff_id=actor.staff_id,
    )
    session.add(row)
    session.flush()
    counter_events.owner_request_created(session, payload(session, row))
    counter_events.counter_changed(session, counter.id)
    session.commit()
    return row


def for_department(
    session: Session, project_id: int, department: str, day: date | None = None
) -> list[OwnerRequest]:
    day = day or clock.today()
    start = datetime.combine(day, time.min)
    return list(
        session.scalars(
            select(OwnerRequest)
            .where(
                OwnerRequest.project_id == project_id,
                OwnerRequest.department == department,
                OwnerRequest.created_at >= start,
                OwnerRequest.created_at < start + timedelta(days=1),
            )
            .order_by(OwnerRequest.urgency.desc(), OwnerRequest.id.desc())
        )
    )
