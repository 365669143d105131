"""The one place that emits real-time events.

Services call `publish(session, ...)` while they work; nothing leaves until the session's
transaction commits (an `after_commit` hook sends them), and a rollback drops them. So no
screen ever shows state that is not on disk.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from flask_socketio import SocketIO
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.config import several_workers

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
    payload: dict[str, Any] | None
    rooms: tuple[str, ...]
    # A latest-wins event may be published as how to build it: it is then built when it goes
    # (once, however many changes it stands for), from what is committed by then.
    build: Callable[[], dict[str, Any]] | None = None
    key: Hashable | None = None  # what one built payload stands for, e.g. (project, day)

    def resolved(self) -> Outgoing:
        if self.build is None:
            return self
        return replace(self, payload=self.build(), build=None)


Emitter = Callable[[Outgoing], None]
_Key = tuple[str, Hashable]


def _alone(_key: Hashable) -> AbstractContextManager:
    return nullcontext()  # one serving process: its coalescer's one thread keeps the order


class Coalescer:
    """Sends a latest-wins event at most once per `interval` per (event, what it stands for).
    The first change after a quiet spell goes at once (no delay on a calm floor); changes
    inside the interval replace each other and the newest goes when it ends. An event given as
    a builder is built in this class's one thread, when it goes: off the request path, once
    per interval, and always from the newest committed state (two requests that build their
    own payloads may finish in the opposite order of their commits and leave a board on the
    older state).

    Why: every send to a room is a send to each screen in it (100 boards), and under a burst
    of check-ins that fan-out, and building the queue state for it, were most of the server's
    work."""

    def __init__(self, send: Callable[[str, dict[str, Any], str], None], interval: float):
        self._send = send
        self._interval = interval
        self._in_turn: Callable[[Hashable], AbstractContextManager] = _alone
        self._cond = threading.Condition()
        self._last: dict[_Key, float] = {}
        self._pending: dict[_Key, Outgoing] = {}
        self._thread: threading.Thread | None = None

    def offer(self, msg: Outgoing) -> None:
        key = (msg.event, msg.key if msg.key is not None else msg.rooms)
        with self._cond:
            now = time.monotonic()
            quiet = key not in self._pending and now - self._last.get(key, -1e9) >= self._interval
            if quiet and msg.build is None:
                self._last[key] = now  # sent below, by the caller, at once
            else:
                self._pending[key] = msg
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="coalescer", daemon=True)
                    self._thread.start()
                self._cond.notify()
                return
        self._deliver(msg)

    def take_turns(self, in_turn: Callable[[Hashable], AbstractContextManager]) -> None:
        """With several processes each coalesces its own changes: `in_turn(key)` is held while
        one of them builds and sends a payload, so that the payloads reach the screens in the
        order they were built (a process that built first but sent last would leave the boards
        on the older state)."""
        self._in_turn = in_turn

    def reset(self) -> None:
        """Forget what was sent and drop what waits: a new app (each test builds one) starts
        with a quiet floor, not with the previous app's timings and payloads."""
        with self._cond:
            self._last.clear()
            self._pending.clear()

    def _due(self) -> tuple[list[Outgoing], float | None]:
        now = time.monotonic()
        due, wait = [], None
        for key in list(self._pending):
            left = self._last.get(key, -1e9) + self._interval - now
            if left <= 0:
                due.append(self._pending.pop(key))
                self._last[key] = now
            else:
                wait = left if wait is None else min(wait, left)
        return due, wait

    def _deliver(self, msg: Outgoing) -> None:
        try:
            with self._in_turn((msg.event, msg.key)) if msg.build else nullcontext():
                payload = msg.resolved().payload
                for room in msg.rooms:
                    self._send(msg.event, payload, room)
        except Exception:  # one broken send must not stop the later ones
            logging.getLogger(__name__).exception("emit failed: %s", msg.event)

    def _run(self) -> None:
        while True:
            with self._cond:
                due, wait = self._due()
                if not due:
                    self._cond.wait(wait)
                    continue
            for msg in due:
                self._deliver(msg)


def _socketio_send(event_name: str, payload: dict[str, Any], room: str) -> None:
    socketio.emit(event_name, payload, to=room)


_coalescer = Coalescer(_socketio_send, COALESCE_SECONDS)


def init_app(app) -> None:
    """The Socket.IO server for this app (one per process in production)."""
    _coalescer.reset()
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    several = several_workers(app.config) and queue
    _coalescer.take_turns(_RedisTurns(queue) if several else _alone)


# The manager's bookkeeping of connecting and leaving clients: plain dicts that
# python-socketio mutates with check-then-act steps, from whichever thread handles a socket.
_BOOKKEEPING = (
    "pre_connect",
    "connect",
    "pre_disconnect",
    "basic_disconnect",
    "basic_enter_room",
    "basic_leave_room",
    "basic_close_room",
)


def serialize_bookkeeping() -> None:
    """After the Socket.IO server is made (realtime.socketio.init_app)."""
    _serialize_bookkeeping(socketio.server.manager)


def _serialize_bookkeeping(manager) -> None:
    """One lock around the manager's bookkeeping. In threading mode two refused connections
    leaving at once could both pass `namespace in pending_connect` before one deleted the
    entry, and the other failed with KeyError (seen under the flood test, more often with
    short thread turns): the refused socket was then never cleaned up."""
    lock = threading.RLock()
    for name in _BOOKKEEPING:
        original = getattr(manager, name)

        def locked(*args, _original=original, **kwargs):
            with lock:
                return _original(*args, **kwargs)

        setattr(manager, name, locked)


def after_fork() -> None:
    """In each serving process: the message queue tells its processes apart by an id drawn
    when the app was built, before gunicorn forked them, so every process had the same one and
    dropped the others' messages as its own (half the boards missed every call)."""
    manager = socketio.server.manager if socketio.server is not None else None
    if manager is not None and hasattr(manager, "host_id"):
        manager.host_id = uuid.uuid4().hex


class _RedisTurns:
    """A Redis lock per latest-wins key, shared by the serving processes. Held for one build
    and send (a few ms); its timeout frees it if a process dies holding it."""

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)

    @contextmanager
    def __call__(self, key: Hashable):
        lock = self._redis.lock(
            f"handover:latest:{key!r}", timeout=10, sleep=0.002, blocking_timeout=5
        )
        held = False
        try:
            held = lock.acquire()
        except Exception:  # Redis away: the sends fail too, and say so
            logging.getLogger(__name__).exception("latest-wins lock")
        try:
            yield
        finally:
            if held:
                try:
                    lock.release()
                except Exception:  # expired meanwhile: another process may go already
                    logging.getLogger(__name__).warning("latest-wins lock expired: %r", key)


def _socketio_emitter(msg: Outgoing) -> None:
    if socketio.server is None:  # no app serving (CLI, scripts): nobody to tell
        return
    if msg.event in LATEST_WINS:
        _coalescer.offer(msg)
        return
    for room in msg.rooms:
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


def publish_latest(
    session: Session,
    event_name: str,
    key: Hashable,
    build: Callable[[], dict[str, Any]],
    rooms: Iterable[str],
) -> None:
    """A latest-wins event (LATEST_WINS) published as how to build it; see Coalescer."""
    assert event_name in LATEST_WINS, event_name
    session.info.setdefault(_PENDING, []).append(
        Outgoing(event_name, None, tuple(rooms), build=build, key=key)
    )


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for msg in pending or ():
        try:
            # Another emitter (tests) gets every event built, at once.
            _emitter(msg if _emitter is _socketio_emitter else msg.resolved())
        except Exception:  # a broken socket must never undo or fail a committed action
            logging.getLogger(__name__).exception("emit failed: %s", msg.event)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
