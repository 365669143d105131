"""Which events a change produces and for whom.

Called by a service right after its commit: the payloads are built once, from the committed
rows, with the write lock already released (on SQLite in a read transaction that takes no
lock; on PostgreSQL after the row locks are gone), then published through `server.realtime`,
which sends them when that read transaction ends. What was built is kept on the session
(`published`), so the request's answer reuses it instead of building it again. The queue
state (every counter, every step's waiting count) is the exception: it is built when it goes,
at most a few times a second however busy the floor (realtime.Coalescer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server import realtime as rt
from server.db import reading
from server.models import Counter, Step, StepTransition

from . import board, snapshots

_PUBLISHED = "handover_published"


@dataclass
class Published:
    """What the screens were just sent after a change."""

    statuses: dict[int, dict[str, Any]] = field(default_factory=dict)  # visit id -> status


def published(session: Session) -> Published | None:
    return session.info.get(_PUBLISHED)


def visit_changed(
    session: Session, visit_id: int, *, called: StepTransition | None = None
) -> Published:
    """After the commit of a change to one visit: its status to the owner and staff, the queue
    to every screen, and for a call (or recall) the number to the boards."""
    reading(session)
    visit = snapshots.load_visit(session, visit_id)
    status = snapshots.visit_status(session, visit)
    if called is not None:  # first: the boards are what the owner in the hall is watching
        payload = snapshots.call_payload(
            called,
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
    rt.publish(session, rt.VISIT_UPDATED, status, [rt.status_room(visit.status_token), rt.STAFF])
    queue_changed(session, visit.project_id, visit.day)
    board.visit_changed(session, visit)
    session.commit()  # ends the read transaction: the events leave now
    done = session.info[_PUBLISHED] = Published(statuses={visit.id: status})
    return done


def queue_changed(session: Session, project_id: int, day: date) -> None:
    """The queue state to every screen: built once when it goes, in its own read transaction,
    however many changes it stands for (realtime.Coalescer)."""
    engine = session.get_bind()

    def build() -> dict[str, Any]:
        with Session(engine) as s:
            reading(s)
            return snapshots.queue_state(s, project_id, day)

    rt.publish_latest(
        session, rt.QUEUE_CHANGED, (project_id, day), build, [rt.DISPLAY, rt.STAFF, rt.SUPERVISOR]
    )
