"""Board notices: a line the supervisor puts on every board ("验房区电梯暂停使用，请走楼梯").

Published, ended (or expired) and audited; every change sends the full list of active notices
to the boards, so a board never has to merge.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server import clock
from server import realtime as rt
from server.engine import Invalid, NotFound
from server.models import Notice

from . import audit
from .actor import Actor

NOTICES_CHANGED = "notices_changed"
MAX_MINUTES = 24 * 60


def _payload(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "text_zh": n.text_zh,
        "text_en": n.text_en,
        "expires_at": n.expires_at.isoformat(timespec="seconds") if n.expires_at else None,
    }


def active_notices(
    session: Session, project_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    now = now or clock.now()
    rows = session.scalars(
        select(Notice)
        .where(
            Notice.project_id == project_id,
            Notice.active.is_(True),
            or_(Notice.expires_at.is_(None), Notice.expires_at > now),
        )
        .order_by(Notice.id)
    ).all()
    return [_payload(n) for n in rows]


def _announce(session: Session, project_id: int) -> None:
    session.flush()
    rt.publish(
        session,
        NOTICES_CHANGED,
        {"notices": active_notices(session, project_id)},
        [rt.DISPLAY, rt.SUPERVISOR],
    )


def publish_notice(
    session: Session,
    *,
    project_id: int,
    text_zh: str,
    text_en: str | None = None,
    minutes: int | None = None,
    actor: Actor,
) -> Notice:
    text_zh = (text_zh or "").strip()
    if not text_zh:
        raise Invalid("notice_empty", "A notice needs its Chinese text.")
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise Invalid("notice_minutes", "A notice lasts between 1 minute and 24 hours.")
    notice = Notice(
        project_id=project_id,
        text_zh=text_zh[:300],
        text_en=(text_en or "").strip()[:300] or None,
        active=True,
        expires_at=clock.now() + timedelta(minutes=minutes) if minutes else None,
        staff_id=actor.staff_id,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor,
        "notice.publish",
        "notice",
        notice.id,
        text_zh=notice.text_zh,
        minutes=minutes,
    )
    _announce(session, project_id)
    session.commit()
    return notice


def end_notice(session: Session, *, project_id: int, notice_id: int, actor: Actor) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.project_id != project_id:
        raise NotFound("no_notice", "This notice does not exist.")
    if notice.active:
        notice.active = False
        audit.record(session, actor, "notice.end", "notice", notice.id)
        _announce(session, project_id)
    session.commit()
    return notice


def recent_notices(session: Session, project_id: int, limit: int = 30) -> list[dict[str, Any]]:
    """For the supervisor's page: active and ended ones, newest first."""
    now = clock.now()
    rows = session.scalars(
        select(Notice)
        .where(Notice.project_id == project_id)
        .order_by(Notice.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            **_payload(n),
            "active": n.active and (n.expires_at is None or n.expires_at > now),
            "created_at": n.created_at.isoformat(timespec="seconds") if n.created_at else None,
        }
        for n in rows
    ]
