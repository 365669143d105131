"""The test venue plus what the counter panels need: a signing step, document types, unit fees,
key sets, meters, departments, a co-owner and a second staff member."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image
from sqlalchemy import select

from server.models import (
    Counter,
    Department,
    DocumentType,
    FeeType,
    KeyItemType,
    MeterType,
    Owner,
    Staff,
    Step,
    Unit,
    UnitFee,
    UnitKeyItem,
    UnitOwner,
)
from tests.conftest import Venue, _password_hash, build_venue


@dataclass
class CounterVenue:
    v: Venue
    sign_counter: int
    staff2: int
    units: list[int]


def signature_png(color: int = 0) -> bytes:
    img = Image.new("RGB", (300, 100), "white")
    for x in range(20, 280):
        img.putpixel((x, 50 + (x % 20) - 10), (color, color, color))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def build_counter_venue(session, **kw) -> CounterVenue:
    kw.setdefault("units", 4)
    v = build_venue(session, **kw)
    pid = v.project_id
    sign = Step(project_id=pid, code="sign", name_zh="签约", name_en="Signing", sort=2, kind="sign")
    session.add(sign)
    session.get(Step, v.steps["keys"]).sort = 3
    session.flush()
    v.steps["sign"] = sign.id
    w10 = Counter(project_id=pid, code="W10", name_zh="10号窗口", name_en="Counter 10")
    w10.steps = [sign]
    session.add(w10)
    session.add_all(
        [
            DocumentType(
                project_id=pid,
                code="id_card",
                name_zh="身份证",
                name_en="ID card",
                step_code="verify",
                per_owner=True,
                sort=0,
            ),
            DocumentType(
                project_id=pid,
                code="contract",
                name_zh="购房合同",
                name_en="Purchase contract",
                step_code="verify",
                sort=1,
            ),
            DocumentType(
                project_id=pid,
                code="poa",
                name_zh="授权委托书",
                name_en="Power of attorney",
                step_code="verify",
                agent_only=True,
                sort=2,
            ),
            DocumentType(
                project_id=pid,
                code="old_receipts",
                name_zh="定金收据",
                name_en="Deposit receipts",
                step_code="verify",
                required=False,
                sort=3,
            ),
            DocumentType(
                project_id=pid,
                code="agreement",
                name_zh="物业服务协议",
                name_en="Property service agreement",
                step_code="sign",
                needs_signature=True,
                per_owner=True,
            ),
        ]
    )
    fee_types = [
        FeeType(
            project_id=pid, code="property_fee", name_zh="物业费", name_en="Property fee", sort=0
        ),
        FeeType(
            project_id=pid, code="fund", name_zh="专项维修资金", name_en="Maintenance fund", sort=1
        ),
    ]
    key_type = KeyItemType(
        project_id=pid, code="door_key", name_zh="入户门钥匙", name_en="Door key"
    )
    session.add_all([*fee_types, key_type])
    session.add_all(
        [
            MeterType(
                project_id=pid, code="water", name_zh="水表", name_en="Water meter", unit_label="m³"
            ),
            MeterType(
                project_id=pid,
                code="power",
                name_zh="电表",
                name_en="Electricity meter",
                unit_label="kWh",
                sort=1,
            ),
            Department(
                project_id=pid,
                code="customer_service",
                name_zh="客服部",
                name_en="Customer service",
            ),
            Department(
                project_id=pid, code="engineering", name_zh="工程部", name_en="Engineering", sort=1
            ),
        ]
    )
    session.flush()
    units = list(session.scalars(select(Unit.id).where(Unit.project_id == pid).order_by(Unit.id)))
    for uid in units:
        session.add(UnitFee(unit_id=uid, fee_type_id=fee_types[0].id, amount=Decimal("3436.80")))
        session.add(UnitFee(unit_id=uid, fee_type_id=fee_types[1].id, amount=Decimal("10740.05")))
        session.add(
            UnitKeyItem(unit_id=uid, key_item_type_id=key_type.id, quantity=3, serials="KS-1")
        )
    co = Owner(project_id=pid, name="李春花", phone="13900000001")
    session.add(co)
    session.flush()
    session.add(UnitOwner(unit_id=units[0], owner_id=co.id, position=1))
    staff2 = Staff(
        username="staff2", role="staff", display_name="测试二号", password_hash=_password_hash()
    )
    session.add(staff2)
    session.commit()
    return CounterVenue(v=v, sign_counter=w10.id, staff2=staff2.id, units=units)
