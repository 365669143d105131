"""Check-in at the kiosk (or by staff): one visit, one ticket number for the whole day."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from server import clock
from server.db import reading, writing
from server.engine import (
    Action,
    Invalid,
    NotFound,
    State,
    VisitStatus,
    fair_queue_time,
    format_ticket,
    priority_rank,
)
from server.models import (
    Appointment,
    Owner,
    Project,
    Step,
    TicketCounter,
    Unit,
    UnitOwner,
    Visit,
    VisitStep,
)

from . import audit, events, tickets
from .actor import Actor
from .transitions import record

_CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def normalise_code(raw: str) -> str:
    """Scanners type the QR text followed by Enter; some prefix a URL. Keep just the code."""
    text = (raw or "").strip()
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    if not _CODE.match(text):
        raise Invalid(
            "bad_code",
            "This is not a handover notice code. Please scan the QR code on your handover notice.",
        )
    return text


def next_ticket_seq(session: Session, project_id: int, day, prefix: str) -> int:
    """Atomic increment; the row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(TicketCounter)
        .values(project_id=project_id, day=day, prefix=prefix, last_seq=1)
        .on_conflict_do_update(
            index_elements=["project_id", "day", "prefix"],
            set_={"last_seq": TicketCounter.last_seq + 1},
        )
        .returning(TicketCounter.last_seq)
    )
    return session.execute(stmt).scalar_one()


def find_unit(session: Session, project_id: int, code: str) -> tuple[Unit, Owner | None]:
    """The unit of a notice code (with its building) and its principal owner, in one query."""
    first_owner = (
        select(UnitOwner.owner_id)
        .where(UnitOwner.unit_id == Unit.id)
        .order_by(UnitOwner.position)
        .limit(1)
        .scalar_subquery()
    )
    row = session.execute(
        select(Unit, Owner)
        .outerjoin(Owner, Owner.id == first_owner)
        .where(Unit.project_id == project_id, Unit.notice_code == code)
        .options(joinedload(Unit.building))
    ).first()
    if row is None:
        raise NotFound(
            "unknown_code",
            "This code is not on our list for this project. Please ask a staff member for help.",
        )
    return row[0], row[1]


def _appointment_for(
    session: Session, unit: Unit, project: Project, now: datetime
) -> Appointment | None:
    appointments = session.scalars(
        select(Appointment).where(Appointment.unit_id == unit.id).order_by(Appointment.day)
    ).all()
    today = now.date()
    for appt in appointments:
        if appt.day == today:
            return appt
    upcoming = [a for a in appointments if a.day > today]
    if upcoming:
        a = upcoming[0]
        raise Invalid(
            "wrong_day",
            "Your appointment is on %(day)s, %(start)s–%(end)s. Please come back then.",
            day=a.day.isoformat(),
            start=a.slot_start.strftime("%H:%M"),
            end=a.slot_end.strftime("%H:%M"),
        )
    if not project.walk_in_allowed:
        raise Invalid(
            "no_appointment",
            "There is no appointment for this unit today. Please ask a staff member.",
        )
    return None  # missed appointment or none at all: served as a walk-in


def _refuse_if_checked_in(session: Session, unit: Unit, now: datetime) -> None:
    existing = session.scalar(
        select(Visit.ticket_no).where(
            Visit.unit_id == unit.id,
            Visit.day == now.date(),
            Visit.status.in_((VisitStatus.ACTIVE, VisitStatus.FINISHED)),
        )
    )
    if existing is not None:
        raise Invalid(
            "already_checked_in",
            "Already checked in today: your number is %(ticket)s.",
            ticket=existing,
        )


def check_in(
    session: Session,
    *,
    project_id: int,
    code: str,
    actor: Actor,
    priority_class: str = "normal",
    agent_name: str | None = None,
    now: datetime | None = None,
    status_url: Callable[[str], str] | None = None,
    locale: str = "zh_CN",
) -> Visit:
    """`status_url(token)` gives the owner's status link; with it, the kiosk's printer (if any)
    gets the ticket in the same transaction, so a printed ticket always has a visit and a
    visit always has its print job.

    The ticket number is taken last, just before the inserts and the commit: on PostgreSQL its
    row lock is what every kiosk queues on, so it is held for as short a time as possible."""
    now = now or clock.now()
    code = normalise_code(code)
    # What the ticket is made of is read without the write lock; only the one check a second
    # kiosk could race (already checked in) is repeated under it, right before the inserts.
    reading(session)
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("unknown_project", "Unknown project.")
    unit, owner = find_unit(session, project_id, code)
    if unit.handed_over:
        raise Invalid("already_handed_over", "This unit has already been handed over.")
    _refuse_if_checked_in(session, unit, now)
    appt = _appointment_for(session, unit, project, now)
    steps = session.scalars(
        select(Step).where(Step.project_id == project_id, Step.active).order_by(Step.sort)
    ).all()
    if not steps:
        raise Invalid("no_steps", "No steps are configured for this project.")
    printer = tickets.printer_for(session, actor.device_id) if status_url is not None else None
    slot_start = datetime.combine(appt.day, appt.slot_start) if appt else None
    queue_at = fair_queue_time(now, slot_start, timedelta(minutes=project.early_grace_minutes))
    rank = priority_rank(priority_class)
    if printer is not None:
        ahead, wait = tickets.estimate(
            session,
            project_id=project_id,
            day=now.date(),
            step=steps[0],
            rank=rank,
            queue_at=queue_at,
        )

    writing(session)
    _refuse_if_checked_in(session, unit, now)
    prefix = steps[0].ticket_prefix
    seq = next_ticket_seq(session, project_id, now.date(), prefix)
    visit = Visit(
        project_id=project_id,
        unit_id=unit.id,
        owner_id=owner.id if owner else None,
        appointment_id=appt.id if appt else None,
        day=now.date(),
        ticket_no=format_ticket(prefix, seq),
        status_token=secrets.token_urlsafe(24),
        priority_class=priority_class,
        agent_name=agent_name,
        checked_in_at=now,
        current_step_id=steps[0].id,
    )
    visit.unit, visit.owner = unit, owner
    # Every step carries the ticket's sequence: check-in order breaks ties in each queue.
    for i, step in enumerate(steps):
        visit.steps.append(VisitStep(step_id=step.id, sort=i, priority_rank=rank, seq=seq))
    first = visit.steps[0]
    first.state = State.WAITING  # its history row follows once the row has an id
    first.queue_at = queue_at
    session.add(visit)
    session.flush()
    record(session, first, State.PENDING, Action.ENQUEUE, actor, now)
    audit.record(
        session,
        actor,
        "visit.check_in",
        "visit",
        visit.id,
        ticket_no=visit.ticket_no,
        unit_id=unit.id,
        appointment_id=visit.appointment_id,
    )
    if printer is not None:
        tickets.queue_ticket_print(
            session,
            visit,
            printer=printer,
            project_name=project.name,
            status_url=status_url(visit.status_token),
            device_id=actor.device_id,
            ahead=ahead,
            wait=wait,
            locale=locale,
        )
    session.commit()
    events.visit_changed(session, visit.id)
    return visit
