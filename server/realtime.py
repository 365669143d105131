"""The one place that emits real-time events.

Services call `publish(session, ...)` while they work; nothing leaves until the session's
transaction commits (an `after_commit` hook sends them), and a rollback drops them. So no
screen ever shows state that is not on disk.
"""

from __future__ import annotations

import logging
import threading
import time
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
BOARD_PROGRESS = "board_progress"  # handed over / appointed today

# Snapshots where only the newest matters: a board needs the queue as it is now, not each of
# the thirty states it went through in a busy second. Calls, visits and print jobs are never
# merged: each one is news.
LATEST_WINS = frozenset({QUEUE_CHANGED, BOARD_PROGRESS})
COALESCE_SECONDS = 0.2


@dataclass(frozen=True)
class Outgoing:
    event: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]


Emitter = Callable[[Outgoing], None]


class Coalescer:
    """Sends a latest-wins event to a room at most once per `interval`. The first change after
    a quiet spell goes at once (no delay on a calm floor); changes inside the interval replace
    each other and the newest goes when it ends (one thread, started on first need).

    Why: every send to a room is a send to each screen in it (100 boards), and under a burst
    of check-ins that fan-out, not the check-ins, was most of the server's work."""

    def __init__(self, send: Callable[[str, dict[str, Any], str], None], interval: float):
        self._send = send
        self._interval = interval
        self._cond = threading.Condition()
        self._last: dict[tuple[str, str], float] = {}
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._thread: threading.Thread | None = None

    def offer(self, event_name: str, payload: dict[str, Any], room: str) -> None:
        key = (event_name, room)
        with self._cond:
            now = time.monotonic()
            if key not in self._pending and now - self._last.get(key, -1e9) >= self._interval:
                self._last[key] = now
            else:
                self._pending[key] = payload
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="coalescer", daemon=True)
                    self._thread.start()
                self._cond.notify()
                return
        self._send(event_name, payload, room)

    def _due(self) -> tuple[list[tuple[tuple[str, str], dict[str, Any]]], float | None]:
        now = time.monotonic()
        due, wait = [], None
        for key in list(self._pending):
            left = self._last.get(key, -1e9) + self._interval - now
            if left <= 0:
                due.append((key, self._pending.pop(key)))
                self._last[key] = now
            else:
                wait = left if wait is None else min(wait, left)
        return due, wait

    def _run(self) -> None:
        while True:
            with self._cond:
                due, wait = self._due()
                if not due:
                    self._cond.wait(wait)
                    continue
            for (event_name, room), payload in due:
                try:
                    self._send(event_name, payload, room)
                except Exception:  # one broken send must not stop the later ones
                    logging.getLogger(__name__).exception("emit failed: %s", event_name)


def _socketio_send(event_name: str, payload: dict[str, Any], room: str) -> None:
    socketio.emit(event_name, payload, to=room)


_coalescer = Coalescer(_socketio_send, COALESCE_SECONDS)


def _socketio_emitter(msg: Outgoing) -> None:
    if socketio.server is None:  # no app serving (CLI, scripts): nobody to tell
        return
    for room in msg.rooms:
        if msg.event in LATEST_WINS:
            _coalescer.offer(msg.event, msg.payload, room)
        else:
            _socketio_send(msg.event, msg.payload, room)


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
            logging.getLogger(__name__).exception("emit failed: %s", msg.event)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
