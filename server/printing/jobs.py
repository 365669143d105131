"""The print queue as rows. Services call these inside their own transaction: enqueue() only
adds a row, so printing can never slow down or break a check-in; the worker does the rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from server import clock
from server.models.printing import JOB_KINDS, Printer, PrintJob

from .receipt import Receipt

# Built once: asked on every check-in at a kiosk.
_ENABLED_PRINTER = {
    column.key: select(Printer)
    .where(column == bindparam("value"), Printer.enabled.is_(True))
    .order_by(Printer.id)
    .limit(1)
    for column in (Printer.device_id, Printer.counter_id)
}


def printer_for(
    session: Session, *, device_id: int | None = None, counter_id: int | None = None
) -> Printer | None:
    """The enabled printer assigned to a device (a kiosk's own) or else to a counter."""
    for key, value in (("device_id", device_id), ("counter_id", counter_id)):
        if value is None:
            continue
        found = session.scalar(_ENABLED_PRINTER[key], {"value": value})
        if found:
            return found
    return None


def job_values(
    *,
    kind: str,
    receipt: Receipt,
    printer_id: int | None,
    device_id: int | None = None,
    counter_id: int | None = None,
    visit_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """A new job's columns: enqueue() adds it as an object, the check-in inserts it as is."""
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {JOB_KINDS}: {kind!r}")
    return {
        "printer_id": printer_id,
        "kind": kind,
        "payload": receipt.to_dict(),
        "state": "queued",
        "attempts": 0,
        "next_attempt_at": now or clock.now(),
        "source_device_id": device_id,
        "source_counter_id": counter_id,
        "visit_id": visit_id,
    }


def enqueue(
    session: Session,
    *,
    kind: str,
    receipt: Receipt,
    printer: Printer | int | None = None,
    device_id: int | None = None,
    counter_id: int | None = None,
    visit_id: int | None = None,
    now: datetime | None = None,
) -> PrintJob:
    """Add a print job to the session without committing: the caller's commit makes the
    receipt and the business record it belongs to durable together."""
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {JOB_KINDS}: {kind!r}")
    if printer is None:
        printer = printer_for(session, device_id=device_id, counter_id=counter_id)
    job = PrintJob(
        **job_values(
            kind=kind,
            receipt=receipt,
            printer_id=printer.id if isinstance(printer, Printer) else printer,
            device_id=device_id,
            counter_id=counter_id,
            visit_id=visit_id,
            now=now,
        )
    )
    if isinstance(printer, Printer):
        job.printer = printer
    session.add(job)
    return job


def reprint(
    session: Session, job_id: int, printer_id: int | None = None, now: datetime | None = None
) -> PrintJob:
    """Print a job again, optionally on another printer. Not committed.

    A job not printed yet (queued or failed) is moved, so it cannot come out twice when its
    first printer comes back; so is an unsure one (a staff member checked and decided). A job already sent (or in flight) is copied into a new job that
    points at the original; the original row stays as the record of what was printed.
    """
    job = session.get(PrintJob, job_id)
    if job is None:
        raise LookupError(f"print job {job_id} not found")
    now = now or clock.now()
    target = printer_id if printer_id is not None else job.printer_id
    if job.state in ("queued", "failed", "unsure"):
        job.printer_id = target
        job.state = "queued"
        job.next_attempt_at = now
        job.last_error = None
        return job
    copy = PrintJob(
        printer_id=target,
        kind=job.kind,
        payload=job.payload,
        state="queued",
        attempts=0,
        next_attempt_at=now,
        source_device_id=job.source_device_id,
        source_counter_id=job.source_counter_id,
        visit_id=job.visit_id,
        reprint_of_id=job.id,
    )
    session.add(copy)
    return copy


def receipt_of(job: PrintJob) -> Receipt:
    return Receipt.from_dict(job.payload)


def _problems(*columns):
    """This counter's receipts that have not come out (failed, or retried while the printer is
    off or out of paper), newest first."""
    counter_id = bindparam("counter_id")
    return (
        select(*columns)
        .outerjoin(Printer, Printer.id == PrintJob.printer_id)
        .where(
            or_(Printer.counter_id == counter_id, PrintJob.source_counter_id == counter_id),
            or_(
                PrintJob.state.in_(("failed", "unsure")),
                and_(PrintJob.state == "queued", PrintJob.attempts > 0),
            ),
        )
        .order_by(PrintJob.id.desc())
        .limit(bindparam("limit"))
    )


_PROBLEM_JOBS = _problems(PrintJob)
# What the counter's answer shows of them, as plain rows: it is built after every press.
_PROBLEM_ROWS = _problems(
    PrintJob.id,
    PrintJob.kind,
    PrintJob.state,
    PrintJob.attempts,
    PrintJob.last_error,
    Printer.name.label("printer"),
)


def problem_jobs(session: Session, *, counter_id: int, limit: int = 10) -> list[PrintJob]:
    """This counter's receipts that have not come out: staff must see them and can print
    them again."""
    return list(session.scalars(_PROBLEM_JOBS, {"counter_id": counter_id, "limit": limit}))


def problem_rows(conn: Connection, *, counter_id: int, limit: int = 10):
    """problem_jobs as rows: id, kind, state, attempts, last_error, printer (its name)."""
    return conn.execute(_PROBLEM_ROWS, {"counter_id": counter_id, "limit": limit}).all()
