"""Demo data for the counter stations: each unit's fee amounts, key serials, meter types,
departments, counter locations, and the document types' per-owner / agent-only flags."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from server.models import (
    Counter,
    Department,
    DocumentType,
    FeeType,
    KeyItemType,
    MeterType,
    Project,
    Unit,
    UnitFee,
    UnitKeyItem,
)

CENT = Decimal("0.01")
PROPERTY_FEE_PER_M2_MONTH = Decimal("3.2")  # 物业费 ¥3.2/m²/月, one year collected in advance
MAINTENANCE_FUND_PER_M2 = Decimal("120")  # 专项维修资金, per m² of floor area
DEED_TAX_RATE_SMALL = Decimal("0.01")  # 契税: 1% up to 90 m² (first home), 1.5% above
DEED_TAX_RATE_LARGE = Decimal("0.015")
PRICE_PER_M2 = Decimal("18600")  # the contract price the deed tax is computed on
REGISTRATION_FEE = Decimal("80")  # 不动产登记费, per unit
UTILITY_PREPAY = Decimal("500")

DEPARTMENTS = (
    ("customer_service", "客服部", "Customer service"),
    ("engineering", "工程部", "Engineering"),
    ("sales", "销售部", "Sales"),
    ("finance", "财务部", "Finance"),
    ("property", "物业公司", "Property company"),
    ("design", "设计部", "Design"),
)

METERS = (
    ("water", "水表", "Water meter", "m³"),
    ("electricity", "电表", "Electricity meter", "kWh"),
    ("gas", "燃气表", "Gas meter", "m³"),
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_fee_amounts(area_m2: float) -> dict[str, Decimal]:
    area = Decimal(str(area_m2))
    deed_rate = DEED_TAX_RATE_SMALL if area <= 90 else DEED_TAX_RATE_LARGE
    return {
        "property_fee": _money(area * PROPERTY_FEE_PER_M2_MONTH * 12),
        "maintenance_fund": _money(area * MAINTENANCE_FUND_PER_M2),
        "deed_tax": _money(area * PRICE_PER_M2 * deed_rate),
        "registration_fee": REGISTRATION_FEE,
        "utility_prepay": UTILITY_PREPAY,
    }


def seed_counter(session: Session, project: Project, rng: random.Random) -> dict[str, int]:
    pid = project.id
    session.add_all(
        Department(project_id=pid, code=c, name_zh=zh, name_en=en, sort=i)
        for i, (c, zh, en) in enumerate(DEPARTMENTS)
    )
    session.add_all(
        MeterType(project_id=pid, code=c, name_zh=zh, name_en=en, unit_label=u, sort=i)
        for i, (c, zh, en, u) in enumerate(METERS)
    )
    # Each co-owner shows an ID card; the power of attorney only when an agent comes.
    session.execute(
        update(DocumentType)
        .where(DocumentType.project_id == pid, DocumentType.code == "id_card")
        .values(per_owner=True)
    )
    # Every owner signs the agreements and the acceptance form.
    session.execute(
        update(DocumentType)
        .where(DocumentType.project_id == pid, DocumentType.needs_signature.is_(True))
        .values(per_owner=True)
    )
    session.execute(
        update(DocumentType)
        .where(DocumentType.project_id == pid, DocumentType.code == "power_of_attorney")
        .values(agent_only=True)
    )
    for c in session.scalars(select(Counter).where(Counter.project_id == pid)):
        if c.code.startswith("Y"):  # inspection teams meet owners, then walk to the building
            c.location_zh = f"验房集合点 {c.name_zh}"
            c.location_en = f"Inspection meeting point, {c.name_en}"
        else:
            zone = (c.area or "").removesuffix("区")
            c.location_zh = f"大厅{c.area or ''} {c.name_zh}"
            c.location_en = f"Hall, zone {zone}, {c.name_en}" if zone else f"Hall, {c.name_en}"

    fee_types = {
        f.code: f.id for f in session.scalars(select(FeeType).where(FeeType.project_id == pid))
    }
    units = session.execute(select(Unit.id, Unit.area_m2).where(Unit.project_id == pid)).all()
    fee_rows = []
    for unit_id, area in units:
        for code, amount in unit_fee_amounts(area or 90.0).items():
            if code in fee_types:
                fee_rows.append(
                    {"unit_id": unit_id, "fee_type_id": fee_types[code], "amount": amount}
                )
    if fee_rows:
        session.execute(insert(UnitFee), fee_rows)

    # Serials of the cards and key stamps, registered when the keys came from the builder.
    kinds = {
        k.id: k.code
        for k in session.scalars(select(KeyItemType).where(KeyItemType.project_id == pid))
    }
    n_serials = 0
    for item in session.scalars(
        select(UnitKeyItem).join(Unit, Unit.id == UnitKeyItem.unit_id).where(Unit.project_id == pid)
    ):
        code = kinds.get(item.key_item_type_id)
        if code == "access_card":
            first = rng.randrange(10_000_000, 99_000_000)
            item.serials = ",".join(str(first + i) for i in range(item.quantity))
        elif code == "door_key":
            item.serials = f"KS-{item.unit_id:05d}"
        else:
            continue
        n_serials += 1
    session.flush()
    return {
        "departments": len(DEPARTMENTS),
        "meter_types": len(METERS),
        "unit_fees": len(fee_rows),
        "key_serials": n_serials,
    }
