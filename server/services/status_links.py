"""The link on a ticket (/s/<token>) works on the day of its visit only: a phone that keeps
the page open afterwards, or anyone the link was passed to, sees nothing any more."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from server import clock
from server.models import Visit

from . import snapshots


def visit_for_token(session: Session, token: str, today: date | None = None) -> Visit | None:
    """Today's visit of this token; None for an unknown token or another day's visit."""
    if not 16 <= len(token or "") <= 100:
        return None
    visit = snapshots.visit_by_token(session, token)
    if visit is None or visit.day != (today or clock.today()):
        return None
    return visit
