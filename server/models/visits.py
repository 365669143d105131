"""The day's queue: visits, one row per visit and step, and every transition as its own row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.engine.states import State, VisitStatus

from .base import Base
from .plan import Counter, Step
from .project import Appointment, Owner, Unit


def _enum(cls) -> SAEnum:
    """The engine's enum on a VARCHAR(20) column holding its values (no CHECK constraint: the
    schema stays what the migrations made; the ORM refuses unknown values)."""
    return SAEnum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Visit(Base):
    """One owner party handling one unit on one day; one ticket number for the whole day."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("project_id", "day", "ticket_no"),
        Index("ix_visits_unit_day", "unit_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    day: Mapped[date] = mapped_column(Date)
    ticket_no: Mapped[str] = mapped_column(String(10))
    # Unguessable; the ticket's QR leads to /s/<token>. Owners never log in.
    status_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus), default=VisitStatus.ACTIVE)
    priority_class: Mapped[str] = mapped_column(String(20), default="normal")
    # Asked for at the kiosk (elderly, disabled, pregnant); staff confirm it into priority_class.
    priority_requested: Mapped[str | None] = mapped_column(String(20))
    # Who came: owner | co_owner | agent (the counter then checks the power of attorney).
    party_role: Mapped[str] = mapped_column(String(20), default="owner")
    # Accepted without an appointment today, by the project's walk-in policy.
    walk_in: Mapped[bool] = mapped_column(default=False)
    agent_name: Mapped[str | None] = mapped_column(String(60))  # 受托人, with power of attorney
    checked_in_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    current_step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    owner: Mapped[Owner | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    current_step: Mapped[Step | None] = relationship()
    steps: Mapped[list[VisitStep]] = relationship(
        back_populates="visit", order_by="VisitStep.sort", cascade="all, delete-orphan"
    )


class VisitStep(Base):
    """A visit's place at one step. Only one of a visit's rows is ever waiting/called/serving/held."""

    __tablename__ = "visit_steps"
    __table_args__ = (
        UniqueConstraint("visit_id", "step_id"),
        # call-next reads exactly this: today's waiting rows of some steps, in queue order.
        Index(
            "ix_visit_steps_queue", "state", "step_id", "day", "priority_rank", "queue_at", "seq"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    # The visit's day (it never changes), kept here so the queue's hot statements find today's
    # waiting rows of a step in one index without joining visits: with that join, PostgreSQL
    # without statistics on today's rows (a fresh database, the morning's first hundreds of
    # check-ins) chose a nested loop over the day's visits, quadratic in the queue's length.
    # The step already implies the project (a step belongs to one project).
    day: Mapped[date] = mapped_column(Date)
    sort: Mapped[int] = mapped_column(default=0)
    state: Mapped[State] = mapped_column(_enum(State), default=State.PENDING)
    # Queue order: priority class, then the time the visit fairly joined, then check-in order.
    priority_rank: Mapped[int] = mapped_column(default=1)
    queue_at: Mapped[datetime | None] = mapped_column(DateTime)
    seq: Mapped[int] = mapped_column(default=0)
    recall_count: Mapped[int] = mapped_column(default=0)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    called_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit] = relationship(back_populates="steps")
    step: Mapped[Step] = relationship()
    counter: Mapped[Counter | None] = relationship()


class StepTransition(Base):
    """Append-only: waits, service times, reports and the simulator all derive from these rows."""

    __tablename__ = "step_transitions"
    __table_args__ = (Index("ix_step_transitions_step_at", "step_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    visit_step_id: Mapped[int] = mapped_column(ForeignKey("visit_steps.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class TicketCounter(Base):
    """Last ticket sequence per project, day and prefix: numbers are never reused that day."""

    __tablename__ = "ticket_counters"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
