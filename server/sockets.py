"""Socket.IO connect: who is this, which rooms, and the full snapshot for that view.

Reconnecting gives a new sid with no rooms, so everything happens here on every connect: a
display that lost the network catches up by itself.

Every event is rate-limited per socket and per client (server/ratelimit.py), and handlers run
on the socket's own thread (async_handlers=False in app.py), so a flood queues behind itself
instead of costing a thread and a DB connection per event. An access guard re-checks every
open socket's login or device token at least once a second and disconnects the ones that
were logged out, deactivated, re-paired or revoked.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room
from sqlalchemy import select

from server import ratelimit
from server import realtime as rt
from server.auth import ROLE_LEVEL, allowed, current_actor, current_credential
from server.db import reading
from server.i18n import request_locale, translate
from server.models import Counter, Device
from server.services import board, snapshots, staff_sessions, status_links
from server.services.actor import Actor
from server.web import db_session, project_id

log = logging.getLogger(__name__)
MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; anything larger names nothing


@dataclass(frozen=True)
class _Conn:
    app: object
    actor: Actor | None
    credential: str | None  # "staff:<session hash>" / "device:<id>:<token hash>"
    client: str  # the rate-limit key of whoever opened it


_conns: dict[str, _Conn] = {}
_lock = threading.Lock()


def socket_actor() -> Actor | None:
    conn = _conns.get(request.sid)
    return conn.actor if conn else None


def _refuse(message: str) -> None:
    raise ConnectionRefusedError(translate(message, request_locale()))


def _id(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number <= MAX_ID else None


def _token(auth: dict) -> str:
    token = auth.get("token")
    if not isinstance(token, str) or not 16 <= len(token) <= 100 or "\x00" in token:
        return ""
    return token


def snapshot_for(view: str, actor: Actor | None, auth: dict) -> tuple[list[str], dict]:
    """Rooms to join and the snapshot to send; refuses what the actor may not see."""
    s = db_session()
    reading(s)  # a snapshot never needs the write lock
    if view == "status":
        token = _token(auth)
        visit = status_links.visit_for_token(s, token)  # today's visit only
        if visit is None:
            _refuse("This ticket link is not valid.")
        return [rt.status_room(token)], {
            "view": "status",
            "visit": snapshots.visit_status(s, visit),
        }
    if actor is None:
        _refuse("Please log in first.")
    pid = project_id()
    if view == "display":
        if not allowed(actor, ("staff",), ("display",)):
            _refuse("You are not allowed to do this.")
        view_ = board.view_for(s, actor.device_id)
        return view_.rooms, board.board_snapshot(s, pid, view_.filter)
    if view == "counter":
        if not allowed(actor, ("staff",)):
            _refuse("You are not allowed to do this.")
        counter_id = _id(auth.get("counter_id"))
        counter = s.get(Counter, counter_id) if counter_id else None
        if counter is None or counter.project_id != pid:
            _refuse("Unknown counter.")
        rooms = [rt.STAFF, rt.counter_room(counter.id)]
        return rooms, {"view": "counter", **snapshots.counter_snapshot(s, counter)}
    if view == "kiosk":
        if not allowed(actor, ("staff",), ("kiosk",)):
            _refuse("You are not allowed to do this.")
        return ["kiosk"], {"view": "kiosk", **snapshots.queue_state(s, pid)}
    if view == "supervisor":
        if not allowed(actor, ("supervisor",)):
            _refuse("You are not allowed to do this.")
        return [rt.SUPERVISOR, rt.STAFF], {
            "view": "supervisor",
            **snapshots.display_snapshot(s, pid),
        }
    if view == "floor":  # the supervisor's floor view (admin/floor.py)
        if not allowed(actor, ("supervisor",)):
            _refuse("You are not allowed to do this.")
        from server.services.floor import floor_snapshot

        return [rt.SUPERVISOR, rt.STAFF], {"view": "floor", **floor_snapshot(s, pid)}
    _refuse("Unknown screen.")
    raise AssertionError  # unreachable: _refuse raises


def _client_key(view: str, auth: dict, credential: str | None) -> str:
    if credential:
        return credential
    if view == "status" and _token(auth):
        # Owners' phones may share one carrier address: count per ticket, not per address.
        return f"status:{_token(auth)}"
    return f"ip:{request.remote_addr or '-'}"


def register(socketio) -> None:
    @socketio.on("connect")
    def on_connect(auth=None):
        reading(db_session())  # the auth check and the snapshot take no write lock
        auth = auth if isinstance(auth, dict) else {}
        view = auth.get("view") if isinstance(auth.get("view"), str) else ""
        actor = current_actor() if view != "status" else None
        credential = current_credential() if actor is not None else None
        client = _client_key(view, auth, credential)
        if not ratelimit.hit("RATELIMIT_SOCKET_CONNECT", client):
            _refuse("Too many requests. Please wait a moment and try again.")
        rooms, snapshot = snapshot_for(view, actor, auth)
        app = current_app._get_current_object()
        with _lock:
            _conns[request.sid] = _Conn(app, actor, credential, client)
        if credential:
            _guard_for(app)
        for room in rooms:
            join_room(room)
        if actor is not None and actor.is_staff and ROLE_LEVEL.get(actor.role or "", 0) >= 2:
            join_room(rt.SUPERVISOR)
        emit(rt.SNAPSHOT, snapshot)

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        with _lock:
            _conns.pop(request.sid, None)

    @socketio.on("resync")
    def on_resync(data=None):
        """A client that suspects it missed something asks for its snapshot again."""
        conn = _conns.get(request.sid)
        if conn is None:  # its access was withdrawn: the guard is closing it
            return _error("login_required", "Please log in first.")
        if not _count_event(conn):
            return _error("rate_limited", "Too many requests. Please wait a moment and try again.")
        data = data if isinstance(data, dict) else {}
        view = data.get("view") if isinstance(data.get("view"), str) else ""
        try:
            _rooms, snapshot = snapshot_for(view, conn.actor, data)
        except ConnectionRefusedError as exc:
            return {"error": {"code": "forbidden", "message": str(exc.args[0] if exc.args else "")}}
        return snapshot

    @socketio.on("*")
    def on_unknown(_event=None, *_args):
        """Events no screen sends: counted like the others, so they cannot flood either."""
        conn = _conns.get(request.sid)
        if conn is not None:
            _count_event(conn)


def _count_event(conn: _Conn) -> bool:
    """True when this event may be served. A socket far over its limit is a flood, not a
    confused page: it is disconnected, and whatever it queued is dropped with it."""
    sid = request.sid
    if not ratelimit.hit("RATELIMIT_SOCKET_ABUSE", f"sid:{sid}"):
        log.warning("socket %s (%s) disconnected for flooding", sid, conn.client)
        with _lock:
            _conns.pop(sid, None)
        disconnect()
        return False
    return ratelimit.hit("RATELIMIT_SOCKET_EVENT", f"sid:{sid}") and ratelimit.hit(
        "RATELIMIT_SOCKET_CLIENT_EVENT", conn.client
    )


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": translate(message, request_locale())}}


# ---- the access guard -------------------------------------------------------------------------


class _Guard(threading.Thread):
    """Per app: once a second (or at once when woken) drops sockets whose login or device
    token no longer holds. Checking the DB covers every server process, not just this one."""

    def __init__(self, app, interval: float = 1.0):
        super().__init__(name="socket-access-guard", daemon=True)
        self.app = app
        self.interval = interval
        self.wake = threading.Event()

    def run(self) -> None:
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            with _lock:
                mine = {sid: c for sid, c in _conns.items() if c.app is self.app and c.credential}
                if not mine:
                    if _guards.get(id(self.app)) is self:
                        del _guards[id(self.app)]
                    return  # started again by the next authenticated connect
            try:
                self.sweep(mine)
            except Exception:
                log.exception("socket access guard pass failed")

    def sweep(self, conns: dict[str, _Conn]) -> None:
        staff_hashes = {c.credential.split(":", 1)[1] for c in conns.values() if _is_staff(c)}
        device_ids = {int(c.credential.split(":")[1]) for c in conns.values() if _is_device(c)}
        db = self.app.extensions["handover_db"]
        with db.session() as s:
            reading(s)  # once a second: never queue for SQLite's write lock
            live_staff = staff_sessions.live_hashes(s, staff_hashes)
            live_devices = (
                {
                    f"device:{i}:{h}"
                    for i, h in s.execute(
                        select(Device.id, Device.token_hash).where(
                            Device.id.in_(device_ids), Device.revoked.is_(False)
                        )
                    )
                }
                if device_ids
                else set()
            )
            s.rollback()
        gone = [
            sid
            for sid, c in conns.items()
            if (_is_staff(c) and c.credential.split(":", 1)[1] not in live_staff)
            or (_is_device(c) and c.credential not in live_devices)
        ]
        for sid in gone:
            with _lock:
                _conns.pop(sid, None)  # its resync stops working at once
            from server.realtime import socketio

            try:
                socketio.server.disconnect(sid, namespace="/")
            except Exception:  # already gone
                log.debug("disconnect %s failed", sid, exc_info=True)


def _is_staff(c: _Conn) -> bool:
    return bool(c.credential and c.credential.startswith("staff:"))


def _is_device(c: _Conn) -> bool:
    return bool(c.credential and c.credential.startswith("device:"))


_guards: dict[int, _Guard] = {}


def _guard_for(app) -> _Guard:
    with _lock:
        guard = _guards.get(id(app))
        if guard is None or not guard.is_alive():
            guard = _Guard(app, float(app.config.get("SOCKET_ACCESS_CHECK_SECONDS", 1.0)))
            _guards[id(app)] = guard
            guard.start()
        return guard


def check_access_now() -> None:
    """After logout or a revocation is committed: the guards look now, not in a second."""
    with _lock:
        guards = list(_guards.values())
    for guard in guards:
        guard.wake.set()
