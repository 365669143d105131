"""Priority needs asked for at the kiosk (elderly, disability, pregnancy) become a priority
only when a staff member has seen the owner and confirms it: a kiosk cannot move anyone up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Forbidden, Invalid, NotFound, priority_rank
from server.engine.ordering import PRIORITY_RANKS
from server.models import Visit

from . import audit, events
from .actor import Actor


def pending(session: Session, project_id: int, day=None) -> list[dict[str, Any]]:
    """Today's requests waiting for a staff member's decision, oldest first."""
    visits = session.scalars(
        select(Visit)
        .where(
            Visit.project_id == project_id,
            Visit.day == (day or clock.today()),
            Visit.priority_requested.is_not(None),
            Visit.status == "active",
        )
        .order_by(Visit.checked_in_at)
    ).all()
    return [
        {
            "visit_id": v.id,
            "ticket_no": v.ticket_no,
            "unit": v.unit.label,
            "unit_en": v.unit.label_en,
            "requested": v.priority_requested,
            "priority_class": v.priority_class,
            "party_role": v.party_role,
        }
        for v in visits
    ]


def decide(
    session: Session,
    *,
    project_id: int,
    visit_id: int,
    actor: Actor,
    accept: bool,
    priority_class: str | None = None,
) -> Visit:
    """Accept (the requested class, or another one staff choose) or decline a request."""
    if not actor.is_staff:
        raise Forbidden("staff_only", "Only staff can confirm a priority.")
    visit = session.get(Visit, visit_id)
    if visit is None or visit.project_id != project_id:
        raise NotFound("unknown_visit", "Unknown visit.")
    requested = visit.priority_requested
    if accept:
        chosen = priority_class or requested
        if chosen not in PRIORITY_RANKS or chosen == "normal":
            raise Invalid("bad_field", "Invalid value for %(field)s.", field="priority_class")
        visit.priority_class = chosen
        rank = priority_rank(chosen)
        for vs in visit.steps:  # the queue sorts on each step's own copy of the rank
            if vs.state in ("pending", "waiting", "held"):
                vs.priority_rank = rank
    visit.priority_requested = None
    audit.record(
        session,
        actor,
        "visit.priority_confirmed" if accept else "visit.priority_declined",
        "visit",
        visit.id,
        requested=requested,
        priority_class=visit.priority_class,
    )
    session.commit()
    events.visit_changed(session, visit.id)
    return visit
