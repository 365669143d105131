"""交房汇总统计表: the handover summary over a date range or the whole project.

One row per day with the daily report's outcome figures (same definitions, see daily.py),
the defects and owner requests recorded that day, and the cumulative progress: units whose
keys had been handed over by the end of that day (any earlier day counts) against all units
of the project. The totals row adds the days up; its cumulative figures are the last day's.
"""

from __future__ import annotations

from collections import Counter as Tally
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server import clock
from server.i18n import translate
from server.models import Appointment, Defect, OwnerRequest, Visit

from . import facts as F
from .current import heads
from .model import Chart, Column, Figure, Report, Section, Series, Table


def project_span(session: Session, project_id: int) -> tuple[date, date]:
    """First and last day with an appointment or a visit (today when there is none)."""
    days = [
        d
        for d in (
            session.scalar(
                select(func.min(Appointment.day)).where(Appointment.project_id == project_id)
            ),
            session.scalar(
                select(func.max(Appointment.day)).where(Appointment.project_id == project_id)
            ),
            session.scalar(select(func.min(Visit.day)).where(Visit.project_id == project_id)),
            session.scalar(select(func.max(Visit.day)).where(Visit.project_id == project_id)),
        )
        if d is not None
    ]
    if not days:
        today = clock.today()
        return today, today
    return min(days), max(days)


def build_summary(
    session: Session,
    project_id: int,
    first: date | None = None,
    last: date | None = None,
    *,
    locale: str = "zh_CN",
    now: datetime | None = None,
) -> Report:
    def _(m: str) -> str:
        return translate(m, locale)

    span = project_span(session, project_id)
    # Days still to come are not part of the summary unless asked for.
    first, last = first or span[0], last or max(span[0], min(span[1], clock.today()))
    if last < first:
        first, last = last, first
    facts = F.load(session, project_id, first, last, locale)
    defects = session.execute(
        select(Defect.id, Defect.supersedes_id, Defect.voided, Visit.day)
        .join(Visit, Visit.id == Defect.visit_id)
        .where(Visit.project_id == project_id, Visit.day >= first, Visit.day <= last)
    ).all()
    defects_by_day = Tally(d.day for d in heads(defects) if not d.voided)
    start, end = datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())
    req_times = session.scalars(
        select(OwnerRequest.created_at)
        .outerjoin(Visit, Visit.id == OwnerRequest.visit_id)
        .where(
            or_(OwnerRequest.project_id == project_id, Visit.project_id == project_id),
            OwnerRequest.created_at >= start,
            OwnerRequest.created_at < end,
        )
    ).all()
    requests_by_day = Tally(t.date() for t in req_times)
    total_units = len(facts.units)
    rows = []
    day = first
    sums = [0] * 10
    first_n = first_ok = 0
    while day <= last:
        appts = facts.appointments_on(day)
        visits = facts.visits_on(day)
        if appts or visits or defects_by_day[day] or requests_by_day[day]:
            visited = {v.unit_id for v in visits}
            figures = [
                len({a.unit_id for a in appts}),
                len(visits),
                sum(v.result == F.HANDED_OVER for v in visits),
                sum(v.outcome == "accepted" for v in visits),
                sum(v.outcome == "accepted_with_defects" for v in visits),
                sum(v.outcome == "refused" for v in visits),
                sum(v.result == F.UNFINISHED for v in visits),
                len({a.unit_id for a in appts if a.unit_id not in visited}),
                defects_by_day[day],
                requests_by_day[day],
            ]
            sums = [a + b for a, b in zip(sums, figures, strict=True)]
            cumulative = sum(1 for d in facts.handed_over_on.values() if d <= day)
            progress = cumulative / total_units if total_units else None
            rows.append([day, *figures, cumulative, progress])
            firsts = [v for v in visits if v.first_inspection]
            first_n += len(firsts)
            first_ok += sum(v.outcome in ("accepted", "accepted_with_defects") for v in firsts)
        day += timedelta(days=1)
    last_cum = rows[-1][-2] if rows else sum(1 for d in facts.handed_over_on.values() if d <= last)
    last_progress = last_cum / total_units if total_units else None
    total = [_("Total"), *sums, last_cum, last_progress]
    columns = [
        Column(_("Date"), "date"),
        Column(_("Appointed"), "int"),
        Column(_("Checked in"), "int"),
        Column(_("Keys handed over"), "int"),
        Column(_("Accepted"), "int"),
        Column(_("Accepted with defects"), "int"),
        Column(_("Refused"), "int"),
        Column(_("Unfinished"), "int"),
        Column(_("Did not come"), "int"),
        Column(_("Defects"), "int"),
        Column(_("Owner requests"), "int"),
        Column(_("Handed over in all"), "int"),
        Column(_("Progress"), "pct"),
    ]
    rate = first_ok / first_n if first_n else None
    project = facts.project
    labels = [r[0].strftime("%m-%d") for r in rows]
    return Report(
        kind="summary",
        title=_("Handover summary"),
        project_name=(project.name_en or project.name) if locale == "en" else project.name,
        period=f"{first.isoformat()} – {last.isoformat()}",
        generated_at=now or clock.now(),
        locale=locale,
        headline=[
            Figure("units", _("Units in the project"), total_units),
            Figure("handed_over", _("Handed over in all"), last_cum),
            Figure("progress", _("Progress"), last_progress, "pct"),
            Figure("checked_in", _("Checked in"), sums[1]),
            Figure("refused", _("Refused"), sums[5]),
            Figure("no_show", _("Did not come"), sums[7]),
            Figure("first_time_rate", _("First-time acceptance rate"), rate, "pct"),
            Figure("defects", _("Defects recorded"), sums[8]),
        ],
        sections=[
            Section(
                "days",
                _("Handover summary table"),
                tables=[Table("days", _("Per day"), columns, rows, total)],
                charts=[
                    Chart(
                        "per_day",
                        _("Checked in and handed over per day"),
                        labels,
                        [
                            Series(_("Checked in"), [r[2] for r in rows]),
                            Series(_("Keys handed over"), [r[3] for r in rows]),
                            Series(_("Handed over in all"), [r[11] for r in rows]),
                        ],
                    )
                ],
            )
        ],
        meta={"first": first, "last": last},
    )
