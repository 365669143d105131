"""What staff do with printers and print jobs: add, check, test, switch off, print again."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server import clock
from server.actor import Actor
from server.models import Printer, PrintJob
from server.printing import jobs, worker
from server.printing.receipts import test_page_receipt

from . import audit


def reprint(
    session: Session,
    job_id: int,
    *,
    actor: Actor,
    printer_id: int | None = None,
    counter_id: int | None = None,
) -> PrintJob:
    """Print a job again (optionally on another printer), audited as print_job.reprint."""
    new = jobs.reprint(session, job_id, printer_id=printer_id)
    session.flush()
    audit.record(
        session,
        actor,
        "print_job.reprint",
        "print_job",
        job_id,
        new_job_id=new.id,
        printer_id=new.printer_id,
        counter_id=counter_id,
    )
    session.commit()
    return new


def add_printer(session: Session, printer: Printer, *, actor: Actor) -> Printer:
    session.add(printer)
    session.flush()
    audit.record(session, actor, "printer.create", "printer", printer.id, name=printer.name)
    session.commit()
    return printer


def check_printer(session: Session, printer: Printer, timeout: float = 2.0) -> None:
    """Ask the printer how it is now and keep the answer (the admin's "check" button)."""
    worker.probe(session, printer, timeout=timeout)
    session.commit()


def print_test_page(session: Session, printer: Printer, *, actor: Actor) -> PrintJob:
    receipt = test_page_receipt(printer.name, printer.mode, printer.paper_width_mm, clock.now())
    job = jobs.enqueue(session, kind="test", receipt=receipt, printer=printer)
    session.flush()
    audit.record(session, actor, "printer.test", "printer", printer.id, job_id=job.id)
    session.commit()
    return job


def toggle_printer(session: Session, printer: Printer, *, actor: Actor) -> None:
    printer.enabled = not printer.enabled
    audit.record(session, actor, "printer.toggle", "printer", printer.id, enabled=printer.enabled)
    session.commit()
