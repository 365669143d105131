"""Who is asking. Staff log in (hashed passwords, roles admin > supervisor > staff); kiosks and
displays hold a device token obtained by pairing; owners reach only their own status page
through the unguessable token printed on their ticket.

Routes declare who may call them with `@require(...)`; Socket.IO connections are checked per
view in server/sockets.py (and again on every `resync`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server import clock
from server.actor import Actor
from server.engine import DomainError, Forbidden, Invalid, NotFound
from server.models import Device, Staff
from server.services import devices
from server.services.devices import (  # noqa: F401  (kept importable from here)
    DEVICE_KINDS,
    create_device,
    hash_token,
    new_pairing_code,
)

ROLE_LEVEL = {"staff": 1, "supervisor": 2, "admin": 3}
DEVICE_COOKIE = "handover_device"
DEVICE_HEADER = "X-Device-Token"
SESSION_KEY = "sid"  # in the signed session cookie: the random id of a StaffSession row


class Unauthorized(DomainError):
    status = 401


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # werkzeug: scrypt with a random salt


def check_password(staff: Staff, password: str) -> bool:
    return check_password_hash(staff.password_hash, password)


# ---- staff -------------------------------------------------------------------------------


def authenticate(db_session, username: str, password: str) -> Staff:
    """Checks a login, counting guesses per client and per account (429 when over, audited).
    Five wrong passwords in a row lock the account for a few minutes (LOGIN_LOCK_*)."""
    from server import ratelimit
    from server.services import staff_accounts

    name = (username or "").strip()[:40]
    client = ratelimit.client_key()
    account = f"account:{name.lower()}"
    if not ratelimit.hit("RATELIMIT_LOGIN_CLIENT", client) or not ratelimit.test(
        "RATELIMIT_LOGIN_ACCOUNT", account
    ):
        staff_accounts.login_refused(db_session, name, request.remote_addr, "rate_limited")
        raise ratelimit.too_many_logins()
    staff = db_session.scalar(select(Staff).where(Staff.username == name))
    now = clock.now()
    if staff is not None and staff.locked_until is not None and staff.locked_until > now:
        staff_accounts.login_refused(db_session, name, request.remote_addr, "locked")
        raise ratelimit.too_many_logins()
    # Same answer for unknown user and wrong password: no probing for account names.
    if (
        staff is None
        or not staff.active
        or not check_password_hash(staff.password_hash, password or "")
    ):
        ratelimit.hit("RATELIMIT_LOGIN_ACCOUNT", account)
        staff_accounts.login_failed(
            db_session,
            staff,
            name,
            request.remote_addr,
            lock_after=int(current_app.config.get("LOGIN_LOCK_AFTER", 5)),
            lock_minutes=float(current_app.config.get("LOGIN_LOCK_MINUTES", 5)),
        )
        raise Unauthorized("bad_login", "Wrong user name or password.")
    return staff


def login(db_session, staff: Staff) -> None:
    """A new server-side session; the cookie gets only its random id. Not committed."""
    from server.services import staff_sessions

    staff.failed_logins = 0
    staff.locked_until = None
    token = staff_sessions.start(
        db_session,
        staff,
        hours=float(current_app.config.get("SESSION_HOURS", 14)),
        remote_addr=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )
    session.clear()  # a new CSRF token too: nothing from before the login carries over
    session[SESSION_KEY] = token
    session.permanent = True


def logout(db_session) -> None:
    """Ends the login server-side (a copied cookie stops working) and its live sockets."""
    from server import sockets
    from server.services import staff_sessions

    staff_sessions.end(db_session, session.get(SESSION_KEY), current_actor())
    session.clear()
    sockets.check_access_now()


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


# ---- devices -----------------------------------------------------------------------------


def pair_device(db_session, code: str) -> tuple[Device, str]:
    """devices.pair (audited, committed), with guesses limited per client (429) and every
    refusal audited."""
    from server import ratelimit
    from server.services import staff_accounts

    if not ratelimit.hit("RATELIMIT_PAIR_CLIENT", ratelimit.client_key()):
        staff_accounts.pairing_refused(db_session, request.remote_addr, "rate_limited")
        raise ratelimit.too_many_logins()
    try:
        return devices.pair(db_session, (code or "")[:12])
    except NotFound:
        db_session.rollback()
        staff_accounts.pairing_refused(db_session, request.remote_addr, "bad_code")
        raise


# ---- the current request -----------------------------------------------------------------


def current_actor() -> Actor | None:
    """Resolved once per request from the staff session cookie or the device token."""
    if "actor" in g:
        return g.actor
    from server.services import staff_sessions
    from server.web import db_session

    actor = None
    g.credential = None
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        staff = staff_sessions.staff_for_token(db_session(), token)
        if staff is not None:
            actor = Actor(staff_id=staff.id, role=staff.role, name=staff.display_name)
            g.credential = f"staff:{staff_sessions.hash_session_token(token)}"
    if actor is None:
        token = request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE)
        device = devices.device_identity(db_session(), token)
        if device is not None:
            actor = Actor(device_id=device.id, role=device.kind, name=device.name)
            g.credential = f"device:{device.id}:{device.token_hash}"
    g.actor = actor
    return actor


def current_credential() -> str | None:
    """What this request's actor logged in with: "staff:<session hash>" or
    "device:<id>:<token hash>"; the socket guard re-checks it, rate limits count by it."""
    current_actor()
    return g.get("credential")


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
