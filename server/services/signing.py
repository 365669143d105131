"""签约: each document to sign, signed by each owner present on the signature pad. The
signature is stored as an image (files.store_image, kind "signature") with the visit and is
never overwritten: signing again needs a reason and makes a new row superseding the old one.

A co-owner who does not come (the other owner, or an agent with power of attorney, signs) is
marked as not present for this visit with a reason (委托代签 / 未到场): an `OwnerAbsence` row,
append-only like every evidence row. The completion gate then no longer asks for that owner's
signatures; the panel, and the acceptance form's list of owners, say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from server.engine import Invalid
from server.models import Counter, OwnerAbsence, VisitDocument, VisitStep
from server.services import privacy

from . import audit, counter_events, evidence_rows, files, requirements
from .actor import Actor
from .counter_desk import ticket_at_counter
from .panel_common import owners_of
from .verification import document_types

# Why a co-owner does not sign at this visit: code -> (zh, en).
ABSENCE_REASONS = {
    "proxy_signing": ("委托代签", "Signed for by proxy"),
    "not_present": ("未到场", "Did not come"),
}


def signers(vs: VisitStep) -> list[tuple[int | None, str]]:
    """(owner id, masked name) of who signs; an agent signs for the owners they represent."""
    return [(o.id, o.masked_name) for o in owners_of(vs.visit)] or [(None, "")]


def absences(session: Session, visit_id: int) -> dict[int, OwnerAbsence]:
    """Owners marked as not present for this visit (current rows only), by owner id."""
    return {
        r.owner_id: r
        for r in evidence_rows.current(session, OwnerAbsence, visit_id=visit_id)
        if r.absent
    }


def absence_payload(row: OwnerAbsence | None) -> dict[str, Any] | None:
    if row is None:
        return None
    zh, en = ABSENCE_REASONS.get(row.reason or "", (row.reason or "", row.reason or ""))
    return {
        "reason": row.reason,
        "reason_zh": zh,
        "reason_en": en,
        "note": row.note,
        "at": row.created_at.isoformat(timespec="seconds") if row.created_at else None,
    }


def panel(session: Session, vs: VisitStep) -> dict[str, Any]:
    rows = {
        (r.document_type_id, r.owner_id): r
        for r in evidence_rows.current(session, VisitDocument, visit_id=vs.visit_id)
    }
    away = absences(session, vs.visit_id)
    signed_by = {owner_id for (_, owner_id), r in rows.items() if r.status == "signed"}
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
                        "signer_name": privacy.mask_name(r.signer_name) if r else None,
                        "file_id": r.signature_file_id if r else None,
                        "image_url": files.url(r.signature_file_id) if r else None,
                        "absent": absence_payload(away.get(owner_id)) if owner_id else None,
                    }
                    for owner_id, name in who
                ],
            }
        )
    visit = vs.visit
    return {
        "documents": docs,
        "agent": visit.agent_name if visit.party_role == "agent" else None,
        # Who is expected to sign; a co-owner who did not come is marked here.
        "owners": [
            {
                "owner_id": owner_id,
                "owner": name,
                "signed_any": owner_id in signed_by,
                "absent": absence_payload(away.get(owner_id)) if owner_id else None,
            }
            for owner_id, name in signers(vs)
            if owner_id is not None
        ],
        "absence_reasons": list(ABSENCE_REASONS),
    }


def missing(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    out = []
    for doc in panel(session, vs)["documents"]:
        if not doc["required"]:
            continue
        for sig in doc["signatures"]:
            if not sig["signed"] and not sig["absent"]:
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
    if sig["absent"]:
        raise Invalid(
            "owner_marked_absent",
            "%(owner)s is marked as not present. If they came after all, mark them present first.",
            owner=sig["owner"],
        )
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


def mark_absence(
    session: Session,
    *,
    counter: Counter,
    visit_step_id: int,
    actor: Actor,
    owner_id: int,
    absent: bool = True,
    reason: str | None = None,
    note: str | None = None,
) -> OwnerAbsence:
    """Marks a co-owner as not present for this visit (or present again, a newer row)."""
    vs = ticket_at_counter(session, counter, visit_step_id, actor)
    owners = panel(session, vs)["owners"]
    who = next((o for o in owners if o["owner_id"] == owner_id), None)
    if who is None:
        raise Invalid("not_an_owner", "This person is not an owner of this unit.")
    note = (note or "").strip() or None
    if absent:
        if reason not in ABSENCE_REASONS:
            raise Invalid(
                "bad_absence_reason",
                "Choose why this co-owner does not sign: signed for by proxy, or did not come.",
            )
        if who["absent"]:
            raise Invalid(
                "already_absent", "%(owner)s is already marked as not present.", owner=who["owner"]
            )
        if who["signed_any"]:
            raise Invalid(
                "owner_has_signed",
                "%(owner)s has already signed at this visit, so was present.",
                owner=who["owner"],
            )
        if not any(o["owner_id"] != owner_id and not o["absent"] for o in owners):
            raise Invalid(
                "last_owner_present",
                "At least one owner signs (an agent signs in the owners' names).",
            )
    elif not who["absent"]:
        raise Invalid("not_absent", "%(owner)s is not marked as not present.", owner=who["owner"])
    row = evidence_rows.add(
        session,
        OwnerAbsence,
        {"visit_id": vs.visit_id, "owner_id": owner_id},
        {
            "absent": absent,
            "reason": reason if absent else None,
            "note": note,
            "staff_id": actor.staff_id,
            "counter_id": counter.id,
        },
        reason=note or ("came after all" if not absent else None),
    )
    audit.record(
        session,
        actor,
        "signing.owner_absent" if absent else "signing.owner_present",
        "visit",
        vs.visit_id,
        owner_id=owner_id,
        reason=reason if absent else None,
        note=note,
    )
    counter_events.counter_changed(session, counter.id)
    session.commit()
    return row


def absent_owner_ids(session: Session, visit_id: int) -> set[int]:
    return set(absences(session, visit_id))


requirements.register("sign", missing)
