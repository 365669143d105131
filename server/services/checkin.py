"""Check-in at the kiosk (or by staff): one visit, one ticket number for the whole day."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server import clock
from server.db import reading, writing
from server.engine import (
    Action,
    Forbidden,
    Invalid,
    NotFound,
    State,
    VisitStatus,
    fair_queue_time,
    format_ticket,
    priority_rank,
)
from server.models import (
    Owner,
    Project,
    Step,
    TicketCounter,
    Unit,
    UnitOwner,
    Visit,
    VisitStep,
)

from . import audit, events, helpdesk, lookup, tickets
from .actor import Actor
from .transitions import record

_CODE = re.compile(r"^[A-Za-z0-9_.-]{6,80}$")  # plain notice codes and signed HD1.… codes


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


def _unit(
    session: Session, project: Project, code: str | None, unit_id: int | None, secret: str | None
) -> Unit:
    if unit_id is not None:  # found by the kiosk's lookup a moment ago (confirm token)
        unit = session.get(Unit, unit_id)
        if unit is None or unit.project_id != project.id:
            raise NotFound("unknown_unit", "Unknown unit.")
        return unit
    return lookup.unit_for_code(session, project, normalise_code(code or ""), secret)


def principal_owner(session: Session, unit_id: int) -> Owner | None:
    return session.scalar(
        select(Owner)
        .join(UnitOwner, UnitOwner.owner_id == Owner.id)
        .where(UnitOwner.unit_id == unit_id)
        .order_by(UnitOwner.position)
        .limit(1)
    )


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
    code: str | None = None,
    actor: Actor,
    priority_class: str = "normal",
    agent_name: str | None = None,
    now: datetime | None = None,
    status_url: Callable[[str], str] | None = None,
    locale: str = "zh_CN",
    unit_id: int | None = None,
    secret: str | None = None,
    party_role: str = "owner",
    priority_requested: str | None = None,
) -> Visit:
    """`status_url(token)` gives the owner's status link; with it, the kiosk's printer (if any)
    gets the ticket in the same transaction, so a printed ticket always has a visit and a
    visit always has its print job. `secret` verifies signed notice codes. A device (kiosk)
    cannot set `priority_class`: it passes the owner's `priority_requested` for staff to confirm.

    The ticket number is taken last, just before the inserts and the commit: on PostgreSQL its
    row lock is what every kiosk queues on, so it is held for as short a time as possible."""
    now = now or clock.now()
    if actor.device_id is not None and priority_class != "normal":
        raise Forbidden(
            "priority_by_device",
            "A kiosk cannot set a priority. Mark the need and staff will confirm it.",
        )
    if party_role not in lookup.PARTY_ROLES or priority_requested not in (
        None,
        *lookup.PRIORITY_NEEDS,
    ):
        raise Invalid("bad_field", "Invalid value for %(field)s.", field="party_role")
    # What the ticket is made of is read without the write lock; only the one check a second
    # kiosk could race (already checked in) is repeated under it, right before the inserts.
    reading(session)
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("unknown_project", "Unknown project.")
    unit = _unit(session, project, code, unit_id, secret)
    found = lookup.arrival(session, project, unit, now)
    if found.visit is not None:
        raise Invalid(
            "already_checked_in",
            "Already checked in today: your number is %(ticket)s.",
            ticket=found.visit.ticket_no,
        )
    appt = found.appointment
    owner = principal_owner(session, unit.id)
    steps = session.scalars(
        select(Step).where(Step.project_id == project_id, Step.active).order_by(Step.sort)
    ).all()
    if not steps:
        raise Invalid("no_steps", "No steps are configured for this project.")
    printer = None
    counter_id = None
    if status_url is not None:
        counter_id = helpdesk.printing_counter(session, actor, project_id)
        printer = tickets.printer_for(session, actor.device_id, counter_id)
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
        priority_requested=priority_requested,
        party_role=party_role,
        walk_in=found.walk_in,
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
        walk_in=visit.walk_in or None,
        party_role=party_role,
        priority_requested=priority_requested,
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
            counter_id=counter_id,
        )
    session.commit()
    events.visit_changed(session, visit.id)
    return visit
