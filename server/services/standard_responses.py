"""统一说辞: the project's approved explanations. Staff search them at any counter; a
supervisor publishes a new one or edits one during the day (an edit is a new row superseding
the old one, which stays as it was but is no longer shown), and every connected counter shows it at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from server.engine import Invalid, NotFound
from server.models import StandardResponse

from . import audit, counter_events
from .actor import Actor
from .panel_common import require_supervisor


def payload(r: StandardResponse, *, replaces: int | None = None) -> dict[str, Any]:
    return {
        "id": r.id,
        "topic": r.topic,
        "text": r.text,
        "keywords": r.keywords,
        "supersedes_id": r.supersedes_id if replaces is None else replaces,
        "at": r.created_at.isoformat(timespec="seconds") if r.created_at else None,
    }


def search(session: Session, project_id: int, q: str = "", limit: int = 50) -> list[dict]:
    newer = aliased(StandardResponse)
    stmt = select(StandardResponse).where(
        StandardResponse.project_id == project_id,
        StandardResponse.published.is_(True),
        ~select(newer.id).where(newer.supersedes_id == StandardResponse.id).exists(),
    )
    for word in (q or "").split()[:5]:
        like = f"%{word[:50]}%"
        stmt = stmt.where(
            or_(
                StandardResponse.topic.ilike(like),
                StandardResponse.text.ilike(like),
                StandardResponse.keywords.ilike(like),
            )
        )
    rows = session.scalars(stmt.order_by(StandardResponse.id.desc()).limit(limit))
    return [payload(r) for r in rows]


def publish(
    session: Session,
    *,
    project_id: int,
    actor: Actor,
    topic: str,
    text: str,
    keywords: str | None = None,
    supersedes_id: int | None = None,
) -> StandardResponse:
    require_supervisor(actor)
    topic, text = (topic or "").strip(), (text or "").strip()
    if not topic or not text:
        raise Invalid("response_text_required", "Give the topic and the text.")
    old = None
    if supersedes_id is not None:
        old = session.get(StandardResponse, supersedes_id)
        if old is None or old.project_id != project_id:
            raise NotFound("unknown_response", "Unknown standard response.")
        newer = session.scalar(
            select(StandardResponse.id).where(StandardResponse.supersedes_id == old.id)
        )
        if newer is not None:
            raise Invalid(
                "response_already_edited", "This response was edited already; edit the newest one."
            )
    row = StandardResponse(
        project_id=project_id,
        topic=topic[:100],
        text=text,
        keywords=(keywords or "").strip()[:200] or None,
        published=True,
        supersedes_id=old.id if old else None,
        staff_id=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "standard_response.edit" if old else "standard_response.publish",
        "standard_response",
        row.id,
        supersedes_id=old.id if old else None,
    )
    counter_events.standard_response_published(session, payload(row))
    session.commit()
    return row
