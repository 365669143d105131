"""每日交房日报表: the daily handover report for one project and one day.

Every figure comes from rows recorded on the day (visits, step transitions, evidence); nothing
is typed in. Where evidence was corrected, the current answer is the newest row that no other
row supersedes; voided defects do not count. Definitions (day D, the project's venue time):

Outcomes (overall, per building, per appointment slot)
- Appointed: units with an appointment on D. Per slot by the appointment's slot.
- Checked in: visits of D (walk-ins included; a visit later cancelled still checked in).
  Per slot by the visit's appointment; visits without one form the "without appointment" row.
- Keys handed over: visits of D with a current key handover row.
- Accepted / accepted with defects / refused: visits of D by their current inspection outcome.
- Unfinished: visits of D neither handed over nor refused (left, cancelled, sent out as a
  no-show at a counter, still queued at closing, keys step skipped). Keys handed over +
  refused (without keys) + unfinished = checked in.
- No-show: units appointed on D with no visit on D.
- First-time acceptance rate: of the units whose first-ever inspection outcome was recorded
  on D, the share accepted (with or without defects) at that inspection.

Waits and service times, per step (minutes)
- A wait runs from a visit entering a step's queue (check-in, previous step completed,
  transfer, requeue after a missed call, release from hold) until it is called; each such
  interval that ended in a call is one wait.
- A service time is the time a visit spent being served at a step (from start, or from the
  call when the counter completes without pressing start, until complete; time on hold
  excluded), counted once per completed visit-step.
- mean, median, 90th percentile (nearest rank) and longest: see `stats.spread`.

Per hour (hours of the venue clock, from the first arrival to the last recorded event)
- Arrivals: visits checked in during the hour.
- Completions: visits that finished their last step during the hour.
- Queue length: visits waiting at any step at the end of the hour.

Per counter and per staff member: visit-steps completed there / by them, and their mean
service time (staff = who pressed complete).

Defects: current, not voided defect rows of D's visits, by category, room, building, and the
ten most frequent checklist items (ties by name).

Problems, for visits of D: refusals with their reasons; units with fees neither paid nor waived
(current payment rows of any visit of the unit); required documents recorded missing or refused,
or never recorded although the visit completed the step that checks them; key items handed
fewer than expected (or a handover marked short).

Owner requests raised on D: by category and by department (with how many are still open), and
the open ones with their text. No-shows: the appointed owner's name and phone, masked unless
`reveal_contacts` (the XLSX export for supervisors and admins, which is audited).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server import clock
from server.i18n import translate
from server.models import (
    ChecklistItem,
    Counter,
    Defect,
    DefectCategory,
    Department,
    DocumentType,
    FeePayment,
    FeeType,
    InspectionRoom,
    KeyHandover,
    KeyHandoverItem,
    KeyItemType,
    OwnerRequest,
    Staff,
    Step,
    StepTransition,
    StoredFile,
    Unit,
    UnitFee,
    UnitType,
    Visit,
    VisitDocument,
    VisitStep,
)
from server.services import inspection
from server.services.privacy import mask_name

from . import facts as F
from .current import current_by, heads
from .model import Chart, Column, Figure, Plan, Report, Section, Series, Table
from .stats import spread

REQUEST_CATEGORIES = (
    "sales",
    "construction_quality",
    "design",
    "property_service",
    "customer_service",
    "other",
)


def category_word(code: str | None, locale: str) -> str:
    """An owner request's category as a word of the report's language."""

    def _(msgid: str) -> str:
        return translate(msgid, locale)

    words = {
        "sales": _("Sales"),
        "construction_quality": _("Construction quality"),
        "design": _("Design"),
        "property_service": _("Property service"),
        "customer_service": _("Customer service"),
        "other": _("Other"),
    }
    return words.get(code or "other", code or "")


def mask_phone(phone: str | None) -> str:
    p = phone or ""
    return f"{p[:3]}****{p[-4:]}" if len(p) >= 7 else "****"


class _Builder:
    def __init__(self, session: Session, project_id: int, day: date, locale: str):
        self.s = session
        self.pid = project_id
        self.day = day
        self.locale = locale
        self.en = locale.startswith("en")
        self.facts = F.load(session, project_id, day, day, locale)
        self.visits = self.facts.visits_on(day)
        self.vby = {v.id: v for v in self.visits}
        self.appts = self.facts.appointments_on(day)
        self.start = datetime.combine(day, time())
        self.end = self.start + timedelta(days=1)

    def _(self, msgid: str) -> str:
        return translate(msgid, self.locale)

    def q(self, stmt):
        """Column-only queries straight on the connection: no ORM row processing."""
        return self.s.connection().execute(stmt)

    def name(self, zh: str | None, en: str | None) -> str:
        return (en or zh or "") if self.en else (zh or en or "")

    def unit(self, unit_id: int | None) -> str:
        info = self.facts.units.get(unit_id) if unit_id else None
        return info.label if info else "–"

    # ---- outcomes ---------------------------------------------------------------------

    def outcome_columns(self, first: str) -> list[Column]:
        _ = self._
        return [
            Column(first),
            Column(_("Appointed"), "int"),
            Column(_("Checked in"), "int"),
            Column(_("Keys handed over"), "int"),
            Column(_("Accepted"), "int"),
            Column(_("Accepted with defects"), "int"),
            Column(_("Refused"), "int"),
            Column(_("Unfinished"), "int"),
            Column(_("Did not come"), "int"),
        ]

    def outcome_row(self, label: str, appts: list, visits: list) -> list:
        visited = {v.unit_id for v in self.visits}
        return [
            label,
            len({a.unit_id for a in appts}),
            len(visits),
            sum(v.result == F.HANDED_OVER for v in visits),
            sum(v.outcome == "accepted" for v in visits),
            sum(v.outcome == "accepted_with_defects" for v in visits),
            sum(v.outcome == "refused" for v in visits),
            sum(v.result == F.UNFINISHED for v in visits),
            len({a.unit_id for a in appts if a.unit_id not in visited}),
        ]

    def outcomes(self) -> tuple[Section, list[Figure]]:
        _ = self._
        units = self.facts.units
        total = self.outcome_row(_("Total"), self.appts, self.visits)
        first = [v for v in self.visits if v.first_inspection]
        first_ok = sum(v.outcome in ("accepted", "accepted_with_defects") for v in first)
        rate = first_ok / len(first) if first else None
        labels = [c.label for c in self.outcome_columns("")][1:]
        keys = (
            "appointed",
            "checked_in",
            "handed_over",
            "accepted",
            "accepted_with_defects",
            "refused",
            "unfinished",
            "no_show",
        )
        headline = [Figure(k, lab, n) for k, lab, n in zip(keys, labels, total[1:], strict=True)]
        headline.append(Figure("first_time_rate", _("First-time acceptance rate"), rate, "pct"))
        overall = Table(
            "overall",
            _("Overall"),
            [Column(_("Figure")), Column(_("Count"), "int")],
            [[f.label, f.value] for f in headline[:-1]],
        )
        first_table = Table(
            "first_time",
            _("First-time acceptance"),
            [
                Column(_("Units inspected for the first time"), "int"),
                Column(_("Accepted at first inspection"), "int"),
                Column(_("First-time acceptance rate"), "pct"),
            ],
            [[len(first), first_ok, rate]],
        )
        by_building = []
        for bid, bname in self.facts.buildings:
            appts = [a for a in self.appts if units[a.unit_id].building_id == bid]
            visits = [v for v in self.visits if units[v.unit_id].building_id == bid]
            if appts or visits:
                by_building.append(self.outcome_row(bname, appts, visits))
        slots: dict[tuple, list] = defaultdict(list)
        for a in self.appts:
            slots[(a.slot_start, a.slot_end)].append(a)
        appt_slot = {a.id: (a.slot_start, a.slot_end) for a in self.appts}
        by_slot = []
        for key in sorted(slots):
            visits = [v for v in self.visits if appt_slot.get(v.appointment_id) == key]
            by_slot.append(self.outcome_row(f"{key[0]:%H:%M}–{key[1]:%H:%M}", slots[key], visits))
        walk_ins = [v for v in self.visits if v.appointment_id not in appt_slot]
        if walk_ins:
            by_slot.append(self.outcome_row(_("Without appointment"), [], walk_ins))
        section = Section(
            "outcomes",
            _("Handover outcomes"),
            tables=[
                overall,
                first_table,
                Table(
                    "by_building",
                    _("By building"),
                    self.outcome_columns(_("Building")),
                    by_building,
                    total,
                ),
                Table(
                    "by_slot",
                    _("By appointment slot"),
                    self.outcome_columns(_("Slot")),
                    by_slot,
                    total,
                ),
            ],
            charts=[
                Chart(
                    "outcomes_by_building",
                    _("Outcomes by building"),
                    [r[0] for r in by_building],
                    [
                        Series(_("Appointed"), [r[1] for r in by_building]),
                        Series(_("Checked in"), [r[2] for r in by_building]),
                        Series(_("Keys handed over"), [r[3] for r in by_building]),
                    ],
                )
            ],
        )
        return section, headline

    # ---- waits, service times, hours, counters, staff ---------------------------------

    def load_transitions(self):
        rows = self.q(
            select(
                StepTransition.id,
                StepTransition.visit_id,
                StepTransition.visit_step_id,
                StepTransition.step_id,
                StepTransition.action,
                StepTransition.from_state,
                StepTransition.to_state,
                StepTransition.at,
                StepTransition.staff_id,
                StepTransition.counter_id,
            )
            .join(Visit, Visit.id == StepTransition.visit_id)
            .where(Visit.project_id == self.pid, Visit.day == self.day)
            .order_by(StepTransition.visit_step_id, StepTransition.at, StepTransition.id)
        ).all()
        waits: dict[int, list[float]] = defaultdict(list)  # step -> minutes
        waiting_spans: list[tuple[datetime, datetime | None]] = []
        served: list[tuple[int, int | None, int | None, float]] = []  # step, counter, staff, min
        last_at: datetime | None = None
        by_vs = F.group(rows, lambda r: r.visit_step_id)
        for trs in by_vs.values():
            wait_from = serve_from = called_at = None
            serving = 0.0
            for t in trs:
                if t.action in ("call", "recall"):
                    called_at = t.at
                if t.action == "complete" and serve_from == t.at and called_at is not None:
                    # Completed without pressing start: the service began with the call.
                    serve_from = called_at
                last_at = t.at if last_at is None or t.at > last_at else last_at
                if t.from_state == "waiting" and wait_from is not None:
                    waiting_spans.append((wait_from, t.at))
                    if t.action == "call":
                        waits[t.step_id].append((t.at - wait_from).total_seconds() / 60)
                    wait_from = None
                if t.from_state == "serving" and serve_from is not None:
                    serving += (t.at - serve_from).total_seconds() / 60
                    serve_from = None
                if t.to_state == "waiting":
                    wait_from = t.at
                if t.to_state == "serving":
                    serve_from = t.at
                if t.action == "complete":
                    served.append((t.step_id, t.counter_id, t.staff_id, serving))
                    serving = 0.0
            if wait_from is not None:
                waiting_spans.append((wait_from, None))
        return waits, waiting_spans, served, last_at

    def times(self) -> tuple[Section, Section]:
        _ = self._
        waits, spans, served, last_at = self.load_transitions()
        steps = self.q(
            select(Step.id, Step.name_zh, Step.name_en)
            .where(Step.project_id == self.pid)
            .order_by(Step.sort, Step.id)
        ).all()
        service_by_step: dict[int, list[float]] = defaultdict(list)
        for step_id, _c, _s, minutes in served:
            service_by_step[step_id].append(minutes)
        step_rows = []
        for st in steps:
            w, sv = spread(waits.get(st.id, [])), spread(service_by_step.get(st.id, []))
            if not w.n and not sv.n:
                continue
            step_rows.append(
                [
                    self.name(st.name_zh, st.name_en),
                    w.n,
                    w.mean,
                    w.median,
                    w.p90,
                    w.max,
                    sv.n,
                    sv.mean,
                    sv.median,
                    sv.p90,
                    sv.max,
                ]
            )
        m = "minutes"
        step_table = Table(
            "steps",
            _("Waits and service times per step (minutes)"),
            [
                Column(_("Step")),
                Column(_("Waits"), "int"),
                Column(_("Mean wait"), m),
                Column(_("Median wait"), m),
                Column(_("90th percentile wait"), m),
                Column(_("Longest wait"), m),
                Column(_("Served"), "int"),
                Column(_("Mean service"), m),
                Column(_("Median service"), m),
                Column(_("90th percentile service"), m),
                Column(_("Longest service"), m),
            ],
            step_rows,
        )
        hour_rows = []
        if self.visits:
            first_h = min(v.checked_in_at for v in self.visits).hour
            ends = [v.finished_at for v in self.visits if v.finished_at] + (
                [last_at] if last_at else []
            )
            last_h = max([first_h] + [e.hour for e in ends if e.date() == self.day])
            arrivals = Tally(v.checked_in_at.hour for v in self.visits)
            done = Tally(
                v.finished_at.hour
                for v in self.visits
                if v.status == "finished" and v.finished_at and v.finished_at.date() == self.day
            )
            for h in range(first_h, last_h + 1):
                edge = self.start + timedelta(hours=h + 1)
                queue = sum(1 for a, b in spans if a <= edge and (b is None or b > edge))
                hour_rows.append([f"{h:02d}:00", arrivals[h], done[h], queue])
        hours = Table(
            "hours",
            _("Per hour"),
            [
                Column(_("Hour")),
                Column(_("Arrivals"), "int"),
                Column(_("Completions"), "int"),
                Column(_("Queue at end of hour"), "int"),
            ],
            hour_rows,
        )
        times = Section(
            "times",
            _("Waits and service times"),
            tables=[step_table, hours],
            charts=[
                Chart(
                    "waits",
                    _("Waits and service per step"),
                    [r[0] for r in step_rows],
                    [
                        Series(_("Mean wait"), [r[2] or 0 for r in step_rows]),
                        Series(_("90th percentile wait"), [r[4] or 0 for r in step_rows]),
                        Series(_("Mean service"), [r[7] or 0 for r in step_rows]),
                    ],
                    unit=_("min"),
                ),
                Chart(
                    "hours",
                    _("Arrivals, completions and queue per hour"),
                    [r[0] for r in hour_rows],
                    [
                        Series(_("Arrivals"), [r[1] for r in hour_rows]),
                        Series(_("Completions"), [r[2] for r in hour_rows]),
                        Series(_("Queue at end of hour"), [r[3] for r in hour_rows]),
                    ],
                ),
            ],
        )
        return times, self.staffing(served)

    def staffing(self, served) -> Section:
        _ = self._
        counters = {
            c.id: self.name(c.name_zh, c.name_en)
            for c in self.q(
                select(Counter.id, Counter.name_zh, Counter.name_en, Counter.code)
                .where(Counter.project_id == self.pid)
                .order_by(Counter.code)
            )
        }
        staff_ids = {s for _st, _c, s, _m in served if s is not None}
        staff = dict(
            self.q(select(Staff.id, Staff.display_name).where(Staff.id.in_(staff_ids))).all()
        )

        def rows(index: int, names: dict, order: list) -> list[list]:
            got: dict = defaultdict(list)
            for rec in served:
                got[rec[index]].append(rec[3])
            keys = [k for k in order if k in got] + sorted(
                (k for k in got if k not in order), key=lambda k: (k is None, k or 0)
            )
            return [
                [
                    names.get(k, _("Unknown")) if k is not None else _("Unknown"),
                    len(got[k]),
                    spread(got[k]).mean,
                ]
                for k in keys
            ]

        by_counter = rows(1, counters, list(counters))
        by_staff = rows(2, staff, sorted(staff, key=lambda k: staff[k]))
        return Section(
            "staffing",
            _("Counters and staff"),
            tables=[
                Table(
                    "counters",
                    _("Per counter"),
                    [
                        Column(_("Counter")),
                        Column(_("Visits served"), "int"),
                        Column(_("Mean service (minutes)"), "minutes"),
                    ],
                    by_counter,
                ),
                Table(
                    "staff",
                    _("Per staff member"),
                    [
                        Column(_("Staff member")),
                        Column(_("Visits served"), "int"),
                        Column(_("Mean service (minutes)"), "minutes"),
                    ],
                    by_staff,
                ),
            ],
        )

    # ---- defects ------------------------------------------------------------------------

    def defects(self) -> tuple[Section, int]:
        _ = self._
        rows = self.q(
            select(
                Defect.id,
                Defect.supersedes_id,
                Defect.voided,
                Defect.unit_id,
                Defect.room,
                Defect.item,
                Defect.category,
                Defect.category_id,
                Defect.severity,
                Defect.visit_id,
                Defect.description,
                Defect.pin_x,
                Defect.pin_y,
            )
            .join(Visit, Visit.id == Defect.visit_id)
            .where(Visit.project_id == self.pid, Visit.day == self.day)
        ).all()
        live = [d for d in heads(rows) if not d.voided]
        # A defect's identity is its chain of corrections (its first row): numbered per visit
        # in that order, as the acceptance form and the pins on its plan number them.
        by_id = {r.id: r for r in rows}

        def root(r) -> int:
            while r.supersedes_id and r.supersedes_id in by_id:
                r = by_id[r.supersedes_id]
            return r.id

        cats = self.q(
            select(
                DefectCategory.id,
                DefectCategory.code,
                DefectCategory.name_zh,
                DefectCategory.name_en,
            ).where(DefectCategory.project_id == self.pid)
        ).all()
        cat_by_id = {c.id: self.name(c.name_zh, c.name_en) for c in cats}
        cat_by_code = {c.code: self.name(c.name_zh, c.name_en) for c in cats}
        rooms = {
            r.code: self.name(r.name_zh, r.name_en)
            for r in self.q(
                select(InspectionRoom.code, InspectionRoom.name_zh, InspectionRoom.name_en).where(
                    InspectionRoom.project_id == self.pid
                )
            )
        }
        items = {
            r.code: self.name(r.name_zh, r.name_en)
            for r in self.q(
                select(ChecklistItem.code, ChecklistItem.name_zh, ChecklistItem.name_en).where(
                    ChecklistItem.project_id == self.pid
                )
            )
        }
        none = _("Uncategorised")

        def cat(d) -> str:
            if d.category_id in cat_by_id:
                return cat_by_id[d.category_id]
            return cat_by_code.get(d.category, d.category or none)

        def counted(key, order: list[str] | None = None, limit: int | None = None) -> list:
            tally = Tally(key(d) for d in live)
            if order is not None:
                ranked = [k for k in order if k in tally] + sorted(
                    k for k in tally if k not in order
                )
            else:
                ranked = sorted(tally, key=lambda k: (-tally[k], k))
            return [[k, tally[k]] for k in ranked[:limit]]

        units = self.facts.units
        by_cat = counted(cat)
        by_cat.sort(key=lambda r: (-r[1], r[0]))
        by_room = counted(lambda d: rooms.get(d.room, d.room), list(rooms.values()))
        by_building = counted(
            lambda d: units[d.unit_id].building, [b for _i, b in self.facts.buildings]
        )
        top = counted(lambda d: items.get(d.item, d.item), limit=10)
        sev_words = {"minor": _("Minor"), "major": _("Major"), "critical": _("Critical")}
        by_sev = counted(lambda d: sev_words.get(d.severity, d.severity), list(sev_words.values()))
        count = Column(_("Defects"), "int")
        defect_list, plans = self.defect_list(live, root, cat, rooms, items, sev_words)
        section = Section(
            "defects",
            _("Defects"),
            tables=[
                Table(
                    "by_category",
                    _("By category"),
                    [Column(_("Category")), count],
                    by_cat,
                    [_("Total"), len(live)],
                ),
                Table("by_room", _("By room"), [Column(_("Room")), count], by_room),
                Table("by_building", _("By building"), [Column(_("Building")), count], by_building),
                Table("by_severity", _("By severity"), [Column(_("Severity")), count], by_sev),
                Table("top_items", _("Ten most frequent items"), [Column(_("Item")), count], top),
                defect_list,
            ],
            plans=plans,
            plans_title=_("Defects on the floor plans"),
            charts=[
                Chart(
                    "defects_by_category",
                    _("Defects by category"),
                    [r[0] for r in by_cat[:12]],
                    [Series(_("Defects"), [r[1] for r in by_cat[:12]])],
                    style="hbars",
                ),
                Chart(
                    "top_items",
                    _("Ten most frequent items"),
                    [r[0] for r in top],
                    [Series(_("Defects"), [r[1] for r in top])],
                    style="hbars",
                ),
            ],
        )
        return section, len(live)

    def defect_list(self, live, root, cat, rooms, items, sev_words) -> tuple[Table, list[Plan]]:
        """One row per defect with its room and pin position in the defect list receipt's
        words; per visit with pinned defects, the unit type's plan with the numbered pins."""
        _ = self._
        order = {uid: i for i, uid in enumerate(self.facts.units)}
        per_visit: dict[int, list] = defaultdict(list)
        for d in sorted(live, key=root):
            per_visit[d.visit_id].append(d)
        visits = sorted(per_visit, key=lambda vid: (order.get(per_visit[vid][0].unit_id, 0), vid))
        rows, pinned = [], {}
        for vid in visits:
            for n, d in enumerate(per_visit[vid], 1):
                room = rooms.get(d.room, d.room)
                rows.append(
                    [
                        self.unit(d.unit_id),
                        n,
                        inspection.place_words(room, d.pin_x, d.pin_y, self.locale),
                        items.get(d.item, d.item),
                        cat(d),
                        sev_words.get(d.severity, d.severity),
                        d.description or "",
                    ]
                )
                if d.pin_x is not None and d.pin_y is not None:
                    pinned.setdefault(vid, []).append((n, d.pin_x, d.pin_y))
        table = Table(
            "defect_list",
            _("Defect list"),
            [
                Column(_("Unit")),
                Column(_("No."), "int"),
                Column(_("Room and position")),
                Column(_("Item")),
                Column(_("Category")),
                Column(_("Severity")),
                Column(_("Description")),
            ],
            rows,
            page_limit=200,
        )
        plans: list[Plan] = []
        if pinned:
            unit_ids = {per_visit[vid][0].unit_id for vid in pinned}
            files = {
                r.id: r
                for r in self.q(
                    select(Unit.id, StoredFile.path, StoredFile.width, StoredFile.height)
                    .join(UnitType, UnitType.id == Unit.unit_type_id)
                    .join(StoredFile, StoredFile.id == UnitType.floor_plan_file_id)
                    .where(Unit.id.in_(unit_ids))
                )
            }
            for vid, pins in pinned.items():
                unit_id = per_visit[vid][0].unit_id
                f = files.get(unit_id)
                if f is None:
                    continue  # the unit type has no plan (any more): the rows still say where
                visit = self.vby.get(vid)
                ticket = f" · {visit.ticket_no}" if visit and visit.ticket_no else ""
                plans.append(
                    Plan(
                        f"visit-{vid}",
                        f"{self.unit(unit_id)}{ticket}",
                        f.path,
                        f.width or 1,
                        f.height or 1,
                        pins,
                    )
                )
        return table, plans

    # ---- refusals and problems ------------------------------------------------------------

    def refusals(self) -> Section:
        _ = self._
        staff = dict(self.q(select(Staff.id, Staff.display_name)).all())
        rows = [
            [
                self.unit(v.unit_id),
                v.ticket_no,
                self.facts.units[v.unit_id].owner_name or "",
                v.outcome_reason or "",
                staff.get(v.outcome_staff_id, ""),
                v.outcome_at,
            ]
            for v in self.visits
            if v.outcome == "refused"
        ]
        return Section(
            "refusals",
            _("Refusals"),
            tables=[
                Table(
                    "refusals",
                    _("Refusals with reasons"),
                    [
                        Column(_("Unit")),
                        Column(_("Ticket")),
                        Column(_("Owner")),
                        Column(_("Reason")),
                        Column(_("Inspector")),
                        Column(_("Recorded at"), "datetime"),
                    ],
                    rows,
                )
            ],
        )

    def problems(self) -> Section:
        _ = self._
        unit_ids = {v.unit_id for v in self.visits}
        ticket = {}
        for v in self.visits:
            ticket.setdefault(v.unit_id, v.ticket_no)
        fee_names = {
            f.id: self.name(f.name_zh, f.name_en)
            for f in self.q(
                select(FeeType.id, FeeType.name_zh, FeeType.name_en).where(
                    FeeType.project_id == self.pid
                )
            )
        }
        dues = (
            self.q(
                select(UnitFee.unit_id, UnitFee.fee_type_id, UnitFee.amount).where(
                    UnitFee.unit_id.in_(unit_ids)
                )
            ).all()
            if unit_ids
            else []
        )
        pays = self.q(
            select(
                FeePayment.id,
                FeePayment.supersedes_id,
                FeePayment.created_at,
                FeePayment.visit_id,
                FeePayment.fee_type_id,
                FeePayment.status,
                Visit.unit_id,
            )
            .join(Visit, Visit.id == FeePayment.visit_id)
            .where(Visit.project_id == self.pid, Visit.day <= self.day)
        ).all()
        settled = {
            (p.unit_id, p.fee_type_id)
            for p in current_by(pays, lambda p: (p.visit_id, p.fee_type_id)).values()
            if p.status in ("paid", "waived")
        }
        unpaid: dict[int, list] = defaultdict(list)
        for d in dues:
            if (d.unit_id, d.fee_type_id) not in settled:
                unpaid[d.unit_id].append(d)
        fee_rows = [
            [
                self.unit(u),
                ticket[u],
                "、".join(
                    fee_names.get(d.fee_type_id, "?")
                    for d in sorted(unpaid[u], key=lambda d: d.fee_type_id)
                ),
                sum((Decimal(d.amount) for d in unpaid[u]), Decimal("0.00")),
            ]
            for u in sorted(unpaid, key=lambda u: self.unit(u))
        ]

        # Documents.
        doc_types = self.q(
            select(
                DocumentType.id,
                DocumentType.name_zh,
                DocumentType.name_en,
                DocumentType.step_code,
                DocumentType.required,
                DocumentType.agent_only,
            )
            .where(DocumentType.project_id == self.pid, DocumentType.active.is_(True))
            .order_by(DocumentType.sort, DocumentType.id)
        ).all()
        docs = self.q(
            select(
                VisitDocument.id,
                VisitDocument.supersedes_id,
                VisitDocument.created_at,
                VisitDocument.visit_id,
                VisitDocument.document_type_id,
                VisitDocument.owner_id,
                VisitDocument.status,
            )
            .join(Visit, Visit.id == VisitDocument.visit_id)
            .where(Visit.project_id == self.pid, Visit.day == self.day)
        ).all()
        cur_docs = current_by(docs, lambda d: (d.visit_id, d.document_type_id, d.owner_id))
        ok_docs = {
            (d.visit_id, d.document_type_id)
            for d in cur_docs.values()
            if d.status in ("seen", "signed")
        }
        bad_docs = {
            (d.visit_id, d.document_type_id)
            for d in cur_docs.values()
            if d.status in ("missing", "refused")
        }
        done_steps = {
            (r.visit_id, r.code)
            for r in self.q(
                select(VisitStep.visit_id, Step.code)
                .join(Step, Step.id == VisitStep.step_id)
                .join(Visit, Visit.id == VisitStep.visit_id)
                .where(
                    Visit.project_id == self.pid, Visit.day == self.day, VisitStep.state == "done"
                )
            )
        }
        doc_rows = []
        for v in self.visits:
            missing = []
            for dt in doc_types:
                if dt.agent_only and v.party_role != "agent":
                    continue
                key = (v.id, dt.id)
                if key in ok_docs:
                    continue
                if key in bad_docs or (dt.required and (v.id, dt.step_code) in done_steps):
                    missing.append(self.name(dt.name_zh, dt.name_en))
            if missing:
                doc_rows.append([self.unit(v.unit_id), v.ticket_no, "、".join(missing)])

        # Keys.
        khs = self.q(
            select(
                KeyHandover.id,
                KeyHandover.supersedes_id,
                KeyHandover.created_at,
                KeyHandover.visit_id,
                KeyHandover.shortfall,
                KeyHandover.note,
            )
            .join(Visit, Visit.id == KeyHandover.visit_id)
            .where(Visit.project_id == self.pid, Visit.day == self.day)
        ).all()
        cur_kh = current_by(khs, lambda k: k.visit_id)
        kh_ids = [k.id for k in cur_kh.values()]
        item_names = {
            k.id: self.name(k.name_zh, k.name_en)
            for k in self.q(
                select(KeyItemType.id, KeyItemType.name_zh, KeyItemType.name_en).where(
                    KeyItemType.project_id == self.pid
                )
            )
        }
        short_items = F.group(
            self.q(
                select(
                    KeyHandoverItem.key_handover_id,
                    KeyHandoverItem.key_item_type_id,
                    KeyHandoverItem.expected,
                    KeyHandoverItem.handed,
                    KeyHandoverItem.note,
                )
                .where(
                    KeyHandoverItem.key_handover_id.in_(kh_ids),
                    KeyHandoverItem.handed < KeyHandoverItem.expected,
                )
                .order_by(KeyHandoverItem.id)
            ).all()
            if kh_ids
            else [],
            lambda i: i.key_handover_id,
        )
        key_rows = []
        for visit_id, kh in sorted(cur_kh.items(), key=lambda kv: self.vby[kv[0]].ticket_no):
            v = self.vby[visit_id]
            items = short_items.get(kh.id, [])
            for it in items:
                key_rows.append(
                    [
                        self.unit(v.unit_id),
                        v.ticket_no,
                        item_names.get(it.key_item_type_id, "?"),
                        it.expected,
                        it.handed,
                        it.note or kh.note or "",
                    ]
                )
            if kh.shortfall and not items:
                key_rows.append([self.unit(v.unit_id), v.ticket_no, "–", None, None, kh.note or ""])
        return Section(
            "problems",
            _("Fees, documents and keys"),
            tables=[
                Table(
                    "unpaid_fees",
                    _("Units with unpaid fees"),
                    [
                        Column(_("Unit")),
                        Column(_("Ticket")),
                        Column(_("Unpaid items")),
                        Column(_("Outstanding (yuan)"), "money"),
                    ],
                    fee_rows,
                ),
                Table(
                    "missing_documents",
                    _("Units with missing documents"),
                    [Column(_("Unit")), Column(_("Ticket")), Column(_("Documents"))],
                    doc_rows,
                ),
                Table(
                    "key_shortfalls",
                    _("Key shortfalls"),
                    [
                        Column(_("Unit")),
                        Column(_("Ticket")),
                        Column(_("Item")),
                        Column(_("Expected"), "int"),
                        Column(_("Handed"), "int"),
                        Column(_("Note")),
                    ],
                    key_rows,
                ),
            ],
        )

    # ---- owner requests and no-shows ------------------------------------------------------

    def category_word(self, code: str | None) -> str:
        return category_word(code, self.locale)

    def requests(self) -> tuple[Section, int]:
        _ = self._
        reqs = self.q(
            select(
                OwnerRequest.id,
                OwnerRequest.unit_id,
                OwnerRequest.visit_id,
                OwnerRequest.category,
                OwnerRequest.item,
                OwnerRequest.department,
                OwnerRequest.text,
                OwnerRequest.status,
                OwnerRequest.created_at,
                OwnerRequest.urgency,
            )
            .outerjoin(Visit, Visit.id == OwnerRequest.visit_id)
            .where(
                or_(OwnerRequest.project_id == self.pid, Visit.project_id == self.pid),
                OwnerRequest.created_at >= self.start,
                OwnerRequest.created_at < self.end,
            )
            .order_by(OwnerRequest.created_at, OwnerRequest.id)
        ).all()
        depts = {
            d.code: self.name(d.name_zh, d.name_en)
            for d in self.q(
                select(Department.code, Department.name_zh, Department.name_en)
                .where(Department.project_id == self.pid)
                .order_by(Department.sort, Department.id)
            )
        }
        unassigned = _("Unassigned")

        def dept(code):
            return depts.get(code, code) if code else unassigned

        def grouped(key, order):
            total, open_ = Tally(), Tally()
            for r in reqs:
                total[key(r)] += 1
                open_[key(r)] += r.status == "open"
            ks = [k for k in order if k in total] + sorted(k for k in total if k not in order)
            return [[k, total[k], open_[k]] for k in ks]

        cols = [Column(_("Requests"), "int"), Column(_("Still open"), "int")]
        by_cat = grouped(
            lambda r: self.category_word(r.category),
            [self.category_word(c) for c in REQUEST_CATEGORIES],
        )
        by_dept = grouped(lambda r: dept(r.department), [*depts.values(), unassigned])
        open_rows = [
            [
                self.unit(
                    r.unit_id or (self.vby[r.visit_id].unit_id if r.visit_id in self.vby else None)
                ),
                self.category_word(r.category),
                r.item or "",
                dept(r.department),
                r.text,
                r.created_at,
            ]
            for r in reqs
            if r.status == "open"
        ]
        return Section(
            "requests",
            _("Owner requests"),
            tables=[
                Table("by_category", _("By category"), [Column(_("Category")), *cols], by_cat),
                Table(
                    "by_department", _("By department"), [Column(_("Department")), *cols], by_dept
                ),
                Table(
                    "open",
                    _("Open requests"),
                    [
                        Column(_("Unit")),
                        Column(_("Category")),
                        Column(_("Item")),
                        Column(_("Department")),
                        Column(_("Text")),
                        Column(_("Raised at"), "datetime"),
                    ],
                    open_rows,
                ),
            ],
        ), len(reqs)

    def no_shows(self, reveal: bool) -> Section:
        _ = self._
        visited = {v.unit_id for v in self.visits}
        rows = []
        for a in self.appts:
            if a.unit_id in visited:
                continue
            info = self.facts.units[a.unit_id]
            rows.append(
                [
                    info.label,
                    a.slot,
                    info.owner_name if reveal else mask_name(info.owner_name),
                    info.owner_phone if reveal else mask_phone(info.owner_phone),
                ]
            )
        return Section(
            "no_shows",
            _("No-shows"),
            tables=[
                Table(
                    "no_shows",
                    _("Appointed owners who did not come"),
                    [Column(_("Unit")), Column(_("Slot")), Column(_("Owner")), Column(_("Phone"))],
                    rows,
                )
            ],
            notes=[]
            if reveal
            else [_("Contacts are masked; the XLSX export for supervisors shows them in full.")],
        )


def build_daily(
    session: Session,
    project_id: int,
    day: date,
    *,
    locale: str = "zh_CN",
    reveal_contacts: bool = False,
    now: datetime | None = None,
) -> Report:
    """The whole daily report (read-only)."""
    b = _Builder(session, project_id, day, locale)
    _ = b._
    outcomes, headline = b.outcomes()
    times, staffing = b.times()
    defects, n_defects = b.defects()
    requests, n_requests = b.requests()
    headline += [
        Figure("defects", _("Defects recorded"), n_defects),
        Figure("requests", _("Owner requests"), n_requests),
    ]
    project = b.facts.project
    return Report(
        kind="daily",
        title=_("Daily handover report"),
        project_name=(project.name_en or project.name) if b.en else project.name,
        period=day.isoformat(),
        generated_at=now or clock.now(),
        locale=locale,
        headline=headline,
        sections=[
            outcomes,
            times,
            staffing,
            defects,
            b.refusals(),
            b.problems(),
            requests,
            b.no_shows(reveal_contacts),
        ],
        meta={"day": day, "reveal_contacts": reveal_contacts},
    )
