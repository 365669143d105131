"""Applying one engine transition to a visit-step row and writing its history row."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert
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
) -> StepTransition | Recorded:
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


class Recorded(NamedTuple):
    """A history row written straight to the table: what callers read of a StepTransition."""

    id: int
    visit_id: int
    step_id: int
    action: str
    at: datetime
    counter_id: int | None


# Inserted as plain values (here and by check-in, from history()'s rows): every counter press
# writes one or two transitions, and the ORM unit of work for their objects (and their audit
# rows) was a large part of a press's cost.
INSERT_TRANSITION = insert(StepTransition.__table__)
INSERT_AUDIT = insert(AuditLog.__table__)


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
) -> StepTransition | Recorded:
    """History (and audit) of a transition already made to `vs`, e.g. by call-next's claim."""
    row, audit_row = history(vs, before, action, actor, now, counter_id=counter_id, reason=reason)
    if session.new:
        # Rows added before this one are written at the flush: ours must follow them (ids in
        # the order things happened), and may refer to one of them (a new visit's step).
        transition = StepTransition(**row)
        session.add(transition)
        session.add(AuditLog(**audit_row))
        return transition
    # On the session's connection, in its transaction: Session.execute would first flush the
    # pending changes to `vs`, one UPDATE now and another at the commit.
    conn = session.connection()
    conn.execute(INSERT_AUDIT, audit_row)
    result = conn.execute(INSERT_TRANSITION, row)
    return Recorded(
        result.inserted_primary_key[0], vs.visit_id, vs.step_id, action.value, now, counter_id
    )
