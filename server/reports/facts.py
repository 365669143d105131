"""What happened to each visit and each appointed unit over some days, read in a few
column-only queries (no ORM objects: a 1,000-visit day stays fast).

A visit's result is one of three, so the three always add up to the visits checked in:
- handed_over: the visit has a current key handover row (keys counted and signed);
- refused:     not handed over and its current inspection outcome is `refused`;
- unfinished:  anything else (left, cancelled, sent out as a no-show at a counter, still in
  the queue at closing, finished with the keys step skipped ...).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    Appointment,
    Building,
    InspectionResult,
    KeyHandover,
    Owner,
    Project,
    Unit,
    UnitOwner,
    Visit,
)

from .current import current_by

HANDED_OVER, REFUSED, UNFINISHED = "handed_over", "refused", "unfinished"


@dataclass
class UnitInfo:
    id: int
    building_id: int
    building: str
    label: str
    handed_over: bool
    owner_name: str | None = None
    owner_phone: str | None = None


@dataclass
class ApptInfo:
    id: int
    unit_id: int
    day: date
    slot_start: time
    slot_end: time
    batch: str | None

    @property
    def slot(self) -> str:
        return f"{self.slot_start:%H:%M}–{self.slot_end:%H:%M}"


@dataclass
class VisitFact:
    id: int
    unit_id: int
    day: date
    ticket_no: str
    status: str
    appointment_id: int | None
    checked_in_at: datetime
    finished_at: datetime | None
    cancel_reason: str | None
    party_role: str
    owner_id: int | None
    outcome: str | None = None  # current inspection outcome
    outcome_reason: str | None = None
    outcome_at: datetime | None = None
    outcome_staff_id: int | None = None
    keys_at: datetime | None = None  # current key handover row's time
    first_inspection: bool = False  # the unit's first-ever inspection outcome is this visit's

    @property
    def result(self) -> str:
        if self.keys_at is not None:
            return HANDED_OVER
        if self.outcome == "refused":
            return REFUSED
        return UNFINISHED


@dataclass
class Facts:
    project: Project
    first: date
    last: date
    locale: str
    units: dict[int, UnitInfo]
    buildings: list[tuple[int, str]]  # (id, name) in the project's order
    appointments: list[ApptInfo]
    visits: list[VisitFact]
    # unit id -> the day its keys were first handed over (any day up to `last`)
    handed_over_on: dict[int, date] = field(default_factory=dict)

    def visits_on(self, day: date) -> list[VisitFact]:
        return [v for v in self.visits if v.day == day]

    def appointments_on(self, day: date) -> list[ApptInfo]:
        return [a for a in self.appointments if a.day == day]


def unit_label(building: str, entrance: str, room: str, building_code: str, locale: str) -> str:
    if locale.startswith("en"):
        return f"Bldg {building_code}-{entrance}-{room}"
    return f"{building}{entrance}单元{room}"


def load(session: Session, project_id: int, first: date, last: date, locale: str) -> Facts:
    project = session.get(Project, project_id)
    buildings = (
        session.connection()
        .execute(
            select(Building.id, Building.name, Building.code)
            .where(Building.project_id == project_id)
            .order_by(Building.sort, Building.id)
        )
        .all()
    )
    bname = {b.id: (b.name, b.code) for b in buildings}
    units: dict[int, UnitInfo] = {}
    for u in session.connection().execute(
        select(Unit.id, Unit.building_id, Unit.entrance, Unit.room, Unit.handed_over).where(
            Unit.project_id == project_id
        )
    ):
        name, code = bname[u.building_id]
        units[u.id] = UnitInfo(
            u.id,
            u.building_id,
            name if not locale.startswith("en") else f"Bldg {code}",
            unit_label(name, u.entrance, u.room, code, locale),
            u.handed_over,
        )
    # Principal owner (lowest position) of every unit: names and phones for no-shows, letters.
    for row in session.connection().execute(
        select(UnitOwner.unit_id, Owner.name, Owner.phone)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(Owner.project_id == project_id)
        .order_by(UnitOwner.unit_id, UnitOwner.position.desc(), UnitOwner.id.desc())
    ):
        info = units.get(row.unit_id)
        if info is not None:
            info.owner_name, info.owner_phone = row.name, row.phone

    appointments = [
        ApptInfo(a.id, a.unit_id, a.day, a.slot_start, a.slot_end, a.batch)
        for a in session.connection().execute(
            select(
                Appointment.id,
                Appointment.unit_id,
                Appointment.day,
                Appointment.slot_start,
                Appointment.slot_end,
                Appointment.batch,
            )
            .where(
                Appointment.project_id == project_id,
                Appointment.day >= first,
                Appointment.day <= last,
            )
            .order_by(Appointment.day, Appointment.slot_start, Appointment.unit_id)
        )
    ]
    visits = [
        VisitFact(
            v.id,
            v.unit_id,
            v.day,
            v.ticket_no,
            v.status,
            v.appointment_id,
            v.checked_in_at,
            v.finished_at,
            v.cancel_reason,
            v.party_role,
            v.owner_id,
        )
        for v in session.connection().execute(
            select(
                Visit.id,
                Visit.unit_id,
                Visit.day,
                Visit.ticket_no,
                Visit.status,
                Visit.appointment_id,
                Visit.checked_in_at,
                Visit.finished_at,
                Visit.cancel_reason,
                Visit.party_role,
                Visit.owner_id,
            )
            .where(Visit.project_id == project_id, Visit.day >= first, Visit.day <= last)
            .order_by(Visit.day, Visit.checked_in_at, Visit.id)
        )
    ]
    by_id = {v.id: v for v in visits}

    # Every inspection outcome of the project up to `last` (earlier days decide "first time").
    results = (
        session.connection()
        .execute(
            select(
                InspectionResult.id,
                InspectionResult.visit_id,
                InspectionResult.outcome,
                InspectionResult.reason,
                InspectionResult.created_at,
                InspectionResult.staff_id,
                InspectionResult.supersedes_id,
                Visit.unit_id,
                Visit.day,
            )
            .join(Visit, Visit.id == InspectionResult.visit_id)
            .where(Visit.project_id == project_id, Visit.day <= last)
        )
        .all()
    )
    current_result = current_by(results, lambda r: r.visit_id)
    first_inspected: dict[int, tuple[date, datetime, int]] = {}
    for r in current_result.values():
        key = (r.day, r.created_at, r.visit_id)
        if r.unit_id not in first_inspected or key < first_inspected[r.unit_id]:
            first_inspected[r.unit_id] = key
        v = by_id.get(r.visit_id)
        if v is not None:
            v.outcome, v.outcome_reason = r.outcome, r.reason
            v.outcome_at, v.outcome_staff_id = r.created_at, r.staff_id
    for _day, _at, visit_id in first_inspected.values():
        if visit_id in by_id:
            by_id[visit_id].first_inspection = True

    keys = (
        session.connection()
        .execute(
            select(
                KeyHandover.id,
                KeyHandover.visit_id,
                KeyHandover.unit_id,
                KeyHandover.created_at,
                KeyHandover.supersedes_id,
                Visit.day,
            )
            .join(Visit, Visit.id == KeyHandover.visit_id)
            .where(Visit.project_id == project_id, Visit.day <= last)
        )
        .all()
    )
    handed_over_on: dict[int, date] = {}
    for k in current_by(keys, lambda r: r.visit_id).values():
        if k.unit_id not in handed_over_on or k.day < handed_over_on[k.unit_id]:
            handed_over_on[k.unit_id] = k.day
        v = by_id.get(k.visit_id)
        if v is not None:
            v.keys_at = k.created_at
    return Facts(
        project=project,
        first=first,
        last=last,
        locale=locale,
        units=units,
        buildings=[(b.id, units_building_name(b, locale)) for b in buildings],
        appointments=appointments,
        visits=visits,
        handed_over_on=handed_over_on,
    )


def units_building_name(b, locale: str) -> str:
    return f"Bldg {b.code}" if locale.startswith("en") else b.name


def group(items, key):
    out = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return out
