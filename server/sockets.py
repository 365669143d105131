"""Socket.IO connect: who is this, which rooms, and the full snapshot for that view.

Reconnecting gives a new sid with no rooms, so everything happens here on every connect: a
display that lost the network catches up by itself.
"""

from __future__ import annotations

from flask import request
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy import select

from server import realtime as rt
from server.auth import ROLE_LEVEL, allowed, current_actor
from server.i18n import request_locale, translate
from server.models import Counter, Visit
from server.services import board, snapshots
from server.services.actor import Actor
from server.web import db_session, project_id

_actors: dict[str, Actor | None] = {}


def socket_actor() -> Actor | None:
    return _actors.get(request.sid)


def _refuse(message: str) -> None:
    raise ConnectionRefusedError(translate(message, request_locale()))


def snapshot_for(view: str, actor: Actor | None, auth: dict) -> tuple[list[str], dict]:
    """Rooms to join and the snapshot to send; refuses what the actor may not see."""
    s = db_session()
    if view == "status":
        token = str(auth.get("token") or "")[:100]
        visit = s.scalar(select(Visit).where(Visit.status_token == token)) if token else None
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
        try:
            counter = s.get(Counter, int(auth.get("counter_id")))
        except (TypeError, ValueError):
            counter = None
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
    _refuse("Unknown screen.")
    raise AssertionError  # unreachable: _refuse raises


def register(socketio) -> None:
    @socketio.on("connect")
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        view = str(auth.get("view") or "")
        actor = current_actor() if view != "status" else None
        rooms, snapshot = snapshot_for(view, actor, auth)
        _actors[request.sid] = actor
        for room in rooms:
            join_room(room)
        if actor is not None and actor.is_staff and ROLE_LEVEL.get(actor.role or "", 0) >= 2:
            join_room(rt.SUPERVISOR)
        emit(rt.SNAPSHOT, snapshot)

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        _actors.pop(request.sid, None)

    @socketio.on("resync")
    def on_resync(data=None):
        """A client that suspects it missed something asks for its snapshot again."""
        data = data if isinstance(data, dict) else {}
        view = str(data.get("view") or "")
        actor = socket_actor()
        try:
            _rooms, snapshot = snapshot_for(view, actor, data)
        except ConnectionRefusedError as exc:
            return {"error": {"code": "forbidden", "message": str(exc.args[0] if exc.args else "")}}
        return snapshot
