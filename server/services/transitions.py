"""Applying one engine transition to a visit-step row and writing its history row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.engine import Action, State, apply
from server.models import StepTransition, VisitStep

from . import audit
from .actor import Actor


def move(
    session: Session,
    vs: VisitStep,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    counter_id: int | None = None,
    reason: str | None = None,
) -> StepTransition:
    """Refuses (IllegalTransition) before touching anything when the action is not allowed."""
    before = State(vs.state)
    vs.state = apply(before, action)
    return record(session, vs, before, action, actor, now, counter_id=counter_id, reason=reason)


def record(
    session: Session,
    vs: VisitStep,
    before: State,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    counter_id: int | None = None,
    reason: str | None = None,
) -> StepTransition:
    """History (and audit) of a transition already made to `vs`, e.g. by call-next's claim."""
    after = apply(before, action)
    transition = StepTransition(
        visit_id=vs.visit_id,
        visit_step_id=vs.id,
        step_id=vs.step_id,
        action=action.value,
        from_state=before.value,
        to_state=after.value,
        at=now,
        staff_id=actor.staff_id,
        counter_id=counter_id,
        reason=reason,
    )
    session.add(transition)
    audit.record(
        session,
        actor,
        f"step.{action.value}",
        "visit_step",
        vs.id,
        visit_id=vs.visit_id,
        step_id=vs.step_id,
        from_state=before.value,
        to_state=after.value,
        counter_id=counter_id,
        reason=reason,
    )
    return transition
