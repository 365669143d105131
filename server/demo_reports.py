"""Demo data for the reports: a handover day that already happened (the day before the demo's
first day), so the daily report, the follow-up list and the summary have something to show.

`simulate_day` writes what the floor would have recorded (visits, their steps, every step
transition, inspection outcomes, defects, fees, documents, keys, owner requests) straight as
rows; the benchmark uses it for its 1,000-visit day. Reference data (rooms, checklist items,
defect categories, departments) is found by code or created, so another stream's demo seeding
of the same tables does not collide.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.models import (
    Appointment,
    ChecklistItem,
    Counter,
    Defect,
    DefectCategory,
    Department,
    DocumentType,
    FeePayment,
    FeeType,
    InspectionResult,
    InspectionRoom,
    KeyHandover,
    KeyHandoverItem,
    OwnerRequest,
    Project,
    Staff,
    Step,
    StepTransition,
    Unit,
    UnitFee,
    UnitKeyItem,
    Visit,
    VisitDocument,
    VisitStep,
)

# The same codes as the inspection's reference data (server/demo_inspect.py), so that in the
# demo the report's day and the live inspection share one checklist and one category tree.
ROOMS = (
    ("living", "客厅", "Living room"),
    ("master", "主卧", "Master bedroom"),
    ("second", "次卧", "Second bedroom"),
    ("kitchen", "厨房", "Kitchen"),
    ("bathroom", "卫生间", "Bathroom"),
    ("balcony", "阳台", "Balcony"),
)
ITEMS = (
    ("wall", "墙面", "Walls"),
    ("floor", "地面", "Floor"),
    ("ceiling", "顶棚", "Ceiling"),
    ("doors_windows", "门窗", "Doors and windows"),
    ("plumbing", "给排水", "Water and drainage"),
    ("electrical", "电气", "Electrical"),
    ("fixtures", "五金洁具", "Fittings and sanitary ware"),
    ("waterproof", "防水", "Waterproofing"),
)
CATEGORIES = (
    ("civil", "土建", "Civil works"),
    ("install", "安装", "Installation"),
    ("finish", "装饰", "Finishing"),
)
ITEM_CATEGORY = {
    "wall": "civil",
    "floor": "finish",
    "ceiling": "civil",
    "doors_windows": "finish",
    "plumbing": "install",
    "electrical": "install",
    "fixtures": "finish",
    "waterproof": "civil",
}
DESCRIPTIONS = {
    "wall": "墙面空鼓约20cm",
    "floor": "地板划痕",
    "ceiling": "顶棚裂缝",
    "doors_windows": "入户门关闭不严",
    "plumbing": "地漏排水慢",
    "electrical": "插座无电",
    "fixtures": "龙头松动",
    "waterproof": "墙角渗水痕迹",
}
DEPARTMENTS = (
    ("engineering", "工程部", "Engineering"),
    ("customer_service", "客服部", "Customer service"),
    ("sales", "销售部", "Sales"),
    ("property", "物业公司", "Property company"),
    ("finance", "财务部", "Finance"),
)
# (category, item, department, text): the first is raised by many owners ("widely raised").
REQUESTS = (
    ("construction_quality", "地下车库渗水", "engineering", "地下车库B区顶板渗水，雨天积水"),
    ("construction_quality", "地下车库渗水", "engineering", "车库入口处有渗水痕迹"),
    ("design", "小区绿化", "engineering", "中庭绿化何时完成"),
    ("property_service", "物业费标准", "property", "物业费能否按季度缴纳"),
    ("sales", "车位销售", "sales", "想了解车位价格和购买时间"),
    ("customer_service", "交房资料", "customer_service", "希望提供房屋测绘报告复印件"),
)
REFUSAL_REASONS = (
    "客厅墙面大面积空鼓，要求整改后再收房",
    "卫生间渗水至楼下，拒绝收房",
    "实际面积与合同不符，待核实后再办理",
)


def _get_or_create(session: Session, model, project_id: int, rows) -> dict[str, object]:
    found = {
        r.code: r for r in session.scalars(select(model).where(model.project_id == project_id))
    }
    for i, (code, zh, en) in enumerate(rows):
        if code not in found:
            found[code] = model(project_id=project_id, code=code, name_zh=zh, name_en=en, sort=i)
            session.add(found[code])
    session.flush()
    return found


@dataclass
class SimResult:
    visits: int
    handed_over: int
    refused: int
    defects: int


def simulate_day(
    session: Session,
    *,
    project_id: int,
    day: date,
    unit_ids: list[int],
    rng: random.Random,
    come_share: float = 0.9,
    defects_total: int | None = None,
    unfinished_share: float = 0.1,
    refused_share: float = 0.08,
) -> SimResult:
    """A whole handover day for `unit_ids` (given appointments on `day`), written as rows."""
    rooms = _get_or_create(session, InspectionRoom, project_id, ROOMS)
    items = _get_or_create(session, ChecklistItem, project_id, ITEMS)
    cats = _get_or_create(session, DefectCategory, project_id, CATEGORIES)
    _get_or_create(session, Department, project_id, DEPARTMENTS)
    steps = session.scalars(
        select(Step).where(Step.project_id == project_id, Step.active.is_(True)).order_by(Step.sort)
    ).all()
    counters = session.scalars(select(Counter).where(Counter.project_id == project_id)).all()
    pool: dict[int, list[list]] = {st.id: [] for st in steps}
    staff = session.scalars(select(Staff.id).where(Staff.role == "staff").order_by(Staff.id)).all()
    staff = staff or list(session.scalars(select(Staff.id).order_by(Staff.id))) or [None]
    for i, c in enumerate(counters):
        for st in c.steps:
            pool[st.id].append([datetime.combine(day, time(8, 50)), c.id, staff[i % len(staff)]])
    fee_types = session.scalars(select(FeeType).where(FeeType.project_id == project_id)).all()
    doc_types = session.scalars(
        select(DocumentType).where(DocumentType.project_id == project_id)
    ).all()
    appts = {
        a.unit_id: a
        for a in session.scalars(
            select(Appointment).where(Appointment.day == day, Appointment.unit_id.in_(unit_ids))
        )
    }
    key_sets: dict[int, list[UnitKeyItem]] = {}
    for k in session.scalars(select(UnitKeyItem).where(UnitKeyItem.unit_id.in_(unit_ids))):
        key_sets.setdefault(k.unit_id, []).append(k)
    have_fees = {
        (f.unit_id, f.fee_type_id)
        for f in session.scalars(select(UnitFee).where(UnitFee.unit_id.in_(unit_ids)))
    }
    for uid in unit_ids:
        for ft in fee_types:
            if (uid, ft.id) not in have_fees:
                session.add(
                    UnitFee(
                        unit_id=uid,
                        fee_type_id=ft.id,
                        amount=Decimal(rng.choice((2680, 3560, 4820, 12600))),
                    )
                )
    session.flush()
    dues = {
        (f.unit_id, f.fee_type_id): f
        for f in session.scalars(select(UnitFee).where(UnitFee.unit_id.in_(unit_ids)))
    }

    comers = [u for u in unit_ids if rng.random() < come_share]
    arrivals = []
    for uid in comers:
        a = appts.get(uid)
        start = datetime.combine(day, a.slot_start if a else time(rng.choice((10, 14)), 0))
        arrivals.append((start + timedelta(minutes=rng.randint(-25, 55)), uid))
    arrivals.sort()
    per_visit_defects = None
    if defects_total is not None and arrivals:
        per_visit_defects = [defects_total // len(arrivals)] * len(arrivals)
        for i in range(defects_total - sum(per_visit_defects)):
            per_visit_defects[i] += 1
    transitions: list[dict] = []
    result = SimResult(0, 0, 0, 0)
    ticket = 0
    for n, (arrived, uid) in enumerate(arrivals):
        ticket += 1
        visit = Visit(
            project_id=project_id,
            unit_id=uid,
            day=day,
            ticket_no=f"A{ticket:03d}",
            status_token=secrets.token_urlsafe(18),
            checked_in_at=arrived,
            appointment_id=appts[uid].id if uid in appts else None,
            walk_in=uid not in appts,
            status="active",
        )
        session.add(visit)
        vsteps = [
            VisitStep(step_id=st.id, day=day, sort=i, state="pending", queue_at=arrived, seq=ticket)
            for i, st in enumerate(steps)
        ]
        visit.steps = vsteps
        session.flush()
        roll = rng.random()
        outcome = (
            "refused"
            if roll < refused_share
            else "accepted_with_defects"
            if roll < 0.5
            else "accepted"
        )
        stop_at = len(steps) if rng.random() >= unfinished_share else rng.randrange(1, len(steps))
        t = arrived
        inspector = None
        done_codes = set()
        for i, (st, vs) in enumerate(zip(steps, vsteps, strict=True)):

            def tr(action, a, b, at, counter=None, who=None, reason=None, vs=vs, st=st, v=visit):
                transitions.append(
                    dict(
                        visit_id=v.id,
                        visit_step_id=vs.id,
                        step_id=st.id,
                        action=action,
                        from_state=a,
                        to_state=b,
                        at=at,
                        staff_id=who,
                        counter_id=counter,
                        reason=reason,
                    )
                )

            if st.kind == "keys" and outcome == "refused" and i < stop_at:
                tr("skip", "pending", "skipped", t, reason="拒收")
                vs.state = "skipped"
                continue
            if i == stop_at:  # left while waiting here
                tr("enqueue", "pending", "waiting", t)
                left = t + timedelta(minutes=rng.randint(5, 30))
                tr("cancel", "waiting", "cancelled", left, reason="业主临时离开")
                vs.state = "cancelled"
                visit.status, visit.cancel_reason = "cancelled", "业主临时离开"
                visit.finished_at = left
                continue
            if i > stop_at:
                tr("cancel", "pending", "cancelled", t, reason="业主临时离开")
                vs.state = "cancelled"
                continue
            tr("enqueue", "pending", "waiting", t)
            counter = min(pool[st.id], key=lambda c: c[0]) if pool[st.id] else [t, None, None]
            call = max(t, counter[0]) + timedelta(seconds=rng.randint(10, 90))
            minutes = st.default_service_minutes * rng.uniform(0.6, 1.5)
            begin = call + timedelta(seconds=rng.randint(20, 120))
            end = begin + timedelta(minutes=minutes)
            tr("call", "waiting", "called", call, counter[1], counter[2])
            tr("start", "called", "serving", begin, counter[1], counter[2])
            tr("complete", "serving", "done", end, counter[1], counter[2])
            counter[0] = end
            vs.state, vs.called_at, vs.started_at, vs.finished_at = "done", call, begin, end
            vs.counter_id, vs.staff_id = counter[1], counter[2]
            done_codes.add(st.kind)
            if st.kind == "inspect":
                inspector = counter[2]
            t = end
        visit.current_step_id = None
        if visit.status == "active":
            visit.status, visit.finished_at = "finished", t
        result.visits += 1
        # Evidence, as the counter and inspection screens record it.
        for dt in doc_types:
            if dt.step_code in done_codes and not dt.agent_only:
                status = "signed" if dt.needs_signature else "seen"
                if rng.random() < 0.015:
                    status = "missing"
                session.add(
                    VisitDocument(
                        visit_id=visit.id, document_type_id=dt.id, status=status, created_at=t
                    )
                )
        if "fees" in done_codes:
            for ft in fee_types:
                due = dues[(uid, ft.id)]
                unpaid = rng.random() < 0.04
                session.add(
                    FeePayment(
                        visit_id=visit.id,
                        fee_type_id=ft.id,
                        unit_fee_id=due.id,
                        status="unpaid" if unpaid else "paid",
                        amount=due.amount,
                        method=None if unpaid else "pos",
                        receipt_no=None if unpaid else f"POS{visit.id:05d}{ft.id}",
                        created_at=t,
                    )
                )
        if "inspect" in done_codes:
            session.add(
                InspectionResult(
                    visit_id=visit.id,
                    outcome=outcome,
                    staff_id=inspector,
                    reason=rng.choice(REFUSAL_REASONS) if outcome == "refused" else None,
                    created_at=t,
                )
            )
            if per_visit_defects is not None:
                k = per_visit_defects[n]
            else:
                k = 0 if outcome == "accepted" else rng.randint(1, 6)
            defect_rows = []
            for _ in range(k):
                item = rng.choice(ITEMS)[0]
                room = rng.choice(ROOMS)[0]
                cat = ITEM_CATEGORY[item]
                defect_rows.append(
                    dict(
                        visit_id=visit.id,
                        unit_id=uid,
                        room=rooms[room].code,
                        item=items[item].code,
                        category=cat,
                        category_id=cats[cat].id,
                        description=f"{rooms[room].name_zh}{DESCRIPTIONS[item]}",
                        severity=rng.choice(("minor", "minor", "minor", "major", "critical")),
                        staff_id=inspector,
                        created_at=t,
                        voided=False,
                    )
                )
            if defect_rows:
                session.execute(insert(Defect), defect_rows)
            result.defects += k
            if outcome == "refused":
                result.refused += 1
        if "keys" in done_codes:
            kh = KeyHandover(visit_id=visit.id, unit_id=uid, created_at=t, signer_name=None)
            session.add(kh)
            session.flush()
            short = rng.random() < 0.04
            for j, k in enumerate(key_sets.get(uid, [])):
                handed = k.quantity - (1 if short and j == 1 else 0)
                session.add(
                    KeyHandoverItem(
                        key_handover_id=kh.id,
                        key_item_type_id=k.key_item_type_id,
                        expected=k.quantity,
                        handed=handed,
                        note="门禁卡待补办" if handed < k.quantity else None,
                    )
                )
            kh.shortfall = short
            session.get(Unit, uid).handed_over = True
            result.handed_over += 1
        if rng.random() < 0.25:
            cat, item, dept, text = rng.choice(REQUESTS)
            session.add(
                OwnerRequest(
                    project_id=project_id,
                    visit_id=visit.id,
                    unit_id=uid,
                    category=cat,
                    item=item,
                    department=dept,
                    text=text,
                    status=rng.choice(("open", "open", "answered")),
                    created_at=arrived + timedelta(minutes=30),
                )
            )
    if transitions:
        session.execute(insert(StepTransition), transitions)
    session.flush()
    return result


def seed_reports(session: Session, project: Project, rng: random.Random) -> SimResult:
    """The day before the demo's first day already happened: 60 units of the last slots had
    their appointments then. A follow-up case is opened for each unit not handed over."""
    from server.services.followup import open_cases

    own = random.Random(f"reports-{project.code}")  # the shared rng's sequence stays as it was
    first_day = session.scalar(
        select(Appointment.day)
        .where(Appointment.project_id == project.id)
        .order_by(Appointment.day)
        .limit(1)
    )
    if first_day is None:
        return SimResult(0, 0, 0, 0)
    past = first_day - timedelta(days=1)
    late = session.scalars(
        select(Appointment)
        .where(Appointment.project_id == project.id)
        .order_by(Appointment.day.desc(), Appointment.slot_start.desc(), Appointment.id.desc())
        .limit(60)
    ).all()
    slots = ((time(9, 0), time(10, 0)), (time(10, 0), time(11, 0)), (time(14, 0), time(15, 0)))
    for i, a in enumerate(late):
        a.day = past
        a.slot_start, a.slot_end = slots[i % 3]
        a.batch = f"预交付批次 {a.slot_start:%H:%M}"
    session.flush()
    # A power of attorney is asked for only when an agent comes (the model says so per type).
    for dt in session.scalars(
        select(DocumentType).where(
            DocumentType.project_id == project.id, DocumentType.code == "power_of_attorney"
        )
    ):
        dt.agent_only = True
    project.contact_name = project.contact_name or "客服中心 周敏"
    project.contact_phone = project.contact_phone or "0571-8888 6666"
    project.address = project.address or "翠湖天地售楼处一楼大厅（翠湖路88号）"
    result = simulate_day(
        session,
        project_id=project.id,
        day=past,
        unit_ids=[a.unit_id for a in late],
        rng=own,
        refused_share=0.12,
    )
    open_cases(session, project_id=project.id, day=past)
    return result
