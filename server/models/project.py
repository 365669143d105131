"""The development being handed over: project, buildings, units, owners, appointments."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt


class Project(CreatedAt, Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    venue: Mapped[str | None] = mapped_column(String(200))
    # Arrivals this many minutes before their slot count as on time (appointment fairness).
    early_grace_minutes: Mapped[int] = mapped_column(default=30)
    walk_in_allowed: Mapped[bool] = mapped_column(default=True)
    # The plan's queue rules; None: the server's configuration (MAX_RECALLS, NO_SHOW_POLICY).
    max_recalls: Mapped[int | None]
    no_show_policy: Mapped[str | None] = mapped_column(String(20))
    # Floor view colours: a step's longest current wait above these turns amber / red.
    wait_amber_minutes: Mapped[int] = mapped_column(default=20)
    wait_red_minutes: Mapped[int] = mapped_column(default=40)
    # On notices and urging letters.
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))

    buildings: Mapped[list[Building]] = relationship(
        back_populates="project", order_by="Building.sort"
    )


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "3"
    name: Mapped[str] = mapped_column(String(50))  # "3栋"
    sort: Mapped[int] = mapped_column(default=0)

    project: Mapped[Project] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")


class UnitType(Base):
    """户型: units of one layout share a floor plan (for pinning defects)."""

    __tablename__ = "unit_types"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))  # "A1"
    name: Mapped[str] = mapped_column(String(60))  # "A1户型 三室两厅"
    area_m2: Mapped[float | None]
    floor_plan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "entrance", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    entrance: Mapped[str] = mapped_column(String(10))  # 单元 "2"
    room: Mapped[str] = mapped_column(String(10))  # 房号 "1201"
    floor: Mapped[int] = mapped_column(default=1)
    area_m2: Mapped[float | None]
    # Printed on the handover notice as a QR code; the kiosk scans it.
    notice_code: Mapped[str] = mapped_column(String(64), unique=True)
    handed_over: Mapped[bool] = mapped_column(default=False)
    unit_type_id: Mapped[int | None] = mapped_column(ForeignKey("unit_types.id"))

    building: Mapped[Building] = relationship(back_populates="units")
    unit_type: Mapped[UnitType | None] = relationship()
    owners: Mapped[list[UnitOwner]] = relationship(
        back_populates="unit", order_by="UnitOwner.position"
    )
    appointments: Mapped[list[Appointment]] = relationship(back_populates="unit")

    @property
    def label(self) -> str:
        """`3栋2单元1201`: how everyone on site names a unit."""
        return f"{self.building.name}{self.entrance}单元{self.room}"

    @property
    def label_en(self) -> str:
        return f"Bldg {self.building.code}-{self.entrance}-{self.room}"


class Owner(CreatedAt, Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    id_last4: Mapped[str | None] = mapped_column(String(4))
    # The whole ID number (身份证号): the import's stable key; shown masked except to roles
    # that need it. id_last6 serves the kiosk's manual lookup.
    id_number: Mapped[str | None] = mapped_column(String(30), index=True)
    id_last6: Mapped[str | None] = mapped_column(String(6))

    @property
    def masked_phone(self) -> str:
        p = self.phone or ""
        return f"{p[:3]}****{p[-4:]}" if len(p) >= 7 else "****"

    @property
    def masked_name(self) -> str:
        """Public screens show 张*明, never the whole name."""
        n = self.name
        if len(n) <= 1:
            return n
        if len(n) == 2:
            return n[0] + "*"
        return n[0] + "*" * (len(n) - 2) + n[-1]


class UnitOwner(Base):
    """Co-owners of one unit; position 0 is the principal buyer."""

    __tablename__ = "unit_owners"
    __table_args__ = (UniqueConstraint("unit_id", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    unit: Mapped[Unit] = relationship(back_populates="owners")
    owner: Mapped[Owner] = relationship()


class Appointment(Base):
    """Which day and slot a unit's owners are invited for (预约/批次/时段)."""

    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    slot_start: Mapped[time] = mapped_column(Time)
    slot_end: Mapped[time] = mapped_column(Time)
    batch: Mapped[str | None] = mapped_column(String(40))  # "第一批 上午"

    unit: Mapped[Unit] = relationship(back_populates="appointments")
