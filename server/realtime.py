"""The one place that emits real-time events.

Services call `publish(session, ...)` while they work; nothing leaves until the session's
transaction commits (an `after_commit` hook sends them), and a rollback drops them. So no
screen ever shows state that is not on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_socketio import SocketIO
from sqlalchemy import event
from sqlalchemy.orm import Session

socketio = SocketIO()

# Rooms
DISPLAY = "display"
STAFF = "staff"
SUPERVISOR = "supervisor"


def counter_room(counter_id: int) -> str:
    return f"counter:{counter_id}"


def status_room(token: str) -> str:
    return f"status:{token}"


# Events (server -> client)
SNAPSHOT = "snapshot"  # full state, sent on every (re)connect
TICKET_CALLED = "ticket_called"  # a number called (or recalled) at a counter
QUEUE_CHANGED = "queue_changed"  # waiting counts / serving per counter changed
VISIT_UPDATED = "visit_updated"  # one visit's status (owner's phone, staff)
PRINT_JOB_UPDATED = "print_job_updated"


@dataclass(frozen=True)
class Outgoing:
    event: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]


Emitter = Callable[[Outgoing], None]


def _socketio_emitter(msg: Outgoing) -> None:
    if socketio.server is None:  # no app serving (CLI, scripts): nobody to tell
        return
    for room in msg.rooms:
        socketio.emit(msg.event, msg.payload, to=room)


_emitter: Emitter = _socketio_emitter
_PENDING = "handover_pending_events"


def set_emitter(emitter: Emitter | None) -> None:
    """Tests capture events; None restores the Socket.IO emitter."""
    global _emitter
    _emitter = emitter or _socketio_emitter


def publish(
    session: Session, event_name: str, payload: dict[str, Any], rooms: Iterable[str]
) -> None:
    session.info.setdefault(_PENDING, []).append(Outgoing(event_name, payload, tuple(rooms)))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for msg in pending or ():
        try:
            _emitter(msg)
        except Exception:  # a broken socket must never undo or fail a committed action
            import logging

            logging.getLogger(__name__).exception("emit failed: %s", msg.event)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
