"""收费确认: the unit's fee items (amounts known in advance), each paid (method, receipt
number) or waived (reason, a supervisor). Money stays Decimal from the database to the JSON,
where amounts travel as strings ("1234.50"), never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.engine import Invalid, NotFound
from server.models import Counter, FeePayment, FeeType, UnitFee, VisitStep

from . import counter_events, evidence_rows, requirements
from .actor import Actor
from .counter_desk import ticket_at_counter
from .panel_common import require_supervisor

METHODS = ("pos", "cash", "transfer", "wechat", "alipay")
CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def unit_fees(session: Session, unit_id: int) -> list[UnitFee]:
    return list(
        session.scalars(
            select(UnitFee)
            .join(FeeType, FeeType.id == UnitFee.fee_type_id)
            .where(UnitFee.unit_id == unit_id, FeeType.active.is_(True))
            .order_by(FeeType.sort, FeeType.id)
        )
    )


def panel(session: Session, vs: VisitStep) -> dict[str, Any]:
    payments = {
        p.fee_type_id: p for p in evidence_rows.current(session, FeePayment, visit_id=vs.visit_id)
    }
    items = []
    due = paid = waived = Decimal("0")
    for uf in unit_fees(session, vs.visit.unit_id):
        p = payments.get(uf.fee_type_id)
        status = p.status if p else None
        due += uf.amount
        if status == "paid":
            paid += uf.amount
        elif status == "waived":
            waived += uf.amount
        items.append(
            {
                "unit_fee_id": uf.id,
                "fee_type_id": uf.fee_type_id,
                "name_zh": uf.fee_type.name_zh,
                "name_en": uf.fee_type.name_en,
                "amount": money(uf.amount),
                "note": uf.note,
                "status": status,
                "method": p.method if p else None,
                "receipt_no": p.receipt_no if p else None,
                "reason": p.reason if p else None,
                "corrected": bool(p and p.supersedes_id),
            }
        )
    return {
        "items": items,
        "methods": list(METHODS),
        "totals": {
            "due": money(due),
            "paid": money(paid),
            "waived": money(waived),
            "outstanding": money(due - paid - waived),
        },
    }


def missing(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    return [
        {"code": "fee", "text_zh": i["name_zh"], "text_en": i["name_en"]}
        for i in panel(session, vs)["items"]
        if i["status"] not in ("paid", "waived")
    ]


def record(
    session: Session,
    *,
    counter: Counter,
    visit_step_id: int,
    actor: Actor,
    unit_fee_id: int,
    status: str,
    method: str | None = None,
    receipt_no: str | None = None,
    reason: str | None = None,
    correction_reason: str | None = None,
) -> FeePayment:
    vs = ticket_at_counter(session, counter, visit_step_id, actor)
    uf = session.get(UnitFee, unit_fee_id)
    if uf is None or uf.unit_id != vs.visit.unit_id:
        raise NotFound("unknown_fee", "This fee is not one of this unit's fees.")
    receipt_no = (receipt_no or "").strip() or None
    reason = (reason or "").strip() or None
    if status == "paid":
        if method not in METHODS:
            raise Invalid("payment_method_required", "Choose how the fee was paid.")
        if not receipt_no:
            raise Invalid("receipt_no_required", "Enter the receipt number.")
        values = {"method": method, "receipt_no": receipt_no}
    elif status == "waived":
        require_supervisor(actor)
        if not reason:
            raise Invalid("reason_required", "Please give a reason.")
        values = {"reason": reason, "approved_by_id": actor.staff_id}
    else:
        raise Invalid("bad_fee_status", "Mark the fee as paid or waived.")
    row = evidence_rows.add(
        session,
        FeePayment,
        {"visit_id": vs.visit_id, "fee_type_id": uf.fee_type_id},
        {
            "unit_fee_id": uf.id,
            "status": status,
            "amount": uf.amount,
            "staff_id": actor.staff_id,
            "counter_id": counter.id,
            **values,
        },
        reason=correction_reason,
    )
    counter_events.counter_changed(session, counter.id)
    session.commit()
    return row


requirements.register("fees", missing)
