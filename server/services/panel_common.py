"""Shared bits of the step panels: who the owners of a visit are, holding a visit with a
reason inside the caller's transaction, and the supervisor check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.engine import Action, Forbidden
from server.models import Owner, Visit, VisitStep

from .actor import Actor
from .counter_desk import is_supervisor
from .transitions import move


def owners_of(visit: Visit) -> list[Owner]:
    """The unit's owners, principal first (co-owners each sign and show their ID)."""
    owners = [uo.owner for uo in visit.unit.owners]
    if not owners and visit.owner is not None:
        owners = [visit.owner]
    return owners


def require_supervisor(actor: Actor) -> None:
    if not is_supervisor(actor):
        raise Forbidden("supervisor_only", "Only a supervisor can do this.")


def hold_in_transaction(
    session: Session, vs: VisitStep, actor: Actor, reason: str, now: datetime
) -> None:
    move(session, vs, Action.HOLD, actor, now, counter_id=vs.counter_id, reason=reason)
    vs.note = reason  # the caller commits, then tells the screens (events.visit_changed)
