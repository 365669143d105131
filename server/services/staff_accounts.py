"""Staff accounts losing or changing access, and the audit trail of login guessing.

A password change or deactivation ends every live login of that person in the same
transaction; the socket guard (server/sockets.py) then drops their open screens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid, NotFound
from server.models import Staff

from . import audit, staff_sessions
from .actor import Actor

NOBODY = Actor(role="anonymous", name="anonymous")


def _staff(session: Session, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("unknown_staff", "Unknown staff member.")
    return staff


def set_password(session: Session, staff_id: int, password: str, *, actor: Actor, hasher) -> Staff:
    if len(password or "") < 8:
        raise Invalid("weak_password", "The password needs at least 8 characters.")
    staff = _staff(session, staff_id)
    staff.password_hash = hasher(password)
    staff.failed_logins = 0
    staff.locked_until = None
    ended = staff_sessions.end_all(session, staff.id)
    audit.record(session, actor, "staff.password", "staff", staff.id, sessions_ended=ended)
    session.commit()
    return staff


def set_active(session: Session, staff_id: int, active: bool, *, actor: Actor) -> Staff:
    staff = _staff(session, staff_id)
    staff.active = active
    ended = 0 if active else staff_sessions.end_all(session, staff.id)
    action = "staff.activate" if active else "staff.deactivate"
    audit.record(session, actor, action, "staff", staff.id, sessions_ended=ended)
    session.commit()
    return staff


def login_failed(
    session: Session,
    staff: Staff | None,
    username: str,
    remote_addr: str | None,
    *,
    lock_after: int,
    lock_minutes: float,
) -> None:
    """A wrong password: counted on the account (locked after `lock_after` in a row) and
    audited, unknown names too."""
    locked = False
    if staff is not None:
        staff.failed_logins = (staff.failed_logins or 0) + 1
        if staff.failed_logins >= lock_after:
            staff.locked_until = clock.now() + timedelta(minutes=lock_minutes)
            staff.failed_logins = 0
            locked = True
    audit.record(
        session,
        NOBODY,
        "staff.login_failed",
        "staff",
        staff.id if staff is not None else None,
        username=username,
        remote_addr=remote_addr,
        locked=locked or None,
    )
    session.commit()


def login_refused(session: Session, username: str, remote_addr: str | None, why: str) -> None:
    """A login not even checked (too many attempts, account locked)."""
    audit.record(
        session,
        NOBODY,
        "staff.login_refused",
        "staff",
        None,
        username=username,
        remote_addr=remote_addr,
        reason=why,
    )
    session.commit()


def pairing_refused(session: Session, remote_addr: str | None, why: str) -> None:
    """A wrong pairing code, or one not even checked (too many attempts)."""
    audit.record(
        session, NOBODY, "device.pair_refused", "device", None, remote_addr=remote_addr, reason=why
    )
    session.commit()
