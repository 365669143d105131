"""钥匙交接: the unit's key set counted and confirmed (a shortfall recorded with why), meter
readings with meter numbers, the owner's signature, and the key receipt printed on the
counter's printer through the durable print queue (committed with the handover itself).

Keys are refused for a unit whose latest inspection outcome is a refusal, or whose required
earlier steps are not done (or skipped by a supervisor)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from server import clock
from server.engine import Invalid
from server.models import (
    Counter,
    InspectionResult,
    KeyHandover,
    KeyHandoverItem,
    MeterReading,
    MeterType,
    Project,
    Staff,
    UnitKeyItem,
    Visit,
    VisitStep,
)
from server.printing import jobs as print_jobs
from server.printing.receipts import KeyItem, KeyReceiptData, key_receipt
from server.printing.receipts import MeterReading as ReceiptMeter
from server.services import privacy

from . import counter_events, evidence_rows, files, requirements
from .actor import Actor
from .counter_desk import ticket_at_counter


def key_set(session: Session, unit_id: int) -> list[UnitKeyItem]:
    return list(
        session.scalars(
            select(UnitKeyItem).where(UnitKeyItem.unit_id == unit_id).order_by(UnitKeyItem.id)
        )
    )


def meter_types(session: Session, project_id: int) -> list[MeterType]:
    return list(
        session.scalars(
            select(MeterType)
            .where(MeterType.project_id == project_id)
            .order_by(MeterType.sort, MeterType.id)
        )
    )


def latest_inspection(session: Session, unit_id: int) -> InspectionResult | None:
    """The unit's current inspection outcome, over all its visits (a refusal stays)."""
    newer = aliased(InspectionResult)
    return session.scalar(
        select(InspectionResult)
        .join(Visit, Visit.id == InspectionResult.visit_id)
        .where(
            Visit.unit_id == unit_id,
            ~select(newer.id).where(newer.supersedes_id == InspectionResult.id).exists(),
        )
        .order_by(InspectionResult.created_at.desc(), InspectionResult.id.desc())
        .limit(1)
    )


def blockers(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    """Why keys cannot be handed over to this visit (empty when they can)."""
    out = []
    result = latest_inspection(session, vs.visit.unit_id)
    if result is not None and result.outcome == "refused":
        reason = result.reason or ""
        out.append(
            {
                "code": "inspection_refused",
                "text_zh": "验房拒收，不能交钥匙" + (f"：{reason}" if reason else ""),
                "text_en": "The owner refused the unit at inspection; no keys"
                + (f": {reason}" if reason else ""),
            }
        )
    for earlier in vs.visit.steps:
        if earlier.sort >= vs.sort or not earlier.step.required:
            continue
        if earlier.state not in ("done", "skipped"):
            out.append(
                {
                    "code": "step_not_done",
                    "text_zh": f"{earlier.step.name_zh}尚未完成",
                    "text_en": f"{earlier.step.name_en} is not done yet",
                }
            )
    return out


def panel(session: Session, vs: VisitStep) -> dict[str, Any]:
    visit = vs.visit
    done = evidence_rows.current_one(session, KeyHandover, visit_id=visit.id)
    return {
        "blockers": blockers(session, vs),
        "items": [
            {
                "key_item_type_id": k.key_item_type_id,
                "name_zh": k.key_item_type.name_zh,
                "name_en": k.key_item_type.name_en,
                "quantity": k.quantity,
                "serials": k.serials,
            }
            for k in key_set(session, visit.unit_id)
        ],
        "meters": [
            {
                "meter_type_id": m.id,
                "name_zh": m.name_zh,
                "name_en": m.name_en,
                "unit": m.unit_label,
            }
            for m in meter_types(session, visit.project_id)
        ],
        "handover": None
        if done is None
        else {
            "id": done.id,
            "shortfall": done.shortfall,
            "signer_name": privacy.mask_name(done.signer_name),
            "signature_url": files.url(done.signature_file_id),
            "print_job_id": done.print_job_id,
            "at": done.created_at.isoformat(timespec="seconds") if done.created_at else None,
            "items": [
                {"key_item_type_id": i.key_item_type_id, "expected": i.expected, "handed": i.handed}
                for i in done.items
            ],
            "readings": [
                {
                    "meter_type_id": r.meter_type_id,
                    "meter_no": r.meter_no,
                    "reading": str(r.reading),
                }
                for r in done.readings
            ],
        },
    }


def missing(session: Session, vs: VisitStep) -> list[dict[str, Any]]:
    out = blockers(session, vs)
    # A project that registers no key set and reads no meters has nothing to hand over here.
    configured = key_set(session, vs.visit.unit_id) or meter_types(session, vs.visit.project_id)
    if configured and evidence_rows.current_one(session, KeyHandover, visit_id=vs.visit_id) is None:
        out.append({"code": "keys", "text_zh": "钥匙尚未交接", "text_en": "Keys not handed over"})
    return out


def _reading(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid("bad_meter_reading", "Enter each meter reading as a number.") from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
        raise Invalid("bad_meter_reading", "Enter each meter reading as a number.")
    return number.quantize(Decimal("0.01"))


def hand_over(
    session: Session,
    *,
    counter: Counter,
    visit_step_id: int,
    actor: Actor,
    instance_path: str | Path,
    items: list[dict[str, Any]],
    readings: list[dict[str, Any]],
    signature: bytes,
    signer_name: str | None = None,
    reason: str | None = None,
    locale: str = "zh_CN",
    now: datetime | None = None,
) -> KeyHandover:
    now = now or clock.now()
    vs = ticket_at_counter(session, counter, visit_step_id, actor)
    visit = vs.visit
    stop = blockers(session, vs)
    if stop:
        raise Invalid(
            "keys_refused",
            "Keys cannot be handed over: %(why)s",
            why="；".join(b["text_zh"] for b in stop),
        )
    given = {int(i["key_item_type_id"]): i for i in items if "key_item_type_id" in i}
    expected = key_set(session, visit.unit_id)
    lines = []
    for k in expected:
        got = given.get(k.key_item_type_id)
        if got is None:
            raise Invalid("count_every_key", "Count and confirm every item of the key set.")
        try:
            handed = int(got.get("handed"))
        except (TypeError, ValueError):
            raise Invalid(
                "count_every_key", "Count and confirm every item of the key set."
            ) from None
        if handed < 0 or handed > k.quantity:
            raise Invalid(
                "bad_key_count",
                "%(item)s: between 0 and %(n)s.",
                item=k.key_item_type.name_zh,
                n=k.quantity,
            )
        note = (got.get("note") or "").strip()[:200] or None
        if handed < k.quantity and not note:
            raise Invalid(
                "shortfall_reason", "%(item)s is short: say why.", item=k.key_item_type.name_zh
            )
        lines.append((k, handed, note))
    meters = {int(r["meter_type_id"]): r for r in readings if "meter_type_id" in r}
    reading_rows = []
    for m in meter_types(session, visit.project_id):
        got = meters.get(m.id)
        if got is None or str(got.get("reading") or "").strip() == "":
            raise Invalid("meter_reading_required", "Enter the %(meter)s reading.", meter=m.name_zh)
        reading_rows.append((m, _reading(got["reading"]), (got.get("meter_no") or "").strip()[:40]))
    if not signature:
        raise Invalid("signature_required", "The owner signs first.")
    stored = files.store_image(session, instance_path, signature, kind="signature", actor=actor)
    name = (signer_name or "").strip()[:60] or (
        visit.agent_name if visit.party_role == "agent" else None
    )
    if name is None and visit.owner is not None:
        name = visit.owner.name
    handover = evidence_rows.add(
        session,
        KeyHandover,
        {"visit_id": visit.id},
        {
            "unit_id": visit.unit_id,
            "shortfall": any(h < k.quantity for k, h, _ in lines),
            "signer_name": name,
            "signature_file_id": stored.id,
            "staff_id": actor.staff_id,
            "counter_id": counter.id,
        },
        reason=reason,
    )
    for k, handed, note in lines:
        session.add(
            KeyHandoverItem(
                key_handover_id=handover.id,
                key_item_type_id=k.key_item_type_id,
                expected=k.quantity,
                handed=handed,
                serials=k.serials,
                note=note,
            )
        )
    for m, value, meter_no in reading_rows:
        session.add(
            MeterReading(
                key_handover_id=handover.id,
                meter_type_id=m.id,
                meter_no=meter_no or None,
                reading=value,
            )
        )
    staff = session.get(Staff, actor.staff_id) if actor.staff_id else None
    en = locale.startswith("en")
    receipt = key_receipt(
        KeyReceiptData(
            project_name=session.get(Project, visit.project_id).name,
            unit_label=visit.unit.label_en if en else visit.unit.label,
            items=[
                KeyItem(
                    name=k.key_item_type.name_en if en else k.key_item_type.name_zh,
                    quantity=handed,
                    note=note or k.serials,
                )
                for k, handed, note in lines
            ],
            meters=[
                ReceiptMeter(
                    kind=m.name_en if en else m.name_zh,
                    reading=f"{value} {m.unit_label}",
                    meter_no=meter_no or None,
                )
                for m, value, meter_no in reading_rows
            ],
            handed_at=now,
            staff_name=staff.display_name if staff else actor.name,
            receiver_name=name,
            signatures_noted=True,
            ticket_no=visit.ticket_no,
        ),
        locale="en" if en else "zh_CN",
    )
    job = print_jobs.enqueue(
        session,
        kind="key_receipt",
        receipt=receipt,
        counter_id=counter.id,
        visit_id=visit.id,
        now=now,
    )
    session.flush()
    handover.print_job_id = job.id  # the row was created in this transaction: still new
    counter_events.counter_changed(session, counter.id)
    session.commit()
    return handover


requirements.register("keys", missing)
