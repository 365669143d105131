"""The day's plan (岗位设置): steps in order, counters and which steps each serves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

counter_steps = Table(
    "counter_steps",
    Base.metadata,
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    Column("step_id", ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True),
)


class Step(Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))  # "verify", "fees", "sign", "inspect", "keys"
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)
    ticket_prefix: Mapped[str] = mapped_column(String(4), default="A")
    # Used for the wait estimate until today's own measurements exist.
    default_service_minutes: Mapped[int] = mapped_column(default=8)
    active: Mapped[bool] = mapped_column(default=True)
    # Which panel the counter shows: verify | fees | sign | inspect | keys | generic.
    kind: Mapped[str] = mapped_column(String(20), default="generic")
    # A required step must be done (or skipped by a supervisor) before later ones that need it.
    required: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "W01"
    name_zh: Mapped[str] = mapped_column(String(40))  # "1号窗口"
    name_en: Mapped[str] = mapped_column(String(60))  # "Counter 1"
    area: Mapped[str | None] = mapped_column(String(40))  # display filter, e.g. "A区"
    # Where an owner finds it: "大厅A区 1号窗口", for inspection teams the building they go to.
    location_zh: Mapped[str | None] = mapped_column(String(80))
    location_en: Mapped[str | None] = mapped_column(String(120))
    is_open: Mapped[bool] = mapped_column(default=True)
    # The staff member who holds this counter now (one at a time; a supervisor may take over).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    staffed_since: Mapped[datetime | None] = mapped_column(DateTime)

    steps: Mapped[list[Step]] = relationship(secondary=counter_steps, order_by="Step.sort")

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh
