"""Check-in at the kiosk (or by staff): one visit, one ticket number for the whole day."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
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
from server.printing import jobs as print_jobs

from . import audit, checkin_rows, events, helpdesk, lookup, tickets, transitions
from .actor import Actor

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


def _ticket_seq_statement(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    return (
        insert(table)
        .values(
            project_id=bindparam("project_id"),
            day=bindparam("day"),
            prefix=bindparam("prefix"),
            last_seq=1,
        )
        .on_conflict_do_update(
            index_elements=["project_id", "day", "prefix"],
            set_={"last_seq": table.c.last_seq + 1},
        )
        .returning(table.c.last_seq)
    )


# The statements every check-in runs, built once per process; those that load no ORM object
# are on the tables and run as plain SQL (checkin_rows.run). See checkin_rows for why.
_TICKET_SEQ = {dialect: _ticket_seq_statement(dialect) for dialect in ("postgresql", "sqlite")}
_p = Project.__table__.c
# A row with the project's attributes that check-in and lookup.unit_for_code/booked read.
_PROJECT = select(_p.id, _p.code, _p.name, _p.early_grace_minutes, _p.walk_in_allowed).where(
    _p.id == bindparam("project_id")
)
_PRINCIPAL_OWNER = (
    select(Owner)
    .join(UnitOwner, UnitOwner.owner_id == Owner.id)
    .where(UnitOwner.unit_id == bindparam("unit_id"))
    .order_by(UnitOwner.position)
    .limit(1)
)
_ACTIVE_STEPS = (
    select(Step).where(Step.project_id == bindparam("project_id"), Step.active).order_by(Step.sort)
)
_a = Appointment.__table__.c
_APPOINTMENTS = select(_a.id, _a.day, _a.slot_start, _a.slot_end).where(
    _a.unit_id == bindparam("unit_id")
)
_v = Visit.__table__.c
_CHECKED_IN_TODAY = select(_v.ticket_no).where(
    _v.unit_id == bindparam("unit_id"),
    _v.day == bindparam("day"),
    _v.status.in_((VisitStatus.ACTIVE, VisitStatus.FINISHED)),
)


def next_ticket_seq(session: Session, project_id: int, day, prefix: str) -> int:
    """Atomic increment; the row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises it."""
    stmt = _TICKET_SEQ[session.get_bind().dialect.name]
    return checkin_rows.run(
        session, stmt, {"project_id": project_id, "day": day, "prefix": prefix}
    ).scalar_one()


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
    return session.scalar(_PRINCIPAL_OWNER, {"unit_id": unit_id})


def _refuse_if_checked_in(session: Session, unit: Unit, now: datetime) -> None:
    existing = checkin_rows.run(
        session, _CHECKED_IN_TODAY, {"unit_id": unit.id, "day": now.date()}
    ).scalar()
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
    project = checkin_rows.run(session, _PROJECT, {"project_id": project_id}).first()
    if project is None:
        raise NotFound("unknown_project", "Unknown project.")
    unit = _unit(session, project, code, unit_id, secret)
    # lookup.arrival's checks, in its order, on plain rows: only the ticket number of today's
    # visit (if any) is needed here, and of the appointments their day and slot.
    lookup.refuse_handed_over(unit)
    _refuse_if_checked_in(session, unit, now)
    found = lookup.booked(
        project, checkin_rows.run(session, _APPOINTMENTS, {"unit_id": unit.id}).all(), now
    )
    appt = found.appointment
    owner = principal_owner(session, unit.id)
    steps = session.scalars(_ACTIVE_STEPS, {"project_id": project_id}).all()
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
    row = checkin_rows.visit_row(
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
    visit_id = checkin_rows.insert_visit(session, row)
    # Every step carries the ticket's sequence: check-in order breaks ties in each queue. The
    # first one waits from the start; its history row follows once the row has an id.
    step_rows = [
        checkin_rows.step_row(
            visit_id=visit_id,
            step_id=step.id,
            day=row["day"],
            sort=i,
            state=State.WAITING if i == 0 else State.PENDING,
            priority_rank=rank,
            queue_at=queue_at if i == 0 else None,
            seq=seq,
        )
        for i, step in enumerate(steps)
    ]
    ids = checkin_rows.insert_steps(session, step_rows)
    visit = Visit(id=visit_id, **row)
    visit.unit, visit.owner = unit, owner
    visit.steps = [
        VisitStep(id=ids[r["step_id"]], step=step, **r)
        for r, step in zip(step_rows, steps, strict=True)
    ]
    first = visit.steps[0]
    transition, enqueued = transitions.history(first, State.PENDING, Action.ENQUEUE, actor, now)
    checkin_rows.run(session, transitions.INSERT_TRANSITION, transition)
    checked_in = audit.values(
        actor,
        "visit.check_in",
        "visit",
        visit_id,
        ticket_no=visit.ticket_no,
        unit_id=unit.id,
        appointment_id=visit.appointment_id,
        walk_in=visit.walk_in or None,
        party_role=party_role,
        priority_requested=priority_requested,
    )
    checkin_rows.run(session, transitions.INSERT_AUDIT, [enqueued, checked_in])
    if printer is not None:
        receipt = tickets.ticket_receipt_for(
            visit,
            project_name=project.name,
            status_url=status_url(visit.status_token),
            ahead=ahead,
            wait=wait,
            locale=locale,
        )
        checkin_rows.run(
            session,
            checkin_rows.INSERT_PRINT_JOB,
            print_jobs.job_values(
                kind="ticket",
                receipt=receipt,
                printer_id=printer.id,
                device_id=actor.device_id,
                counter_id=counter_id,
                visit_id=visit_id,
                now=now,
            ),
        )
    session.commit()
    checkin_rows.attach(session, visit)
    events.visit_changed(session, visit.id)
    return visit
