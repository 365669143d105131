"""What a counter's panel shows about the visit it serves: the frame (who, which unit, what
happened so far) and the panel of the step's kind (verify, fees, sign, keys), with what is
still missing before the step can be completed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.models import (
    Counter,
    DocumentType,
    InspectionRoom,
    KnownIssue,
    KnownIssueCheck,
    OwnerRequest,
    StandardResponse,
    Step,
    StepTransition,
    VisitDocument,
    VisitStep,
)
from server.services import privacy

from . import (
    evidence_rows,
    fees,
    files,
    inspection,
    key_handover,
    requirements,
    signing,
    verification,
)
from .counter_desk import holder_payload
from .owner_requests import CATEGORIES, departments
from .owner_requests import payload as request_payload
from .panel_common import owners_of


def _inspect_panel(session: Session, vs: VisitStep) -> dict[str, Any]:
    """The desk's view of the inspection recorded on the tablet: the outcome and signature."""
    r = inspection.current_result(session, vs.visit_id)
    return {
        "result": None
        if r is None
        else {
            "outcome": r.outcome,
            "promised_date": r.promised_date.isoformat() if r.promised_date else None,
            "reason": r.reason,
            "signer_name": privacy.mask_name(r.signer_name),
            "signature_url": files.url(r.signature_file_id),
        }
    }


PANELS = {
    "inspect": _inspect_panel,
    "verify": lambda s, vs: {"documents": verification.checklist(s, vs)},
    "fees": fees.panel,
    "sign": signing.panel,
    "keys": key_handover.panel,
}


def _frame(session: Session, vs: VisitStep) -> dict[str, Any]:
    visit = vs.visit
    holds = session.execute(
        select(StepTransition, Step)
        .join(Step, Step.id == StepTransition.step_id)
        .where(StepTransition.visit_id == visit.id, StepTransition.action == "hold")
        .order_by(StepTransition.id)
    ).all()
    requests = session.scalars(
        select(OwnerRequest)
        .where(or_(OwnerRequest.visit_id == visit.id, OwnerRequest.unit_id == visit.unit_id))
        .order_by(OwnerRequest.id.desc())
        .limit(20)
    ).all()
    issues = session.execute(
        select(KnownIssue, StandardResponse)
        .outerjoin(StandardResponse, StandardResponse.id == KnownIssue.standard_response_id)
        .where(KnownIssue.unit_id == visit.unit_id)
        .order_by(KnownIssue.id)
    ).all()
    # What the inspection of this unit said about each known issue (the newest answer wins
    # over the status the issue was imported with), and the rooms' names.
    confirmed: dict[int, str] = {}
    rooms: dict[str, tuple[str, str]] = {}
    if issues:
        for known_id, result in session.execute(
            select(KnownIssueCheck.known_issue_id, KnownIssueCheck.result)
            .where(KnownIssueCheck.known_issue_id.in_([k.id for k, _ in issues]))
            .order_by(KnownIssueCheck.id)
        ):
            confirmed[known_id] = "fixed" if result == "fixed" else "open"
        rooms = {
            r.code: (r.name_zh, r.name_en)
            for r in session.scalars(
                select(InspectionRoom).where(InspectionRoom.project_id == visit.project_id)
            )
        }
    principal = visit.owner_id
    poa_seen = None
    if visit.party_role == "agent":
        agent_docs = session.scalars(
            select(DocumentType.id).where(
                DocumentType.project_id == visit.project_id, DocumentType.agent_only.is_(True)
            )
        ).all()
        rows = evidence_rows.current(session, VisitDocument, visit_id=visit.id)
        poa_seen = any(r.document_type_id in agent_docs and r.status == "seen" for r in rows)
    return {
        "visit_id": visit.id,
        "visit_step_id": vs.id,
        "ticket_no": visit.ticket_no,
        "state": vs.state,
        "step": {
            "code": vs.step.code,
            "kind": vs.step.kind,
            "name_zh": vs.step.name_zh,
            "name_en": vs.step.name_en,
        },
        "unit": visit.unit.label,
        "unit_en": visit.unit.label_en,
        "area_m2": visit.unit.area_m2,
        "owners": [
            {"id": o.id, "name": o.masked_name, "principal": o.id == principal or i == 0}
            for i, o in enumerate(owners_of(visit))
        ],
        "party_role": visit.party_role,
        "agent_name": visit.agent_name,
        "power_of_attorney_seen": poa_seen,
        "priority": visit.priority_class,
        "priority_requested": visit.priority_requested,
        "walk_in": visit.walk_in,
        "steps": [
            {
                "code": s.step.code,
                "name_zh": s.step.name_zh,
                "name_en": s.step.name_en,
                "state": s.state,
                "required": s.step.required,
            }
            for s in visit.steps
        ],
        "holds": [
            {
                "step_zh": st.name_zh,
                "step_en": st.name_en,
                "reason": t.reason,
                "at": t.at.isoformat(timespec="seconds"),
            }
            for t, st in holds
        ],
        "requests": [request_payload(session, r) for r in requests],
        "known_issues": [
            {
                "id": k.id,
                "room": k.room_code,
                "room_zh": rooms.get(k.room_code or "", (None, None))[0],
                "room_en": rooms.get(k.room_code or "", (None, None))[1],
                "description": k.description,
                "status": confirmed.get(k.id, k.status),
                "confirmed_at_inspection": k.id in confirmed,
                "source": k.source,
                "response": r.topic if r else None,
            }
            for k, r in issues
        ],
    }


def panel_for(session: Session, counter: Counter) -> dict[str, Any]:
    vs = session.scalar(
        select(VisitStep).where(
            VisitStep.counter_id == counter.id, VisitStep.state.in_(("called", "serving"))
        )
    )
    out: dict[str, Any] = {
        "counter_id": counter.id,
        "holder": holder_payload(session, counter),
        "departments": [
            {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}
            for d in departments(session, counter.project_id)
        ],
        "categories": list(CATEGORIES),
        "steps": [
            {"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en}
            for s in session.scalars(
                select(Step)
                .where(Step.project_id == counter.project_id, Step.active)
                .order_by(Step.sort)
            )
        ],
        "visit": None,
    }
    if vs is None:
        return out
    kind = vs.step.kind or "generic"
    build = PANELS.get(kind)
    out["visit"] = _frame(session, vs)
    out["kind"] = kind
    out["panel"] = build(session, vs) if build else None
    out["missing"] = requirements.missing(session, vs)
    return out
