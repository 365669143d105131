"""Who is asking. Staff log in (hashed passwords, roles admin > supervisor > staff); kiosks and
displays hold a device token obtained by pairing; owners reach only their own status page
through the unguessable token printed on their ticket.

Routes declare who may call them with `@require(...)`; Socket.IO connections are checked per
view in server/sockets.py (and again on every `resync`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from flask import g, redirect, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server.actor import Actor
from server.engine import DomainError, Forbidden, Invalid
from server.models import Staff
from server.services.devices import (  # noqa: F401  (device_for_token used below)
    DEVICE_KINDS,
    create_device,
    device_for_token,
    hash_token,
    new_pairing_code,
    pair_device,
)

ROLE_LEVEL = {"staff": 1, "supervisor": 2, "admin": 3}
DEVICE_COOKIE = "handover_device"
DEVICE_HEADER = "X-Device-Token"


class Unauthorized(DomainError):
    status = 401


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # werkzeug: scrypt with a random salt


# ---- staff -------------------------------------------------------------------------------


def authenticate(db_session, username: str, password: str) -> Staff:
    staff = db_session.scalar(select(Staff).where(Staff.username == (username or "").strip()))
    # Same answer for unknown user and wrong password: no probing for account names.
    if (
        staff is None
        or not staff.active
        or not check_password_hash(staff.password_hash, password or "")
    ):
        raise Unauthorized("bad_login", "Wrong user name or password.")
    return staff


def login(staff: Staff) -> None:
    session.clear()
    session["staff_id"] = staff.id
    session.permanent = True


def logout() -> None:
    session.pop("staff_id", None)


def create_staff(
    db_session, *, username: str, password: str, role: str, display_name: str | None = None
) -> Staff:
    if role not in ROLE_LEVEL:
        raise Invalid("bad_role", "Unknown role: %(role)s", role=role)
    if len(password or "") < 8:
        raise Invalid("weak_password", "The password needs at least 8 characters.")
    if db_session.scalar(select(Staff).where(Staff.username == username)):
        raise Invalid("user_exists", "User %(user)s already exists.", user=username)
    staff = Staff(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
    )
    db_session.add(staff)
    return staff


# ---- the current request -----------------------------------------------------------------


def current_actor() -> Actor | None:
    """Resolved once per request from the session cookie or the device token."""
    if "actor" in g:
        return g.actor
    from server.web import db_session

    actor = None
    staff_id = session.get("staff_id")
    if staff_id is not None:
        staff = db_session().get(Staff, staff_id)
        if staff is not None and staff.active:
            actor = Actor(staff_id=staff.id, role=staff.role, name=staff.display_name)
    if actor is None:
        token = request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE)
        device = device_for_token(db_session(), token)
        if device is not None:
            actor = Actor(device_id=device.id, role=device.kind, name=device.name)
    g.actor = actor
    return actor


def allowed(actor: Actor | None, roles: Iterable[str] = (), devices: Iterable[str] = ()) -> bool:
    if actor is None:
        return False
    if actor.is_staff:
        need = [ROLE_LEVEL[r] for r in roles]
        return bool(need) and ROLE_LEVEL.get(actor.role or "", 0) >= min(need)
    return actor.role in set(devices)


def check(actor: Actor | None, roles: Iterable[str] = (), devices: Iterable[str] = ()) -> Actor:
    if actor is None:
        raise Unauthorized("login_required", "Please log in first.")
    if not allowed(actor, roles, devices):
        raise Forbidden("forbidden", "You are not allowed to do this.")
    return actor


def require(*roles: str, devices: Iterable[str] = (), page: bool = False) -> Callable:
    """`roles`: the lowest staff role allowed (admin > supervisor > staff); `devices`: device
    kinds allowed. Pages send a stranger to the login page; API calls answer 401/403 JSON."""
    devices = tuple(devices)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if page and actor is None:
                return redirect(url_for("admin.login", next=request.full_path))
            check(actor, roles, devices)
            return view(*args, **kwargs)

        return wrapped

    return decorator
