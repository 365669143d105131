"""The printed queue ticket: queued in the same transaction as the check-in it belongs to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.models import PrintJob, Project, Visit
from server.printing import jobs
from server.printing.receipts import TicketData, ticket_receipt

from . import snapshots


def queue_ticket_print(
    session: Session,
    visit: Visit,
    *,
    status_url: str,
    device_id: int | None,
    locale: str = "zh_CN",
    counter_id: int | None = None,
) -> PrintJob | None:
    """None when this kiosk has no printer: the ticket on screen is then the ticket.
    `counter_id`: a check-in by staff prints at their counter or the help desk."""
    printer = jobs.printer_for(session, device_id=device_id, counter_id=counter_id)
    if printer is None:
        return None
    session.flush()
    status = snapshots.visit_status(session, visit)
    current = status["current"] or {}
    en = locale == "en"
    todo = [s for s in visit.steps if s.state in ("waiting", "pending")]
    data = TicketData(
        project_name=session.get(Project, visit.project_id).name,
        ticket_no=visit.ticket_no,
        unit_label=visit.unit.label_en if en else visit.unit.label,
        checked_in_at=visit.checked_in_at,
        status_url=status_url,
        steps=[s.step.name("en" if en else "zh_CN") for s in todo],
        estimated_wait_min=current.get("estimated_wait"),
        people_ahead=current.get("people_ahead"),
    )
    return jobs.enqueue(
        session,
        kind="ticket",
        receipt=ticket_receipt(data, "en" if en else "zh_CN"),
        printer=printer,
        device_id=device_id,
        counter_id=counter_id,
        visit_id=visit.id,
        now=visit.checked_in_at,
    )
