"""Staff logins held server-side. The cookie carries only a random id; its SHA-256 is stored,
so a copied database cannot be replayed, and ending a row (logout, password change,
deactivation) ends the login everywhere at once, live sockets included (server/sockets.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from server import clock
from server.models import Staff, StaffSession

from . import audit
from .actor import Actor


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session,
    staff: Staff,
    *,
    hours: float,
    remote_addr: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new login for `staff`; returns the token for the cookie. Not committed."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        StaffSession(
            token_hash=hash_session_token(token),
            staff_id=staff.id,
            expires_at=now + timedelta(hours=hours),
            last_seen_at=now,
            remote_addr=(remote_addr or "")[:64] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return token


# Run on every staff request: built once (a statement memoizes its cache key), and it reads
# only what the request's Actor needs, as a plain row (loading a Staff object cost more).
_STAFF_FOR_TOKEN = (
    select(Staff.id, Staff.role, Staff.display_name)
    .join(StaffSession, StaffSession.staff_id == Staff.id)
    .where(
        StaffSession.token_hash == bindparam("token_hash"),
        StaffSession.ended_at.is_(None),
        StaffSession.expires_at > bindparam("now"),
        Staff.active.is_(True),
    )
)


def staff_for_token(session: Session, token: str | None, now: datetime | None = None):
    """The active staff member behind a live session token (a row: id, role, display_name),
    or None."""
    if not token or len(token) > 200:
        return None
    params = {"token_hash": hash_session_token(token), "now": now or clock.now()}
    # A plain row: on the connection, without Session.execute's ORM layer.
    return session.connection().execute(_STAFF_FOR_TOKEN, params).first()


def live_hashes(session: Session, hashes: set[str], now: datetime | None = None) -> set[str]:
    """Which of these session hashes still belong to a live login (for the socket guard)."""
    if not hashes:
        return set()
    now = now or clock.now()
    return set(
        session.scalars(
            select(StaffSession.token_hash)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(
                StaffSession.token_hash.in_(hashes),
                StaffSession.ended_at.is_(None),
                StaffSession.expires_at > now,
                Staff.active.is_(True),
            )
        )
    )


def end(session: Session, token: str | None, actor: Actor | None = None) -> None:
    """Logout: this one login ends. Committed."""
    if token:
        found = session.scalar(
            select(StaffSession).where(
                StaffSession.token_hash == hash_session_token(token),
                StaffSession.ended_at.is_(None),
            )
        )
        if found is not None:
            found.ended_at = clock.now()
            audit.record(
                session,
                actor or Actor(staff_id=found.staff_id),
                "staff.logout",
                "staff",
                found.staff_id,
            )
    session.commit()


def end_all(session: Session, staff_id: int) -> int:
    """Every live login of one staff member ends (password changed, account deactivated).
    Not committed: the caller's change and the ending are one transaction."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
    return result.rowcount or 0
