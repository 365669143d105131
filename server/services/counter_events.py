"""Events of the counter stations (names and payloads). Sent after commit by server.realtime.

- counter_changed -> room counter:<id>: the holder or the evidence at that counter changed;
  every screen of the counter (desk PC, tablet, a second tab) reloads its panel.
- ticket_transferred -> rooms of the counters serving the target step.
- owner_request_created -> supervisors and staff: a request raised at a counter.
- standard_response_published -> every staff screen: a standard response new or edited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import realtime as rt
from server.models import Counter, counter_steps

COUNTER_CHANGED = "counter_changed"
TICKET_TRANSFERRED = "ticket_transferred"
OWNER_REQUEST_CREATED = "owner_request_created"
STANDARD_RESPONSE_PUBLISHED = "standard_response_published"


def counter_changed(session: Session, counter_id: int, **extra: Any) -> None:
    rt.publish(
        session, COUNTER_CHANGED, {"counter_id": counter_id, **extra}, [rt.counter_room(counter_id)]
    )


def ticket_transferred(session: Session, payload: dict[str, Any], step_id: int) -> None:
    ids = session.scalars(
        select(Counter.id)
        .join(counter_steps, counter_steps.c.counter_id == Counter.id)
        .where(counter_steps.c.step_id == step_id)
    ).all()
    rt.publish(session, TICKET_TRANSFERRED, payload, [rt.counter_room(i) for i in ids])


def owner_request_created(session: Session, payload: dict[str, Any]) -> None:
    rt.publish(session, OWNER_REQUEST_CREATED, payload, [rt.SUPERVISOR, rt.STAFF])


def standard_response_published(session: Session, payload: dict[str, Any]) -> None:
    rt.publish(session, STANDARD_RESPONSE_PUBLISHED, payload, [rt.STAFF, rt.SUPERVISOR])
