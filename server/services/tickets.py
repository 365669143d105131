"""The printed queue ticket: queued in the same transaction as the check-in it belongs to.

Only the receipt's content is decided here (a small dict); drawing it into printer bytes is
the print worker's job, off the request path."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Integer, bindparam, select, tuple_
from sqlalchemy.orm import Session

from server.engine import State, estimated_wait_minutes, typical_service_minutes
from server.models import Printer, PrintJob, Project, Step, Visit, VisitStep
from server.printing import jobs
from server.printing.receipt import Receipt
from server.printing.receipts import TicketData, ticket_receipt

from . import queue_rules, service_times, snapshots


def printer_for(
    session: Session, device_id: int | None, counter_id: int | None = None
) -> Printer | None:
    """None when this kiosk has no printer: the ticket on screen is then the ticket.
    `counter_id`: a check-in by staff prints at their counter or the help desk."""
    if device_id is None and counter_id is None:
        return None
    return jobs.printer_for(session, device_id=device_id, counter_id=counter_id)


# Every check-in asks it. Everyone already waiting with the same (priority, queue time) checked
# in earlier, hence <=.
_vs = VisitStep.__table__.c
_AHEAD_ON_JOINING = queue_rules.WAITING_AT_STEP.where(
    tuple_(_vs.priority_rank, _vs.queue_at)
    <= tuple_(bindparam("rank", type_=Integer), bindparam("queue_at", type_=DateTime))
)
# With the step's open counters, in one statement (their parameters are the same).
_AHEAD_AND_OPEN = select(
    _AHEAD_ON_JOINING.scalar_subquery(), snapshots.OPEN_COUNTERS.scalar_subquery()
)


def estimate(
    session: Session,
    *,
    project_id: int,
    day: date,
    step: Step,
    rank: int,
    queue_at: datetime,
) -> tuple[int, int | None]:
    """People ahead and minutes to wait for a visit about to join `step`'s queue. Asked before
    the ticket number is taken, so that PostgreSQL's lock on it is not held for these reads."""
    ahead, n_open = session.execute(
        _AHEAD_AND_OPEN,
        {
            "project_id": project_id,
            "day": day,
            "step_id": step.id,
            "rank": rank,
            "queue_at": queue_at,
        },
    ).one()
    measured = service_times.by_step(session, project_id, day).get(step.id, [])
    minutes = typical_service_minutes(measured, step.default_service_minutes)
    return ahead, estimated_wait_minutes(ahead, minutes, n_open)


def ticket_receipt_for(
    visit: Visit,
    *,
    project_name: str,
    status_url: str,
    ahead: int | None,
    wait: int | None,
    locale: str = "zh_CN",
) -> Receipt:
    """What the ticket of `visit` says (its unit and steps loaded)."""
    en = locale == "en"
    todo = [s for s in visit.steps if s.state in (State.WAITING, State.PENDING)]
    data = TicketData(
        project_name=project_name,
        ticket_no=visit.ticket_no,
        unit_label=visit.unit.label_en if en else visit.unit.label,
        checked_in_at=visit.checked_in_at,
        status_url=status_url,
        steps=[s.step.name("en" if en else "zh_CN") for s in todo],
        estimated_wait_min=wait,
        people_ahead=ahead,
    )
    return ticket_receipt(data, "en" if en else "zh_CN")


def queue_ticket_print(
    session: Session,
    visit: Visit,
    *,
    printer: Printer,
    project_name: str,
    status_url: str,
    device_id: int | None,
    ahead: int | None,
    wait: int | None,
    locale: str = "zh_CN",
    counter_id: int | None = None,
) -> PrintJob:
    return jobs.enqueue(
        session,
        kind="ticket",
        receipt=ticket_receipt_for(
            visit,
            project_name=project_name,
            status_url=status_url,
            ahead=ahead,
            wait=wait,
            locale=locale,
        ),
        printer=printer,
        device_id=device_id,
        counter_id=counter_id,
        visit_id=visit.id,
        now=visit.checked_in_at,
    )


def queue_ticket_again(
    session: Session,
    visit: Visit,
    *,
    status_url: str,
    device_id: int | None,
    counter_id: int | None,
    locale: str = "zh_CN",
) -> PrintJob | None:
    """The same ticket printed again (the owner scanned a second time); None without a
    printer. Not the hot path: the place in the queue is read from the visit's status."""
    printer = printer_for(session, device_id, counter_id)
    if printer is None:
        return None
    current = snapshots.visit_status(session, visit)["current"] or {}
    return queue_ticket_print(
        session,
        visit,
        printer=printer,
        project_name=session.get(Project, visit.project_id).name,
        status_url=status_url,
        device_id=device_id,
        ahead=current.get("people_ahead"),
        wait=current.get("estimated_wait"),
        locale=locale,
        counter_id=counter_id,
    )
