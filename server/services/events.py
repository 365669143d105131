"""Which events a change produces and for whom. Payloads are built here, before commit;
`server.realtime` sends them once the commit has succeeded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import realtime as rt
from server.models import Counter, Step, StepTransition, Visit, VisitStep

from . import board, snapshots


def visit_changed(
    session: Session, visit: Visit, *, called: VisitStep | None = None, recall: bool = False
) -> None:
    session.flush()
    status = snapshots.visit_status(session, visit)
    rt.publish(session, rt.VISIT_UPDATED, status, [rt.status_room(visit.status_token), rt.STAFF])
    rt.publish(
        session,
        rt.QUEUE_CHANGED,
        snapshots.queue_state(session, visit.project_id, visit.day),
        [rt.DISPLAY, rt.STAFF, rt.SUPERVISOR],
    )
    if called is not None:
        transition = session.scalar(
            select(StepTransition)
            .where(StepTransition.visit_step_id == called.id)
            .order_by(StepTransition.id.desc())
            .limit(1)
        )
        payload = snapshots.call_payload(
            transition,
            visit,
            session.get(Counter, called.counter_id),
            session.get(Step, called.step_id),
        )
        rt.publish(
            session,
            rt.TICKET_CALLED,
            payload,
            # Each board gets only the calls it shows (its filter): board.call_rooms.
            [
                *board.call_rooms(session, visit.project_id, payload),
                rt.STAFF,
                rt.SUPERVISOR,
                rt.status_room(visit.status_token),
            ],
        )
    board.visit_changed(session, visit)
