"""资料审核: the documents a verification step checks, each seen or missing.

The checklist comes from the project's document types for the step: per owner where the type
says so (each co-owner's ID card), the power of attorney only when an agent comes. A required
item marked missing holds the visit with that reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid
from server.models import Counter, DocumentType, VisitDocument, VisitStep

from . import counter_events, events, evidence_rows, requirements
from .actor import Actor
from .counter_desk import ticket_at_counter
from .panel_common import hold_in_transaction, owners_of

STATUSES = ("seen", "missing")


def document_types(session: Session, vs: VisitStep, *, signing: bool) -> list[DocumentType]:
    visit = vs.visit
    types = session.scalars(
        select(DocumentType)
        .where(
            DocumentType.project_id == visit.project_id,
            DocumentType.step_code == vs.step.code,
            DocumentType.active.is_(True),
            DocumentType.needs_signature.is_(signing),
        )
        .order_by(DocumentType.sort, DocumentType.id)
    ).all()
    return [t for t in types if not t.agent_only or visit.party_role == "agent"]


def checklist(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    visit = vs.visit
    rows = {
        (r.document_type_id, r.owner_id): r
        for r in evidence_rows.current(session, VisitDocument, visit_id=visit.id)
    }
    items = []
    for dt in document_types(session, vs, signing=False):
        for owner in owners_of(visit) if dt.per_owner else [None]:
            row = rows.get((dt.id, owner.id if owner else None))
            items.append(
                {
                    "document_type_id": dt.id,
                    "code": dt.code,
                    "name_zh": dt.name_zh,
                    "name_en": dt.name_en,
                    "required": dt.required,
                    "owner_id": owner.id if owner else None,
                    "owner": owner.masked_name if owner else None,
                    "status": row.status if row else None,
                    "note": row.note if row else None,
                    "corrected": bool(row and row.supersedes_id),
                }
            )
    return items


def missing(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    return [
        {
            "code": "document",
            "text_zh": item["name_zh"] + (f"（{item['owner']}）" if item["owner"] else ""),
            "text_en": item["name_en"] + (f" ({item['owner']})" if item["owner"] else ""),
        }
        for item in checklist(session, vs)
        if item["required"] and item["status"] != "seen"
    ]


def record(
    session: Session,
    *,
    counter: Counter,
    visit_step_id: int,
    actor: Actor,
    document_type_id: int,
    status: str,
    owner_id: int | None = None,
    note: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> VisitDocument:
    now = now or clock.now()
    vs = ticket_at_counter(session, counter, visit_step_id, actor)
    if status not in STATUSES:
        raise Invalid("bad_document_status", "Mark the document as seen or missing.")
    item = next(
        (
            i
            for i in checklist(session, vs)
            if i["document_type_id"] == document_type_id and i["owner_id"] == owner_id
        ),
        None,
    )
    if item is None:
        raise Invalid("document_not_asked", "This document is not on this step's checklist.")
    row = evidence_rows.add(
        session,
        VisitDocument,
        {"visit_id": vs.visit_id, "document_type_id": document_type_id, "owner_id": owner_id},
        {
            "status": status,
            "note": (note or "").strip() or None,
            "staff_id": actor.staff_id,
            "counter_id": counter.id,
        },
        reason=reason,
    )
    held = status == "missing" and item["required"]
    if held:
        what = item["name_zh"] + (f"（{item['owner']}）" if item["owner"] else "")
        hold_in_transaction(session, vs, actor, f"缺少资料：{what}", now)
    counter_events.counter_changed(session, counter.id)
    session.commit()
    if held:
        events.visit_changed(session, vs.visit_id)
    return row


requirements.register("verify", missing)
