"""签约: each document to sign, signed by each owner present on the signature pad. The
signature is stored as an image (files.store_image, kind "signature") with the visit and is
never overwritten: signing again needs a reason and makes a new row superseding the old one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from server.engine import Invalid
from server.models import Counter, VisitDocument, VisitStep

from . import counter_events, evidence_rows, files, requirements
from .actor import Actor
from .counter_desk import ticket_at_counter
from .panel_common import owners_of
from .verification import document_types


def signers(vs: VisitStep) -> list[tuple[int | None, str]]:
    """(owner id, masked name) of who signs; an agent signs for the owners they represent."""
    return [(o.id, o.masked_name) for o in owners_of(vs.visit)] or [(None, "")]


def panel(session: Session, vs: VisitStep) -> dict[str, Any]:
    rows = {
        (r.document_type_id, r.owner_id): r
        for r in evidence_rows.current(session, VisitDocument, visit_id=vs.visit_id)
    }
    docs = []
    for dt in document_types(session, vs, signing=True):
        who = signers(vs) if dt.per_owner else signers(vs)[:1]
        docs.append(
            {
                "document_type_id": dt.id,
                "name_zh": dt.name_zh,
                "name_en": dt.name_en,
                "required": dt.required,
                "signatures": [
                    {
                        "owner_id": owner_id,
                        "owner": name,
                        "signed": (r := rows.get((dt.id, owner_id))) is not None
                        and r.status == "signed",
                        "signer_name": r.signer_name if r else None,
                        "file_id": r.signature_file_id if r else None,
                    }
                    for owner_id, name in who
                ],
            }
        )
    visit = vs.visit
    return {
        "documents": docs,
        "agent": visit.agent_name if visit.party_role == "agent" else None,
    }


def missing(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    out = []
    for doc in panel(session, vs)["documents"]:
        if not doc["required"]:
            continue
        for sig in doc["signatures"]:
            if not sig["signed"]:
                suffix_zh = f"（{sig['owner']}）" if sig["owner"] else ""
                out.append(
                    {
                        "code": "signature",
                        "text_zh": f"{doc['name_zh']}{suffix_zh} 未签字",
                        "text_en": f"{doc['name_en']} not signed"
                        + (f" ({sig['owner']})" if sig["owner"] else ""),
                    }
                )
    return out


def sign(
    session: Session,
    *,
    counter: Counter,
    visit_step_id: int,
    actor: Actor,
    instance_path: str | Path,
    document_type_id: int,
    image: bytes,
    owner_id: int | None = None,
    signer_name: str | None = None,
    client_id: str | None = None,
    reason: str | None = None,
) -> VisitDocument:
    vs = ticket_at_counter(session, counter, visit_step_id, actor)
    doc = next(
        (d for d in panel(session, vs)["documents"] if d["document_type_id"] == document_type_id),
        None,
    )
    sig = doc and next((s for s in doc["signatures"] if s["owner_id"] == owner_id), None)
    if not sig:
        raise Invalid("document_not_to_sign", "This document is not signed at this step.")
    if sig["signed"] and not (reason or "").strip():
        raise Invalid(
            "already_signed", "Already signed. To sign again, give a reason (the first stays)."
        )
    stored = files.store_image(
        session, instance_path, image, kind="signature", actor=actor, client_id=client_id
    )
    visit = vs.visit
    name = (signer_name or "").strip() or (
        visit.agent_name if visit.party_role == "agent" else None
    )
    row = evidence_rows.add(
        session,
        VisitDocument,
        {"visit_id": visit.id, "document_type_id": document_type_id, "owner_id": owner_id},
        {
            "status": "signed",
            "signer_name": name,
            "signature_file_id": stored.id,
            "staff_id": actor.staff_id,
            "counter_id": counter.id,
        },
        reason=reason,
    )
    counter_events.counter_changed(session, counter.id)
    session.commit()
    return row


requirements.register("sign", missing)
