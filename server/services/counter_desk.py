"""Who holds a counter. One staff member at a time signs in to a counter; every action at that
counter is theirs. Another staff member is refused; a supervisor may take over (audited).

A counter nobody holds is taken by the first staff member who acts there: a clerk who sits
down and presses "call next" has signed in, and is recorded as such.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server import realtime as rt
from server.engine import Forbidden, Invalid
from server.models import Counter, Staff, VisitStep

from . import audit
from .actor import Actor
from .counter_events import COUNTER_CHANGED


def is_supervisor(actor: Actor | None) -> bool:
    return bool(actor and actor.is_staff and actor.role in ("supervisor", "admin"))


def holder_payload(session: Session, counter: Counter) -> dict | None:
    if counter.staff_id is None:
        return None
    staff = session.get(Staff, counter.staff_id)
    return {
        "staff_id": counter.staff_id,
        "name": staff.display_name if staff else "",
        "since": counter.staffed_since.isoformat(timespec="seconds")
        if counter.staffed_since
        else None,
    }


def _announce(session: Session, counter: Counter) -> None:
    rt.publish(
        session,
        COUNTER_CHANGED,
        {"counter_id": counter.id, "holder": holder_payload(session, counter)},
        [rt.counter_room(counter.id)],
    )


def _holder_name(session: Session, counter: Counter) -> str:
    staff = session.get(Staff, counter.staff_id) if counter.staff_id else None
    return staff.display_name if staff else "?"


def take(
    session: Session,
    counter: Counter,
    actor: Actor,
    *,
    takeover: bool = False,
    now: datetime | None = None,
) -> Counter:
    """Signs `actor` in to the counter. Refuses while someone else holds it, unless a
    supervisor takes over (the previous holder is written to the audit log)."""
    if not actor.is_staff:
        raise Forbidden("staff_only", "Only a staff member can take a counter.")
    # Two people taking the same free counter at once: the second waits and sees the first.
    session.scalar(
        select(Counter)
        .where(Counter.id == counter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if counter.staff_id == actor.staff_id:
        return counter
    previous = counter.staff_id
    if previous is not None:
        if not takeover:
            raise Forbidden(
                "counter_taken",
                "%(counter)s is held by %(name)s. Ask them to sign out, or a supervisor to take over.",
                counter=counter.name_zh,
                name=_holder_name(session, counter),
            )
        if not is_supervisor(actor):
            raise Forbidden("supervisor_only", "Only a supervisor can do this.")
    counter.staff_id = actor.staff_id
    counter.staffed_since = now or clock.now()
    audit.record(
        session,
        actor,
        "counter.takeover" if previous else "counter.take",
        "counter",
        counter.id,
        previous_staff_id=previous,
    )
    _announce(session, counter)
    return counter


def leave(session: Session, counter: Counter, actor: Actor) -> Counter:
    if counter.staff_id is None:
        return counter
    if counter.staff_id != actor.staff_id and not is_supervisor(actor):
        raise Forbidden("not_your_counter", "You do not hold this counter.")
    audit.record(session, actor, "counter.leave", "counter", counter.id, staff_id=counter.staff_id)
    counter.staff_id = None
    counter.staffed_since = None
    _announce(session, counter)
    return counter


def ensure_holder(session: Session, counter: Counter, actor: Actor) -> None:
    """Every counter action passes here: the actor holds the counter (a free counter is taken
    on the spot). A supervisor may act at a counter someone else holds (each action is
    audited under the supervisor's name)."""
    if actor is None or not actor.is_staff:
        raise Forbidden("staff_only", "Only a staff member can take a counter.")
    if counter.staff_id == actor.staff_id:
        return
    if counter.staff_id is None:
        take(session, counter, actor)
        return
    if is_supervisor(actor):
        return
    raise Forbidden(
        "counter_taken",
        "%(counter)s is held by %(name)s. Ask them to sign out, or a supervisor to take over.",
        counter=counter.name_zh,
        name=_holder_name(session, counter),
    )


def ticket_at_counter(
    session: Session, counter: Counter, visit_step_id: int, actor: Actor
) -> VisitStep:
    """The ticket a panel action records for: held by this counter, being called or served."""
    ensure_holder(session, counter, actor)
    vs = session.get(VisitStep, visit_step_id)
    if vs is None:
        raise Invalid("unknown_ticket", "Unknown ticket.")
    if vs.counter_id != counter.id or vs.state not in ("called", "serving"):
        raise Forbidden("ticket_not_here", "This ticket is not being served at this counter.")
    return vs
