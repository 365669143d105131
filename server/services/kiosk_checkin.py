"""The kiosk's check-in: a new ticket, or (already checked in today) the same ticket again.

An owner who scans twice never gets a second number: the kiosk shows the ticket they have and
prints it again (reprints at most once a minute, so a scanner held too long does not empty
the roll).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid, NotFound
from server.models import PrintJob, Unit, Visit

from . import audit, checkin, helpdesk, lookup, tickets
from .actor import Actor

REPRINT_GAP = timedelta(seconds=60)


@dataclass(frozen=True)
class KioskResult:
    visit: Visit
    again: bool  # already checked in: the same ticket, reprinted


def check_in_or_reprint(
    session: Session,
    *,
    project_id: int,
    unit_id: int,
    actor: Actor,
    party_role: str = "owner",
    priority_requested: str | None = None,
    status_url: Callable[[str], str],
    locale: str = "zh_CN",
) -> KioskResult:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.project_id != project_id:
        raise NotFound("unknown_unit", "Unknown unit.")
    visit = lookup.todays_visit(session, unit, clock.today())
    if visit is None:
        try:
            visit = checkin.check_in(
                session,
                project_id=project_id,
                unit_id=unit_id,
                actor=actor,
                party_role=party_role,
                priority_requested=priority_requested,
                status_url=status_url,
                locale=locale,
            )
            return KioskResult(visit, False)
        except Invalid as err:
            if err.code != "already_checked_in":  # the same owner at the next kiosk, just now
                raise
            session.rollback()
            visit = lookup.todays_visit(session, unit, clock.today())
            assert visit is not None
    reprint(session, visit, actor=actor, status_url=status_url, locale=locale)
    return KioskResult(visit, True)


def reprint(
    session: Session, visit: Visit, *, actor: Actor, status_url: Callable[[str], str], locale: str
) -> None:
    now = clock.now()
    printed_at = session.scalars(
        select(PrintJob.created_at)
        .where(PrintJob.visit_id == visit.id, PrintJob.kind == "ticket")
        .order_by(PrintJob.id)
    ).all()
    # The check-in's own ticket does not count: the owner may need it again at once (jammed,
    # torn); reprints themselves are spaced out.
    recent = any(at >= now - REPRINT_GAP for at in printed_at[1:])
    job = None
    if not recent:
        job = tickets.queue_ticket_again(
            session,
            visit,
            status_url=status_url(visit.status_token),
            device_id=actor.device_id,
            counter_id=helpdesk.printing_counter(session, actor, visit.project_id),
            locale=locale,
        )
    audit.record(
        session,
        actor,
        "visit.ticket_again",
        "visit",
        visit.id,
        ticket_no=visit.ticket_no,
        printed=job is not None,
    )
    session.commit()
