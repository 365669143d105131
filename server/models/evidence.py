"""What the counters record (documents, fees, defects, keys, requests). Minimal in stage 1;
stage 3 fills in the panels. These rows are evidence: never deleted, only superseded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt


class DocumentType(Base):
    __tablename__ = "document_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    step_code: Mapped[str] = mapped_column(String(30))  # which step checks or signs it
    needs_signature: Mapped[bool] = mapped_column(default=False)


class VisitDocument(CreatedAt, Base):
    __tablename__ = "visit_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id"))
    status: Mapped[str] = mapped_column(String(20))  # checked | signed | missing
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signature_path: Mapped[str | None] = mapped_column(String(255))


class FeeType(Base):
    __tablename__ = "fee_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))


class FeePayment(CreatedAt, Base):
    __tablename__ = "fee_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    receipt_no: Mapped[str | None] = mapped_column(String(40))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Defect(CreatedAt, Base):
    __tablename__ = "defects"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    room: Mapped[str] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(60))
    category: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    rectified_at: Mapped[datetime | None] = mapped_column(DateTime)


class InspectionResult(CreatedAt, Base):
    __tablename__ = "inspection_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # accepted | accepted_with_defects | refused
    reason: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class KeyItemType(Base):
    __tablename__ = "key_item_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))  # 入户门钥匙, 门禁卡, 信报箱钥匙
    name_en: Mapped[str] = mapped_column(String(80))


class UnitKeyItem(Base):
    """The key set waiting for a unit at the key counter."""

    __tablename__ = "unit_key_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    key_item_type_id: Mapped[int] = mapped_column(ForeignKey("key_item_types.id"))
    quantity: Mapped[int] = mapped_column(default=1)


class KeyHandover(CreatedAt, Base):
    __tablename__ = "key_handovers"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    water_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    power_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    gas_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class StandardResponse(CreatedAt, Base):
    """统一说辞: the approved explanation every staff member gives for a known issue."""

    __tablename__ = "standard_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)


class OwnerRequest(CreatedAt, Base):
    """客户诉求: raised on site, routed to a department."""

    __tablename__ = "owner_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    department: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
