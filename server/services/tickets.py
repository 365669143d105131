"""The printed queue ticket: queued in the same transaction as the check-in it belongs to.

Only the receipt's content is decided here (a small dict); drawing it into printer bytes is
the print worker's job, off the request path."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.engine import OPEN_STATES, State, estimated_wait_minutes, typical_service_minutes
from server.models import Printer, PrintJob, Visit
from server.printing import jobs
from server.printing.receipts import TicketData, ticket_receipt

from . import service_times, snapshots


def printer_for(session: Session, device_id: int | None) -> Printer | None:
    """None when this kiosk has no printer: the ticket on screen is then the ticket."""
    return jobs.printer_for(session, device_id=device_id) if device_id is not None else None


def queue_ticket_print(
    session: Session,
    visit: Visit,
    *,
    printer: Printer,
    project_name: str,
    status_url: str,
    device_id: int | None,
    locale: str = "zh_CN",
) -> PrintJob:
    en = locale == "en"
    current = next((s for s in visit.steps if s.state in OPEN_STATES), None)
    ahead = wait = None
    if current is not None and current.state == State.WAITING:
        ahead = snapshots.people_ahead(session, current)
        measured = service_times.by_step(session, visit.project_id, visit.day)
        minutes = typical_service_minutes(
            measured.get(current.step_id, []), current.step.default_service_minutes
        )
        n_open = snapshots.open_counters(session, visit.project_id, current.step_id)
        wait = estimated_wait_minutes(ahead, minutes, n_open)
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
    return jobs.enqueue(
        session,
        kind="ticket",
        receipt=ticket_receipt(data, "en" if en else "zh_CN"),
        printer=printer,
        device_id=device_id,
        visit_id=visit.id,
        now=visit.checked_in_at,
    )
