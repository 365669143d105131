"""交付后续: a follow-up case for every unit not handed over, and what staff do with it.

`open_cases_after_day` runs after a handover day (from the follow-up page or
`handover report followup`): it finds or creates one open case per unit and kind, so running
it twice, or after the inspection screen already opened a case at a refusal, never makes a
second case. A case whose unit has since been handed over is closed with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Forbidden, Invalid, NotFound
from server.i18n import translate
from server.models import (
    Appointment,
    CaseNote,
    Department,
    FollowUpCase,
    Staff,
    Step,
    Visit,
    VisitStep,
)
from server.reports import facts as F

from . import audit
from .actor import Actor

KINDS = ("refused", "no_show", "unfinished", "not_appointed")
STATUSES = ("open", "in_progress", "closed")
# Which department owns the next action, by kind: a Department whose code or Chinese name is
# one of these (the first found), else none.
OWNER_DEPARTMENT = {
    "refused": ("engineering", "project", "工程部"),
    "no_show": ("customer_service", "cs", "客服部"),
    "unfinished": ("customer_service", "cs", "客服部"),
    "not_appointed": ("customer_service", "cs", "客服部"),
}
FOLLOW_UP_DAYS = 3  # the procedure: within 3 days to the departments that follow up


def _(msgid: str, **params) -> str:
    """Reasons are stored as text in the project's language (Chinese)."""
    return translate(msgid, "zh_CN", params or None)


@dataclass
class RunResult:
    created: dict[str, int]
    existing: int
    closed: int

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def department_for(session: Session, project_id: int, kind: str) -> str | None:
    wanted = OWNER_DEPARTMENT.get(kind, ())
    depts = session.execute(
        select(Department.code, Department.name_zh).where(Department.project_id == project_id)
    ).all()
    for w in wanted:
        for d in depts:
            if w in (d.code, d.name_zh):
                return d.code
    return None


def _unfinished_reason(session: Session, v: F.VisitFact) -> str:
    if v.status == "cancelled":
        return _("Visit cancelled: %(reason)s", reason=v.cancel_reason or "-")
    step = session.execute(
        select(Step.name_zh)
        .join(VisitStep, VisitStep.step_id == Step.id)
        .where(
            VisitStep.visit_id == v.id,
            VisitStep.state.in_(("waiting", "called", "serving", "held", "no_show")),
        )
        .limit(1)
    ).scalar()
    if v.status == "out":
        return _("Did not answer the call at %(step)s", step=step or "-")
    if v.status == "active":
        return _("Still at %(step)s when the day ended", step=step or "-")
    return _("Finished without the key handover")


def find_or_create(
    session: Session,
    *,
    project_id: int,
    unit_id: int,
    kind: str,
    reason: str | None,
    opened_on: date,
    visit_id: int | None = None,
    department: str | None = None,
) -> tuple[FollowUpCase, bool]:
    """The open case of this unit and kind, or a new one (not committed)."""
    if kind not in KINDS:
        raise Invalid("bad_case_kind", "Unknown case kind: %(kind)s", kind=kind)
    case = session.scalar(
        select(FollowUpCase).where(
            FollowUpCase.unit_id == unit_id,
            FollowUpCase.kind == kind,
            FollowUpCase.status != "closed",
        )
    )
    if case is not None:
        return case, False
    case = FollowUpCase(
        project_id=project_id,
        unit_id=unit_id,
        visit_id=visit_id,
        kind=kind,
        reason=reason,
        department=department or department_for(session, project_id, kind),
        status="open",
        opened_on=opened_on,
        due_on=opened_on + timedelta(days=FOLLOW_UP_DAYS),
    )
    session.add(case)
    session.flush()
    return case, True


def open_cases_after_day(
    session: Session, *, project_id: int, day: date, actor: Actor, now: datetime | None = None
) -> RunResult:
    """Every unit not handed over after `day` gets an open case (refused, no-show, unfinished
    on that day; never appointed at all); cases of units handed over since are closed."""
    result = open_cases(session, project_id=project_id, day=day, actor=actor, now=now)
    audit.record(
        session,
        actor,
        "followup.run",
        "project",
        project_id,
        day=day.isoformat(),
        created=result.total_created,
        closed=result.closed,
    )
    session.commit()
    return result


def open_cases(
    session: Session,
    *,
    project_id: int,
    day: date,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> RunResult:
    """The work of `open_cases_after_day`, not committed (the demo seeding uses it too)."""
    now = now or clock.now()
    staff_id = actor.staff_id if actor else None
    facts = F.load(session, project_id, day, day, "zh_CN")
    handed = {u.id for u in facts.units.values() if u.handed_over} | set(facts.handed_over_on)
    created = dict.fromkeys(KINDS, 0)
    existing = 0

    def add(unit_id, kind, reason, visit_id=None):
        nonlocal existing
        if unit_id in handed:
            return
        _case, new = find_or_create(
            session,
            project_id=project_id,
            unit_id=unit_id,
            kind=kind,
            reason=reason,
            opened_on=day,
            visit_id=visit_id,
        )
        if new:
            created[kind] += 1
        else:
            existing += 1

    visits = facts.visits_on(day)
    visited = {v.unit_id for v in visits}
    for v in visits:
        if v.result == F.REFUSED:
            add(
                v.unit_id,
                "refused",
                _("Refused at inspection: %(reason)s", reason=v.outcome_reason or "-"),
                v.id,
            )
        elif v.result == F.UNFINISHED:
            add(v.unit_id, "unfinished", _unfinished_reason(session, v), v.id)
    for a in facts.appointments_on(day):
        if a.unit_id not in visited:
            add(
                a.unit_id,
                "no_show",
                _("Appointed for %(day)s %(slot)s, did not come", day=day.isoformat(), slot=a.slot),
            )
    ever_appointed = set(
        session.scalars(select(Appointment.unit_id).where(Appointment.project_id == project_id))
    )
    ever_visited = set(session.scalars(select(Visit.unit_id).where(Visit.project_id == project_id)))
    for unit_id in sorted(set(facts.units) - ever_appointed - ever_visited):
        add(unit_id, "not_appointed", _("No appointment was made for this unit"))

    closed = 0
    for case in session.scalars(
        select(FollowUpCase).where(
            FollowUpCase.project_id == project_id,
            FollowUpCase.status != "closed",
            FollowUpCase.unit_id.in_(handed) if handed else false(),
        )
    ):
        case.status, case.closed_at = "closed", now
        session.add(
            CaseNote(
                case_id=case.id,
                text=_("Handed over; closed automatically"),
                staff_id=staff_id,
                created_at=now,
            )
        )
        closed += 1
    return RunResult(created, existing, closed)


def _case(session: Session, project_id: int, case_id: int) -> FollowUpCase:
    case = session.get(FollowUpCase, case_id)
    if case is None or case.project_id != project_id:
        raise NotFound("unknown_case", "Unknown follow-up case.")
    return case


def _need(actor: Actor, role: str) -> None:
    from server.auth import ROLE_LEVEL

    if not actor.is_staff or ROLE_LEVEL.get(actor.role or "", 0) < ROLE_LEVEL[role]:
        raise Forbidden("forbidden", "You are not allowed to do this.")


def assign(
    session: Session,
    *,
    project_id: int,
    case_id: int,
    staff_id: int | None,
    department: str | None,
    actor: Actor,
) -> FollowUpCase:
    """Supervisors and admins give a case to a department and a person."""
    _need(actor, "supervisor")
    case = _case(session, project_id, case_id)
    if case.status == "closed":
        raise Invalid("case_closed", "This case is closed.")
    if staff_id is not None and session.get(Staff, staff_id) is None:
        raise NotFound("unknown_staff", "Unknown staff member.")
    if department and not session.scalar(
        select(Department.id).where(
            Department.project_id == project_id, Department.code == department
        )
    ):
        raise NotFound("unknown_department", "Unknown department.")
    case.assigned_to_id = staff_id
    if department:
        case.department = department
    case.status = "in_progress" if staff_id else case.status
    audit.record(
        session,
        actor,
        "case.assign",
        "follow_up_case",
        case.id,
        staff_id=staff_id,
        department=department,
    )
    session.commit()
    return case


def add_note(
    session: Session, *, project_id: int, case_id: int, text: str, actor: Actor
) -> CaseNote:
    """Any staff member notes what was done (called the owner, promised a date ...)."""
    _need(actor, "staff")
    text = (text or "").strip()
    if not text:
        raise Invalid("note_required", "Please write the note.")
    if len(text) > 2000:
        raise Invalid("note_too_long", "The note is too long.")
    case = _case(session, project_id, case_id)
    note = CaseNote(case_id=case.id, text=text, staff_id=actor.staff_id, created_at=clock.now())
    session.add(note)
    if case.status == "open":
        case.status = "in_progress"
    audit.record(session, actor, "case.note", "follow_up_case", case.id)
    session.commit()
    return note


def close(
    session: Session, *, project_id: int, case_id: int, note: str, actor: Actor
) -> FollowUpCase:
    """Supervisors and admins close a case, saying why."""
    _need(actor, "supervisor")
    note = (note or "").strip()
    if not note:
        raise Invalid("reason_required", "Please give a reason.")
    case = _case(session, project_id, case_id)
    if case.status == "closed":
        raise Invalid("case_closed", "This case is closed.")
    now = clock.now()
    case.status, case.closed_at, case.closed_by_id = "closed", now, actor.staff_id
    session.add(CaseNote(case_id=case.id, text=note, staff_id=actor.staff_id, created_at=now))
    audit.record(session, actor, "case.close", "follow_up_case", case.id)
    session.commit()
    return case
