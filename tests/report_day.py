"""A small handover day with known events, for the report tests (see the expected figures in
tests/test_reports_daily.py). Queue moves go through the real services; evidence rows (which
the counter and inspection screens record) are inserted as those screens would, corrections
and a voided defect included.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from sqlalchemy import select

from server.models import (
    Appointment,
    Building,
    ChecklistItem,
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
    KeyItemType,
    OwnerRequest,
    Unit,
    UnitFee,
    Visit,
)
from server.services import checkin, queue, requirements
from server.services.actor import Actor
from server.services.settings import QueueSettings
from tests.conftest import build_venue

DAY = date(2026, 11, 27)


@dataclass
class ReportDay:
    project_id: int
    day: date
    visits: dict[str, int]  # "V1".. -> visit id
    units: dict[str, int]  # "u0".. -> unit id
    staff: dict[str, int]
    counters: dict[str, int]


def build_report_day(s) -> ReportDay:
    """The known day. Its events are the rows as they were recorded; the counters' completion
    gate (documents, signatures... recorded at the panels) is not what this day is about, so
    it is set aside while the day is written."""
    with mock.patch.object(requirements, "missing", lambda _session, _vs: []):
        return _build_report_day(s)


def add_floor_plan(s, instance_path, unit_ids) -> int:
    """A unit type with a floor plan (a PNG stored as an upload would be) for these units."""
    import io

    from PIL import Image, ImageDraw

    from server.models import UnitType
    from server.services import files

    img = Image.new("RGB", (800, 500), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, 790, 490), outline="black", width=6)
    draw.line((400, 10, 400, 490), fill="black", width=4)
    draw.line((10, 250, 400, 250), fill="black", width=4)
    out = io.BytesIO()
    img.save(out, "PNG")
    stored = files.store_image(
        s, instance_path, out.getvalue(), kind="floor_plan", actor=Actor(staff_id=None)
    )
    unit = s.get(Unit, unit_ids[0])
    ut = UnitType(project_id=unit.project_id, code="A2", name="A2户型 三室两厅")
    ut.floor_plan_file_id = stored.id
    s.add(ut)
    s.flush()
    for uid in unit_ids:
        s.get(Unit, uid).unit_type_id = ut.id
    s.commit()
    return stored.id


def _build_report_day(s) -> ReportDay:
    v = build_venue(s, units=12, day=datetime.combine(DAY, time(9, 0)))
    pid = v.project_id
    units = s.scalars(select(Unit).where(Unit.project_id == pid).order_by(Unit.id)).all()
    u = {f"u{i}": unit for i, unit in enumerate(units)}
    b2 = Building(project_id=pid, code="2", name="2栋", sort=1)
    s.add(b2)
    s.flush()
    for key in ("u6", "u7"):
        u[key].building_id = b2.id
    appts = {a.unit_id: a for a in s.scalars(select(Appointment))}
    for key, unit in u.items():
        a = appts[unit.id]
        if key in ("u6", "u7"):
            a.slot_start, a.slot_end = time(10, 0), time(11, 0)
        elif key in ("u10",):
            s.delete(a)  # a walk-in
        elif key not in ("u0", "u1", "u2", "u3"):
            a.day = DAY + timedelta(days=1)
    # Configuration the screens use.
    for i, (code, zh, en) in enumerate(
        (
            ("engineering", "工程部", "Engineering"),
            ("property", "物业公司", "Property company"),
            ("customer_service", "客服部", "Customer service"),
        )
    ):
        s.add(Department(project_id=pid, code=code, name_zh=zh, name_en=en, sort=i))
    for i, (code, zh, en) in enumerate(
        (
            ("living", "客厅", "Living room"),
            ("master", "主卧", "Master bedroom"),
            ("kitchen", "厨房", "Kitchen"),
        )
    ):
        s.add(InspectionRoom(project_id=pid, code=code, name_zh=zh, name_en=en, sort=i))
    for code, zh, en in (
        ("wall", "墙面", "Walls"),
        ("floor", "地面", "Floor"),
        ("window", "窗户", "Windows"),
        ("pipe", "给排水", "Plumbing"),
    ):
        s.add(ChecklistItem(project_id=pid, code=code, name_zh=zh, name_en=en))
    cats = {}
    for code, zh, en in (
        ("civil", "土建", "Civil works"),
        ("plumbing", "水电", "Plumbing"),
        ("windows", "门窗", "Doors and windows"),
    ):
        cats[code] = DefectCategory(project_id=pid, code=code, name_zh=zh, name_en=en)
        s.add(cats[code])
    fee_prop = FeeType(
        project_id=pid, code="property_fee", name_zh="物业费", name_en="Property fee", sort=0
    )
    fee_fund = FeeType(
        project_id=pid, code="fund", name_zh="维修基金", name_en="Maintenance fund", sort=1
    )
    s.add_all([fee_prop, fee_fund])
    doc_id = DocumentType(
        project_id=pid,
        code="id_card",
        name_zh="身份证",
        name_en="ID card",
        step_code="verify",
        sort=0,
    )
    doc_poa = DocumentType(
        project_id=pid,
        code="poa",
        name_zh="授权委托书",
        name_en="Power of attorney",
        step_code="verify",
        agent_only=True,
        sort=1,
    )
    doc_sa = DocumentType(
        project_id=pid,
        code="service_agreement",
        name_zh="物业服务协议",
        name_en="Property service agreement",
        step_code="fees",
        needs_signature=True,
        sort=2,
    )
    s.add_all([doc_id, doc_poa, doc_sa])
    door = KeyItemType(project_id=pid, code="door_key", name_zh="入户门钥匙", name_en="Door key")
    card = KeyItemType(
        project_id=pid, code="access_card", name_zh="门禁卡", name_en="Access card", sort=1
    )
    s.add_all([door, card])
    s.flush()
    for key in ("u0", "u1", "u2", "u6", "u10"):
        s.add(UnitFee(unit_id=u[key].id, fee_type_id=fee_prop.id, amount=Decimal("3000.00")))
        s.add(UnitFee(unit_id=u[key].id, fee_type_id=fee_fund.id, amount=Decimal("5000.00")))
    # u1 came the day before and refused: today is not its first inspection.
    earlier = Visit(
        project_id=pid,
        unit_id=u["u1"].id,
        day=DAY - timedelta(days=1),
        ticket_no="A001",
        status_token=secrets.token_hex(16),
        status="finished",
        checked_in_at=datetime.combine(DAY - timedelta(days=1), time(9, 0)),
    )
    s.add(earlier)
    s.flush()
    s.add(
        InspectionResult(
            visit_id=earlier.id,
            outcome="refused",
            reason="地面不平",
            created_at=datetime.combine(DAY - timedelta(days=1), time(10, 0)),
        )
    )
    s.add(
        OwnerRequest(
            project_id=pid,
            unit_id=u["u1"].id,
            category="design",
            text="昨日诉求",
            created_at=datetime.combine(DAY - timedelta(days=1), time(10, 0)),
        )
    )
    s.commit()

    staff = Actor(staff_id=v.staff["staff"], role="staff")
    sup = Actor(staff_id=v.staff["supervisor"], role="supervisor")
    c = v.counters

    def at(hh: int, mm: int) -> datetime:
        return datetime.combine(DAY, time(hh, mm))

    def check_in(key: str, when: datetime) -> int:
        return checkin.check_in(
            s, project_id=pid, code=u[key].notice_code, actor=staff, now=when
        ).id

    def call(counter: str, when: datetime, who: Actor = staff) -> int:
        vs = queue.call_next(s, counter_id=c[counter], actor=who, now=when)
        assert vs is not None
        return vs.id

    def start(vs: int, counter: str, when: datetime, who: Actor = staff) -> None:
        queue.start(s, visit_step_id=vs, counter_id=c[counter], actor=who, now=when)

    def complete(vs: int, counter: str, when: datetime, who: Actor = staff) -> None:
        queue.complete(s, visit_step_id=vs, counter_id=c[counter], actor=who, now=when)

    V = {}
    V["V1"] = check_in("u0", at(9, 0))
    V["V2"] = check_in("u1", at(9, 5))
    V["V3"] = check_in("u2", at(9, 10))
    x = call("W01", at(9, 10))
    start(x, "W01", at(9, 10))
    complete(x, "W01", at(9, 15))
    v2_verify = call("W02", at(9, 15))
    start(v2_verify, "W02", at(9, 16))
    v1_fees = call("W03", at(9, 20), sup)
    complete(v2_verify, "W02", at(9, 24))
    v3_verify = call("W01", at(9, 24))
    start(v3_verify, "W01", at(9, 25))
    complete(v1_fees, "W03", at(9, 26), sup)  # completed without pressing start
    complete(v3_verify, "W01", at(9, 30))
    v2_fees = call("W03", at(9, 30), sup)
    v1_keys = call("W04", at(9, 30), sup)
    start(v1_keys, "W04", at(9, 30), sup)
    queue.cancel(s, visit_id=V["V3"], actor=staff, reason="拒收", now=at(9, 35))
    complete(v2_fees, "W03", at(9, 36), sup)
    complete(v1_keys, "W04", at(9, 38), sup)
    V["V4"] = check_in("u6", at(9, 40))
    v2_keys = call("W04", at(9, 40), sup)
    start(v2_keys, "W04", at(9, 40), sup)
    v4_verify = call("W09", at(9, 45))
    complete(v2_keys, "W04", at(9, 50), sup)
    complete(v4_verify, "W09", at(9, 52))
    v4_fees = call("W09", at(10, 2))
    start(v4_fees, "W09", at(10, 2))
    queue.hold(
        s, visit_step_id=v4_fees, counter_id=c["W09"], actor=staff, reason="取证件", now=at(10, 7)
    )
    queue.release(s, visit_step_id=v4_fees, actor=staff, now=at(10, 10))
    again = call("W03", at(10, 15), sup)
    assert again == v4_fees
    start(v4_fees, "W03", at(10, 15), sup)
    complete(v4_fees, "W03", at(10, 18), sup)
    V["V5"] = check_in("u10", at(10, 20))
    v5_verify = call("W01", at(10, 30))
    queue.no_show(
        s,
        visit_step_id=v5_verify,
        counter_id=c["W01"],
        actor=staff,
        settings=QueueSettings(),
        now=at(10, 32),
    )
    assert call("W02", at(10, 40)) == v5_verify
    start(v5_verify, "W02", at(10, 40))
    complete(v5_verify, "W02", at(10, 46))
    queue.cancel(s, visit_id=V["V5"], actor=staff, reason="业主临时离开", now=at(10, 50))

    # ---- evidence, as the counter and inspection screens record it ----------------------
    sid, supid = v.staff["staff"], v.staff["supervisor"]
    s.add(
        InspectionResult(visit_id=V["V1"], outcome="accepted", staff_id=supid, created_at=at(9, 28))
    )
    wrong = InspectionResult(
        visit_id=V["V2"], outcome="accepted", staff_id=supid, created_at=at(9, 33)
    )
    s.add(wrong)
    s.flush()
    s.add(
        InspectionResult(
            visit_id=V["V2"],
            outcome="accepted_with_defects",
            staff_id=supid,
            supersedes_id=wrong.id,
            correction_reason="漏记问题",
            created_at=at(9, 34),
        )
    )
    s.add(
        InspectionResult(
            visit_id=V["V3"],
            outcome="refused",
            reason="客厅墙面大面积空鼓",
            staff_id=supid,
            created_at=at(9, 33),
        )
    )

    def defect(visit, unit, room, item, cat, sev="minor", **kw):
        d = Defect(
            visit_id=V[visit],
            unit_id=u[unit].id,
            room=room,
            item=item,
            category=cat,
            category_id=cats[cat].id,
            description=f"{room}{item}",
            severity=sev,
            staff_id=supid,
            created_at=at(9, 32),
            **kw,
        )
        s.add(d)
        s.flush()
        return d

    # Pins on the unit's floor plan (fractions of its width and height); the window has none.
    defect("V2", "u1", "living", "wall", "civil", pin_x=0.2, pin_y=0.3)
    d2 = defect("V2", "u1", "living", "floor", "civil", pin_x=0.2, pin_y=0.6)
    defect(
        "V2",
        "u1",
        "master",
        "floor",
        "civil",
        "major",
        supersedes_id=d2.id,
        correction_reason="房间记错",
        pin_x=0.5,
        pin_y=0.2,
    )
    d3 = defect("V2", "u1", "kitchen", "pipe", "plumbing")
    defect(
        "V2",
        "u1",
        "kitchen",
        "pipe",
        "plumbing",
        voided=True,
        supersedes_id=d3.id,
        correction_reason="误记",
    )
    defect("V2", "u1", "master", "window", "windows", "major")
    defect("V4", "u6", "living", "wall", "civil", "critical", pin_x=0.8, pin_y=0.8)
    defect("V4", "u6", "kitchen", "wall", "civil", pin_x=0.5, pin_y=0.5)

    def pay(visit, fee, status="paid", **kw):
        p = FeePayment(
            visit_id=V[visit],
            fee_type_id=fee.id,
            status=status,
            amount=Decimal("3000.00") if fee is fee_prop else Decimal("5000.00"),
            staff_id=supid,
            created_at=at(9, 25),
            **kw,
        )
        s.add(p)
        s.flush()
        return p

    pay("V1", fee_prop)
    pay("V1", fee_fund)
    pay("V2", fee_prop)
    p = pay("V2", fee_fund)
    pay("V2", fee_fund, "unpaid", supersedes_id=p.id, correction_reason="POS 未成功")
    pay("V4", fee_prop, "waived", reason="开发商减免", approved_by_id=supid)
    pay("V4", fee_fund)

    from server.models import VisitDocument

    def doc(visit, dt, status, **kw):
        d = VisitDocument(
            visit_id=V[visit],
            document_type_id=dt.id,
            status=status,
            staff_id=sid,
            created_at=at(9, 20),
            **kw,
        )
        s.add(d)
        s.flush()
        return d

    doc("V1", doc_id, "seen")
    doc("V1", doc_sa, "signed")
    doc("V2", doc_id, "seen")
    m = doc("V2", doc_sa, "missing")
    doc("V2", doc_sa, "signed", supersedes_id=m.id, correction_reason="补签")
    doc("V3", doc_id, "missing")
    doc("V4", doc_id, "seen")

    def keys(visit, unit, when, handed_card, **kw):
        kh = KeyHandover(
            visit_id=V[visit],
            unit_id=u[unit].id,
            staff_id=supid,
            counter_id=c["W04"],
            created_at=when,
            **kw,
        )
        s.add(kh)
        s.flush()
        s.add(
            KeyHandoverItem(key_handover_id=kh.id, key_item_type_id=door.id, expected=3, handed=3)
        )
        s.add(
            KeyHandoverItem(
                key_handover_id=kh.id, key_item_type_id=card.id, expected=2, handed=handed_card
            )
        )
        return kh

    keys("V1", "u0", at(9, 38), 2)
    first = keys("V2", "u1", at(9, 50), 2)
    keys(
        "V2",
        "u1",
        at(9, 51),
        1,
        shortfall=True,
        note="门禁卡待补办",
        supersedes_id=first.id,
        correction_reason="实际少交一张",
    )

    def req(visit, unit, cat, item, dept, text, status="open", *, when):
        s.add(
            OwnerRequest(
                project_id=pid,
                visit_id=V[visit],
                unit_id=u[unit].id,
                category=cat,
                item=item,
                department=dept,
                text=text,
                status=status,
                created_at=when,
                staff_id=sid,
            )
        )

    req(
        "V2",
        "u1",
        "construction_quality",
        "车库渗水",
        "engineering",
        "地下车库B区渗水",
        when=at(9, 41),
    )
    req(
        "V1",
        "u0",
        "property_service",
        "物业费",
        "property",
        "物业费能否按月交",
        status="answered",
        when=at(9, 42),
    )
    req(
        "V5",
        "u10",
        "construction_quality",
        "车库渗水",
        "engineering",
        "车库顶板渗水严重",
        when=at(10, 45),
    )
    req("V4", "u6", "sales", None, None, "要求提供购房发票", when=at(10, 5))
    s.commit()
    return ReportDay(pid, DAY, V, {k: x.id for k, x in u.items()}, v.staff, c)
