"""The follow-up list (交付后续): open cases with reason, owning department, status and dates,
and the widely raised owner requests (same category and item across many units) first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import clock
from server.i18n import translate
from server.models import (
    Building,
    CaseNote,
    Department,
    FollowUpCase,
    OwnerRequest,
    Project,
    Staff,
    Unit,
    UrgingLetter,
    Visit,
)

from .daily import category_word, mask_phone
from .facts import unit_label
from .model import Column, Figure, Report, Section, Table

WIDE_MIN_UNITS = 3  # "widely raised": the same category and item from at least this many units


@dataclass
class CaseRow:
    id: int
    unit_id: int
    unit: str
    owner: str
    phone: str
    kind: str
    kind_label: str
    reason: str
    department: str
    status: str
    status_label: str
    assigned_to: str
    opened_on: date
    due_on: date | None
    closed_at: datetime | None
    notes: int
    last_note: str
    letters: int
    last_letter_on: date | None


@dataclass
class WideRequest:
    category: str
    item: str
    units: int
    requests: int
    open: int
    departments: str


def kind_words(locale: str) -> dict[str, str]:
    def _(m):
        return translate(m, locale)

    return {
        "refused": _("Refused"),
        "no_show": _("Did not come"),
        "unfinished": _("Unfinished"),
        "not_appointed": _("Not appointed"),
    }


def status_words(locale: str) -> dict[str, str]:
    def _(m):
        return translate(m, locale)

    return {"open": _("Open case"), "in_progress": _("In progress"), "closed": _("Closed")}


def _dept_names(session: Session, pid: int, en: bool) -> dict[str, str]:
    return {
        d.code: (d.name_en or d.name_zh) if en else d.name_zh
        for d in session.execute(
            select(Department.code, Department.name_zh, Department.name_en).where(
                Department.project_id == pid
            )
        )
    }


def list_cases(
    session: Session,
    project_id: int,
    *,
    locale: str = "zh_CN",
    status: str | None = None,
    kind: str | None = None,
    reveal_contacts: bool = False,
) -> list[CaseRow]:
    en = locale.startswith("en")
    from server.models import Owner, UnitOwner

    stmt = (
        select(FollowUpCase, Unit.entrance, Unit.room, Building.name, Building.code)
        .join(Unit, Unit.id == FollowUpCase.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(FollowUpCase.project_id == project_id)
    )
    if status == "active":
        stmt = stmt.where(FollowUpCase.status != "closed")
    elif status:
        stmt = stmt.where(FollowUpCase.status == status)
    if kind:
        stmt = stmt.where(FollowUpCase.kind == kind)
    rows = session.execute(stmt.order_by(FollowUpCase.opened_on, FollowUpCase.id)).all()
    ids = [r[0].id for r in rows]
    unit_ids = {r[0].unit_id for r in rows}
    owners: dict[int, tuple[str, str | None]] = {}
    for o in session.execute(
        select(UnitOwner.unit_id, Owner.name, Owner.phone)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(UnitOwner.unit_id.in_(unit_ids))
        .order_by(UnitOwner.unit_id, UnitOwner.position.desc())
    ):
        owners[o.unit_id] = (o.name, o.phone)
    notes: dict[int, list[str]] = defaultdict(list)
    for n in session.execute(
        select(CaseNote.case_id, CaseNote.text)
        .where(CaseNote.case_id.in_(ids))
        .order_by(CaseNote.id)
    ):
        notes[n.case_id].append(n.text)
    letters = {
        r.case_id: (r.n, r.last)
        for r in session.execute(
            select(
                UrgingLetter.case_id,
                func.count().label("n"),
                func.max(UrgingLetter.sent_on).label("last"),
            )
            .where(UrgingLetter.case_id.in_(ids))
            .group_by(UrgingLetter.case_id)
        )
    }
    staff = dict(session.execute(select(Staff.id, Staff.display_name)).all())
    depts = _dept_names(session, project_id, en)
    kinds, statuses = kind_words(locale), status_words(locale)
    out = []
    for case, entrance, room, bname, bcode in rows:
        name, phone = owners.get(case.unit_id, ("", None))
        n, last = letters.get(case.id, (0, None))
        out.append(
            CaseRow(
                id=case.id,
                unit_id=case.unit_id,
                unit=unit_label(bname, entrance, room, bcode, locale),
                owner=name,
                phone=(phone or "") if reveal_contacts else mask_phone(phone),
                kind=case.kind,
                kind_label=kinds.get(case.kind, case.kind),
                reason=case.reason or "",
                department=depts.get(case.department, case.department or ""),
                status=case.status,
                status_label=statuses.get(case.status, case.status),
                assigned_to=staff.get(case.assigned_to_id, ""),
                opened_on=case.opened_on,
                due_on=case.due_on,
                closed_at=case.closed_at,
                notes=len(notes[case.id]),
                last_note=notes[case.id][-1] if notes[case.id] else "",
                letters=n,
                last_letter_on=last,
            )
        )
    return out


def wide_requests(
    session: Session, project_id: int, *, locale: str = "zh_CN", min_units: int = WIDE_MIN_UNITS
) -> list[WideRequest]:
    """Requests with the same category and item from at least `min_units` units, most first."""
    rows = session.execute(
        select(
            OwnerRequest.category,
            OwnerRequest.item,
            OwnerRequest.unit_id,
            OwnerRequest.status,
            OwnerRequest.department,
            Visit.unit_id.label("visit_unit"),
        )
        .outerjoin(Visit, Visit.id == OwnerRequest.visit_id)
        .where(OwnerRequest.project_id == project_id, OwnerRequest.item.is_not(None))
    ).all()
    groups: dict[tuple, list] = defaultdict(list)
    for r in rows:
        groups[(r.category, r.item.strip())].append(r)
    depts = _dept_names(session, project_id, locale.startswith("en"))
    out = []
    for (cat, item), rs in groups.items():
        units = {r.unit_id or r.visit_unit for r in rs} - {None}
        if len(units) < min_units:
            continue
        out.append(
            WideRequest(
                category=category_word(cat, locale),
                item=item,
                units=len(units),
                requests=len(rs),
                open=sum(r.status == "open" for r in rs),
                departments="、".join(
                    sorted({depts.get(r.department, r.department) for r in rs if r.department})
                ),
            )
        )
    out.sort(key=lambda w: (-w.units, -w.requests, w.category, w.item))
    return out


def followup_report(
    session: Session,
    project_id: int,
    *,
    locale: str = "zh_CN",
    status: str | None = "active",
    reveal_contacts: bool = False,
) -> Report:
    def _(m):
        return translate(m, locale)

    project = session.get(Project, project_id)
    cases = list_cases(
        session, project_id, locale=locale, status=status, reveal_contacts=reveal_contacts
    )
    wide = wide_requests(session, project_id, locale=locale)
    wide_t = Table(
        "wide_requests",
        _("Widely raised owner requests"),
        [
            Column(_("Category")),
            Column(_("Item")),
            Column(_("Units"), "int"),
            Column(_("Requests"), "int"),
            Column(_("Still open"), "int"),
            Column(_("Department")),
        ],
        [[w.category, w.item, w.units, w.requests, w.open, w.departments] for w in wide],
    )
    case_t = Table(
        "cases",
        _("Units not handed over"),
        [
            Column(_("Case")),
            Column(_("Unit")),
            Column(_("Owner")),
            Column(_("Phone")),
            Column(_("Kind")),
            Column(_("Reason")),
            Column(_("Department")),
            Column(_("Status")),
            Column(_("Assigned to")),
            Column(_("Opened on"), "date"),
            Column(_("Due on"), "date"),
            Column(_("Closed at"), "datetime"),
            Column(_("Last note")),
            Column(_("Letters sent"), "int"),
            Column(_("Last letter on"), "date"),
        ],
        [
            [
                c.id,
                c.unit,
                c.owner,
                c.phone,
                c.kind_label,
                c.reason,
                c.department,
                c.status_label,
                c.assigned_to,
                c.opened_on,
                c.due_on,
                c.closed_at,
                c.last_note,
                c.letters,
                c.last_letter_on,
            ]
            for c in cases
        ],
    )
    by_kind = defaultdict(int)
    for c in cases:
        by_kind[c.kind_label] += 1
    return Report(
        kind="summary",
        title=_("Follow-up list"),
        project_name=(project.name_en or project.name) if locale == "en" else project.name,
        period=clock.today().isoformat(),
        generated_at=clock.now(),
        locale=locale,
        headline=[Figure("cases", _("Cases"), len(cases))]
        + [Figure(f"kind_{k}", k, n) for k, n in by_kind.items()],
        sections=[
            Section("wide_requests", _("Widely raised owner requests"), tables=[wide_t]),
            Section("cases", _("Units not handed over"), tables=[case_t]),
        ],
    )
