"""Report use cases that write something: the audited full-contact export and the tally slip
sent to a printer. Building a report itself only reads (server/reports/)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Forbidden, NotFound
from server.models import Printer, PrintJob, Staff
from server.printing import jobs
from server.reports.daily import build_daily
from server.reports.model import Report
from server.reports.render_slip import render_slip

from . import audit
from .actor import Actor

# Who may export the no-shows' full names and phone numbers (the page always masks them).
CONTACT_ROLES = ("supervisor", "admin")


def can_see_contacts(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in CONTACT_ROLES


def daily_for_export(
    session: Session,
    *,
    project_id: int,
    day: date,
    actor: Actor,
    locale: str,
    full_contacts: bool,
    fmt: str,
) -> Report:
    """The daily report for a file export. Full contacts only for supervisors and admins, and
    every such export is written to the audit log (who, when, which day, which format)."""
    if full_contacts and not can_see_contacts(actor):
        raise Forbidden("contacts_forbidden", "Only supervisors and admins may export contacts.")
    report = build_daily(session, project_id, day, locale=locale, reveal_contacts=full_contacts)
    if full_contacts:
        audit.record(
            session,
            actor,
            "report.export_contacts",
            "report",
            None,
            report="daily",
            day=day.isoformat(),
            format=fmt,
            rows=len(report.section("no_shows").tables[0].rows),
        )
        session.commit()
    return report


def printers(session: Session, project_id: int) -> list[Printer]:
    return list(
        session.scalars(
            select(Printer)
            .where(Printer.project_id == project_id, Printer.enabled.is_(True))
            .order_by(Printer.id)
        )
    )


def print_daily_tally(
    session: Session,
    *,
    project_id: int,
    day: date,
    printer_id: int,
    actor: Actor,
    locale: str = "zh_CN",
) -> PrintJob:
    """Queues the day's tally slip on the chosen printer (the print worker sends it)."""
    printer = session.get(Printer, printer_id)
    if printer is None or printer.project_id != project_id:
        raise NotFound("unknown_printer", "Unknown printer.")
    report = build_daily(session, project_id, day, locale=locale)
    staff_name = None
    if actor.staff_id is not None:
        staff_name = session.scalar(select(Staff.display_name).where(Staff.id == actor.staff_id))
    receipt = render_slip(report, printed_at=clock.now(), staff_name=staff_name)
    job = jobs.enqueue(session, kind="daily_tally", receipt=receipt, printer=printer)
    audit.record(session, actor, "report.print_tally", "printer", printer.id, day=day.isoformat())
    session.commit()
    return job


def followup_for_export(
    session: Session, *, project_id: int, actor: Actor, locale: str, full_contacts: bool
) -> Report:
    """The follow-up list for the XLSX export; full phone numbers as for the daily report."""
    from server.reports.followup import followup_report

    if full_contacts and not can_see_contacts(actor):
        raise Forbidden("contacts_forbidden", "Only supervisors and admins may export contacts.")
    report = followup_report(session, project_id, locale=locale, reveal_contacts=full_contacts)
    if full_contacts:
        audit.record(
            session,
            actor,
            "report.export_contacts",
            "report",
            None,
            report="followup",
            format="xlsx",
            rows=len(report.section("cases").tables[0].rows),
        )
        session.commit()
    return report
