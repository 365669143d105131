"""Applying one engine transition to a visit-step row and writing its history row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.engine import Action, State, apply
from server.models import AuditLog, StepTransition, VisitStep

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


def history(
    vs: VisitStep,
    before: State,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    counter_id: int | None = None,
    reason: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The history row and the audit row of a transition already made to `vs`, as columns."""
    after = apply(before, action)
    transition = {
        "visit_id": vs.visit_id,
        "visit_step_id": vs.id,
        "step_id": vs.step_id,
        "action": action.value,
        "from_state": before.value,
        "to_state": after.value,
        "at": now,
        "staff_id": actor.staff_id,
        "counter_id": counter_id,
        "reason": reason,
    }
    audit_row = audit.values(
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
    return transition, audit_row


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
    transition, audit_row = history(
        vs, before, action, actor, now, counter_id=counter_id, reason=reason
    )
    row = StepTransition(**transition)
    session.add(row)
    session.add(AuditLog(**audit_row))
    return row
