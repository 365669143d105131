"""What the counters record on the day: documents checked and signed, fees, inspection
(checks, defects with photos and pins, known issues confirmed, the outcome), keys and meter
readings, owner requests. These rows are evidence: never deleted, never updated in place.
A correction is a new row whose `supersedes_id` names the row it replaces, with who, when and
why; the current answer for a key is the newest row that nothing supersedes.

Rows a tablet may create offline carry `client_id` (made on the tablet, unique), so a retried
upload finds the row it already created instead of making a second one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt


class Supersedes:
    """Evidence corrections: the row replaced and why (the new row's own who/when apply)."""

    correction_reason: Mapped[str | None] = mapped_column(Text)


# ---- reference data (configuration per project) -------------------------------------------


class DocumentType(Base):
    __tablename__ = "document_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    step_code: Mapped[str] = mapped_column(String(30))  # which step checks or signs it
    needs_signature: Mapped[bool] = mapped_column(default=False)
    required: Mapped[bool] = mapped_column(default=True)
    # One check (or signature) per owner present, e.g. each co-owner's ID card.
    per_owner: Mapped[bool] = mapped_column(default=False)
    # Only asked for when an agent (受托人) comes instead of the owner: power of attorney.
    agent_only: Mapped[bool] = mapped_column(default=False)
    sort: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class FeeType(Base):
    __tablename__ = "fee_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    sort: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class UnitFee(Base):
    """What a unit owes at handover, known in advance (seeded, imported)."""

    __tablename__ = "unit_fees"
    __table_args__ = (UniqueConstraint("unit_id", "fee_type_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(String(200))

    fee_type: Mapped[FeeType] = relationship()


class KeyItemType(Base):
    __tablename__ = "key_item_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))  # 入户门钥匙, 门禁卡, 信报箱钥匙
    name_en: Mapped[str] = mapped_column(String(80))
    sort: Mapped[int] = mapped_column(default=0)


class UnitKeyItem(Base):
    """The key set waiting for a unit at the key counter (registered before the day)."""

    __tablename__ = "unit_key_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    key_item_type_id: Mapped[int] = mapped_column(ForeignKey("key_item_types.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    serials: Mapped[str | None] = mapped_column(String(200))  # card numbers, key stamps

    key_item_type: Mapped[KeyItemType] = relationship()


class MeterType(Base):
    """Meters read at key handover, as configured: 水表 (m³), 电表 (kWh), 燃气表 (m³)."""

    __tablename__ = "meter_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    unit_label: Mapped[str] = mapped_column(String(10))  # m³, kWh
    sort: Mapped[int] = mapped_column(default=0)


class Department(Base):
    """Who follows up owner requests and cases: 客服部, 工程部, 销售部, 物业公司 ..."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)


class InspectionRoom(Base):
    """Rooms of the acceptance form: 客厅, 主卧, 厨房, 卫生间, 阳台 ..."""

    __tablename__ = "inspection_rooms"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)


class ChecklistItem(Base):
    """One check of the acceptance form (墙面, 地面, 门窗, 给排水 ...), for some rooms or all."""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    # Room codes this item applies to; None means every room.
    room_codes: Mapped[list | None] = mapped_column(JSON)
    sort: Mapped[int] = mapped_column(default=0)


class DefectCategory(Base):
    """A configurable tree: 土建 > 墙面 > 空鼓 ..."""

    __tablename__ = "defect_categories"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("defect_categories.id"))
    code: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)


class KnownIssue(CreatedAt, Base):
    """Found in the internal acceptance rounds (内部模拟验收) before the day; shown to the
    inspector to confirm fixed or still open."""

    __tablename__ = "known_issues"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    room_code: Mapped[str | None] = mapped_column(String(30))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("defect_categories.id"))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(40))  # which round: 第一轮模拟验收
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | fixed | conceded
    standard_response_id: Mapped[int | None] = mapped_column(ForeignKey("standard_responses.id"))


class StandardResponse(CreatedAt, Base):
    """统一说辞: the approved explanation every staff member gives for a known issue.
    An edit during the day is a new row superseding the old one (which stays, unpublished)."""

    __tablename__ = "standard_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(String(200))
    published: Mapped[bool] = mapped_column(default=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("standard_responses.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


# ---- files (signatures, photos, floor plans) ----------------------------------------------


class StoredFile(CreatedAt, Base):
    """A file kept under the instance folder: never overwritten, named by its content hash."""

    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # signature | photo | floor_plan | document
    path: Mapped[str] = mapped_column(String(255))  # relative to the instance folder
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None]
    height: Mapped[int | None]
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))


# ---- what happens at the counters ----------------------------------------------------------


class VisitDocument(Supersedes, CreatedAt, Base):
    """A document seen / missing at verification, or signed at signing (per owner if so)."""

    __tablename__ = "visit_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    status: Mapped[str] = mapped_column(String(20))  # seen | missing | signed | refused
    note: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(60))  # who signed (agent, co-owner)
    signature_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("visit_documents.id"))
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)

    document_type: Mapped[DocumentType] = relationship()


class OwnerAbsence(Supersedes, CreatedAt, Base):
    """A co-owner marked as not present for this visit (未到场) at signing: the other owner or
    an agent with power of attorney signs, and the completion gate no longer asks for this
    owner's signatures. Undone by a newer row (absent False) superseding it; both stay."""

    __tablename__ = "owner_absences"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    absent: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str | None] = mapped_column(String(20))  # proxy_signing | not_present
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("owner_absences.id"))


class FeePayment(Supersedes, CreatedAt, Base):
    """One fee item settled at the fees counter: paid (method, receipt number) or waived."""

    __tablename__ = "fee_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    fee_type_id: Mapped[int] = mapped_column(ForeignKey("fee_types.id"))
    unit_fee_id: Mapped[int | None] = mapped_column(ForeignKey("unit_fees.id"))
    status: Mapped[str] = mapped_column(String(20), default="paid")  # paid | waived | unpaid
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str | None] = mapped_column(String(20))  # pos | cash | transfer | wechat ...
    receipt_no: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)  # why waived
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # waiver
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("fee_payments.id"))

    fee_type: Mapped[FeeType] = relationship()


class InspectionCheck(Supersedes, CreatedAt, Base):
    """One room x item of the acceptance form ticked: ok, defect or not applicable."""

    __tablename__ = "inspection_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    room_code: Mapped[str] = mapped_column(String(30))
    item_code: Mapped[str] = mapped_column(String(30))
    result: Mapped[str] = mapped_column(String(10))  # ok | defect | na
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_checks.id"))
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)  # on the tablet, if offline


class Defect(Supersedes, CreatedAt, Base):
    __tablename__ = "defects"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    room: Mapped[str] = mapped_column(String(40))  # room code (or free text for old rows)
    item: Mapped[str] = mapped_column(String(60))  # checklist item code
    category: Mapped[str | None] = mapped_column(String(40))  # category code
    category_id: Mapped[int | None] = mapped_column(ForeignKey("defect_categories.id"))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10), default="minor")  # minor | major | critical
    # Where on the unit type's floor plan, as fractions of its width and height (0..1).
    pin_x: Mapped[float | None]
    pin_y: Mapped[float | None]
    known_issue_id: Mapped[int | None] = mapped_column(ForeignKey("known_issues.id"))
    photo_path: Mapped[str | None] = mapped_column(String(255))  # stage 1; photos: DefectPhoto
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    rectified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # voided: a correction that removes a defect recorded by mistake (the row stays).
    voided: Mapped[bool] = mapped_column(default=False)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("defects.id"))
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)

    photos: Mapped[list[DefectPhoto]] = relationship(order_by="DefectPhoto.id")


class DefectPhoto(CreatedAt, Base):
    __tablename__ = "defect_photos"
    __table_args__ = (UniqueConstraint("defect_id", "file_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defects.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    file: Mapped[StoredFile] = relationship()


class KnownIssueCheck(Supersedes, CreatedAt, Base):
    """The inspector's answer on a known issue for this visit: fixed, or still open."""

    __tablename__ = "known_issue_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    known_issue_id: Mapped[int] = mapped_column(ForeignKey("known_issues.id"), index=True)
    result: Mapped[str] = mapped_column(String(20))  # fixed | still_open
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("known_issue_checks.id"))
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)


class InspectionResult(Supersedes, CreatedAt, Base):
    """The acceptance form's outcome, signed by the owner."""

    __tablename__ = "inspection_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(30))  # accepted | accepted_with_defects | refused
    reason: Mapped[str | None] = mapped_column(Text)  # refusal reasons
    promised_date: Mapped[date | None] = mapped_column(Date)  # rectification promised by
    signer_name: Mapped[str | None] = mapped_column(String(60))
    signature_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_results.id"))
    client_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)


class KeyHandover(Supersedes, CreatedAt, Base):
    """The key set handed over and counted, meter readings, the owner's signature."""

    __tablename__ = "key_handovers"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # Stage 1 columns, kept for old rows; readings live in MeterReading.
    water_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    power_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    gas_reading: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    shortfall: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(60))
    signature_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    print_job_id: Mapped[int | None] = mapped_column(ForeignKey("print_jobs.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("key_handovers.id"))

    items: Mapped[list[KeyHandoverItem]] = relationship(order_by="KeyHandoverItem.id")
    readings: Mapped[list[MeterReading]] = relationship(order_by="MeterReading.id")


class KeyHandoverItem(Base):
    __tablename__ = "key_handover_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_handover_id: Mapped[int] = mapped_column(ForeignKey("key_handovers.id"), index=True)
    key_item_type_id: Mapped[int] = mapped_column(ForeignKey("key_item_types.id"))
    expected: Mapped[int]
    handed: Mapped[int]
    serials: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(200))  # why short

    key_item_type: Mapped[KeyItemType] = relationship()


class MeterReading(Base):
    __tablename__ = "meter_readings"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_handover_id: Mapped[int] = mapped_column(ForeignKey("key_handovers.id"), index=True)
    meter_type_id: Mapped[int] = mapped_column(ForeignKey("meter_types.id"))
    meter_no: Mapped[str | None] = mapped_column(String(40))
    reading: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    meter_type: Mapped[MeterType] = relationship()


class OwnerRequest(CreatedAt, Base):
    """客户诉求: raised on site at any step, routed to a department, followed up after."""

    __tablename__ = "owner_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # sales | construction_quality | design | property_service | customer_service | other
    category: Mapped[str] = mapped_column(String(30), default="other")
    # The item asked about (电梯, 车库渗水 ...): widely raised requests group by category+item.
    item: Mapped[str | None] = mapped_column(String(60))
    department: Mapped[str | None] = mapped_column(String(40))  # Department.code
    urgency: Mapped[str] = mapped_column(String(10), default="normal")  # normal | urgent
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | answered | closed
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
