"""Read models for the screens: what a display, a counter and an owner's phone show.

A client gets one of these in full on every (re)connect; events after that carry the same
shapes, so a screen that missed events catches up by itself.

Each is built from as few queries as the data needs (the query budgets in
tests/test_query_budget.py keep it so): steps with their waiting counts in one query, counters
with their current ticket in one (plus their steps), service times from memory
(services.service_times). The queue state is built after every change, so its counters are
plain rows (CounterNow), not ORM objects; steps loaded once are found again in the session's
identity map, so `vs.step` afterwards costs nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from server import clock
from server.engine import (
    AT_COUNTER,
    OPEN_STATES,
    State,
    estimated_wait_minutes,
    typical_service_minutes,
)
from server.models import (
    Counter,
    Project,
    Step,
    StepTransition,
    Unit,
    Visit,
    VisitStep,
    counter_steps,
)
from server.printing import jobs as print_jobs

from . import service_times
from .queue_rules import AHEAD_COUNT


def _names(obj) -> dict[str, str]:
    return {"name_zh": obj.name_zh, "name_en": obj.name_en}


# Built once and on the tables (asked after every change to a visit and for every ticket's
# estimate; plain SQL, no ORM entity).
_counters_c = Counter.__table__.c
OPEN_COUNTERS = (
    select(func.count())
    .select_from(
        counter_steps.join(Counter.__table__, _counters_c.id == counter_steps.c.counter_id)
    )
    .where(
        _counters_c.project_id == bindparam("project_id"),
        _counters_c.is_open,
        counter_steps.c.step_id == bindparam("step_id"),
    )
)


class CounterNow(NamedTuple):
    """A counter as the screens list it: plain values, not ORM objects (this is built after
    every change, and loading Counter and Step objects with their relationship was the most
    expensive part of it)."""

    id: int
    code: str
    name_zh: str
    name_en: str
    area: str | None
    is_open: bool
    steps: tuple[tuple[int, str], ...]  # (step id, step code), in the day's order
    ticket_no: str | None  # the ticket it is busy with (called or serving), if any
    state: str | None


def _counters(session: Session, project_id: int) -> list[CounterNow]:
    """Every counter with the ticket it is busy with (called or serving), if any."""
    steps: dict[int, list[tuple[int, str]]] = {}
    for counter_id, step_id, code in session.execute(
        select(counter_steps.c.counter_id, Step.id, Step.code)
        .join(Step, Step.id == counter_steps.c.step_id)
        .where(Step.project_id == project_id)
        .order_by(Step.sort)
    ):
        steps.setdefault(counter_id, []).append((step_id, code))
    rows = session.execute(
        select(
            Counter.id,
            Counter.code,
            Counter.name_zh,
            Counter.name_en,
            Counter.area,
            Counter.is_open,
            Visit.ticket_no,
            VisitStep.state,
        )
        .outerjoin(
            VisitStep,
            and_(VisitStep.counter_id == Counter.id, VisitStep.state.in_(AT_COUNTER)),
        )
        .outerjoin(Visit, Visit.id == VisitStep.visit_id)
        .where(Counter.project_id == project_id)
        .order_by(Counter.code)
    ).all()
    seen: set[int] = set()
    out = []
    for cid, code, name_zh, name_en, area, is_open, ticket, state in rows:
        if cid not in seen:
            seen.add(cid)
            out.append(
                CounterNow(
                    cid,
                    code,
                    name_zh,
                    name_en,
                    area,
                    is_open,
                    tuple(steps.get(cid, ())),
                    ticket,
                    state,
                )
            )
    return out


def _open_by_step(counters: list[CounterNow]) -> dict[int, int]:
    out: dict[int, int] = {}
    for counter in counters:
        if counter.is_open:
            for step_id, _code in counter.steps:
                out[step_id] = out.get(step_id, 0) + 1
    return out


def step_waits(
    session: Session, project_id: int, day: date, open_by_step: dict[int, int]
) -> list[dict[str, Any]]:
    # Per step, one range of the queue index (state, step, day): no join to visits, since the
    # step is the project's and the row carries the visit's day.
    waiting = (
        select(func.count())
        .where(
            VisitStep.state == State.WAITING,
            VisitStep.step_id == Step.id,
            VisitStep.day == day,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Step, waiting).where(Step.project_id == project_id, Step.active).order_by(Step.sort)
    ).all()
    durations = service_times.by_step(session, project_id, day)
    out = []
    for step, n in rows:
        waiting_n = n or 0
        minutes = typical_service_minutes(durations.get(step.id, []), step.default_service_minutes)
        n_open = open_by_step.get(step.id, 0)
        out.append(
            {
                "id": step.id,
                "code": step.code,
                **_names(step),
                "waiting": waiting_n,
                "open_counters": n_open,
                "service_minutes": round(minutes, 1),
                "estimated_wait": estimated_wait_minutes(waiting_n, minutes, n_open),
            }
        )
    return out


def _counter_row(c: CounterNow) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        **_names(c),
        "area": c.area,
        "is_open": c.is_open,
        "steps": [code for _id, code in c.steps],
        "ticket_no": c.ticket_no,
        "state": c.state,
    }


def counters_now(session: Session, project_id: int) -> list[dict[str, Any]]:
    return [_counter_row(c) for c in _counters(session, project_id)]


def recent_calls(
    session: Session, project_id: int, day: date, limit: int = 12
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(StepTransition, Visit, Counter, Step)
        .join(Visit, Visit.id == StepTransition.visit_id)
        .join(Counter, Counter.id == StepTransition.counter_id)
        .join(Step, Step.id == StepTransition.step_id)
        .where(
            Visit.project_id == project_id,
            Visit.day == day,
            StepTransition.action.in_(("call", "recall")),
        )
        .order_by(StepTransition.at.desc(), StepTransition.id.desc())
        .limit(limit)
    ).all()
    return [call_payload(t, v, c, s) for t, v, c, s in rows]


def call_payload(t: StepTransition, visit: Visit, counter: Counter, step: Step) -> dict[str, Any]:
    return {
        "id": t.id,
        "ticket_no": visit.ticket_no,
        "recall": t.action == "recall",
        "at": t.at.isoformat(timespec="seconds"),
        "counter": {
            "id": counter.id,
            "code": counter.code,
            **_names(counter),
            "area": counter.area,
        },
        "step": {"code": step.code, **_names(step)},
    }


def queue_state(session: Session, project_id: int, day: date | None = None) -> dict[str, Any]:
    """Waiting per step and what each counter is doing: three queries."""
    day = day or clock.today()
    counters = _counters(session, project_id)
    return {
        "day": day.isoformat(),
        "steps": step_waits(session, project_id, day, _open_by_step(counters)),
        "counters": [_counter_row(c) for c in counters],
    }


def display_snapshot(session: Session, project_id: int, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    project = session.get(Project, project_id)
    return {
        "project": {"name": project.name, "name_en": project.name_en},
        **queue_state(session, project_id, day),
        "calls": recent_calls(session, project_id, day),
    }


def _queue_params(vs: VisitStep) -> dict[str, Any]:
    visit = vs.visit
    return {
        "day": visit.day,
        "project_id": visit.project_id,
        "step_id": vs.step_id,
        "rank": vs.priority_rank,
        "queue_at": vs.queue_at,
        "seq": vs.seq,
    }


def people_ahead(session: Session, vs: VisitStep) -> int:
    if vs.state != State.WAITING:
        return 0
    return session.scalar(AHEAD_COUNT, _queue_params(vs))


# A waiting visit's status needs both counts: one statement (same parameters).
_AHEAD_AND_OPEN = select(AHEAD_COUNT.scalar_subquery(), OPEN_COUNTERS.scalar_subquery())


# A visit with what its status shows: unit (and building, for the label), owner, steps.
VISIT_WITH_STATUS = (
    joinedload(Visit.unit).joinedload(Unit.building),
    joinedload(Visit.owner),
    selectinload(Visit.steps).joinedload(VisitStep.step),
)
# The same in one query, for a counter press that loads one visit (results need .unique()):
# a few rows more, but half the CPU of selectinload's second query and its machinery.
VISIT_WITH_STATUS_JOINED = (
    joinedload(Visit.unit).joinedload(Unit.building),
    joinedload(Visit.owner),
    joinedload(Visit.steps).joinedload(VisitStep.step),
)


def load_visit(session: Session, visit_id: int) -> Visit | None:
    """A visit with everything its status shows, in two queries (none if already loaded)."""
    return session.get(Visit, visit_id, options=VISIT_WITH_STATUS)


def visit_by_token(session: Session, token: str) -> Visit | None:
    """The visit an owner's ticket link leads to, loaded for its status."""
    return session.scalar(
        select(Visit).where(Visit.status_token == token).options(*VISIT_WITH_STATUS)
    )


def visit_status(session: Session, visit: Visit) -> dict[str, Any]:
    """What the owner's phone and the staff see of one visit."""
    current = next((s for s in visit.steps if s.state in OPEN_STATES), None)
    ahead = 0  # nobody is ahead of a visit that is called, served or held
    wait = None
    if current is not None and current.state == State.WAITING:
        ahead, n_open = session.execute(_AHEAD_AND_OPEN, _queue_params(current)).one()
        measured = service_times.by_step(session, visit.project_id, visit.day).get(
            current.step_id, []
        )
        minutes = typical_service_minutes(measured, current.step.default_service_minutes)
        wait = estimated_wait_minutes(ahead, minutes, n_open)
    unit = visit.unit
    return {
        "visit_id": visit.id,
        "ticket_no": visit.ticket_no,
        "status": visit.status,
        "unit": unit.label,
        "unit_en": unit.label_en,
        "owner": visit.owner.masked_name if visit.owner else None,
        "checked_in_at": visit.checked_in_at.isoformat(timespec="seconds"),
        "finished_at": visit.finished_at.isoformat(timespec="seconds")
        if visit.finished_at
        else None,
        "current": None
        if current is None
        else {
            "visit_step_id": current.id,
            "step": {"code": current.step.code, **_names(current.step)},
            "state": current.state,
            "counter": None
            if current.counter_id is None
            else {
                "id": current.counter.id,
                **_names(current.counter),
                # Where the owner goes when called: "售楼处一楼大厅 A区", a building's lobby...
                "location_zh": current.counter.location_zh,
                "location_en": current.counter.location_en,
            },
            "people_ahead": ahead,
            "estimated_wait": wait,
            "recall_count": current.recall_count,
            "hold_reason": current.note if current.state == "held" else None,
        },
        "steps": [
            {"visit_step_id": s.id, "code": s.step.code, **_names(s.step), "state": s.state}
            for s in visit.steps
        ],
    }


# The counter's answer is built after every press at it, so its reads are plain rows from
# statements built once (a statement object memoizes its cache key; building one per request
# was a large part of the answer's cost), not ORM objects.

_cs = counter_steps.alias("serves")
_open_cs = counter_steps.alias("open_cs")

# Every step the counter serves, in the day's order, with its waiting count and open counters
# (what step_waits reports): one query instead of the steps, the counts and the open counters.
_COUNTER_STEPS = (
    select(
        Step.id,
        Step.code,
        Step.name_zh,
        Step.name_en,
        Step.project_id,
        Step.active,
        Step.default_service_minutes,
        select(func.count())
        .select_from(VisitStep)
        .where(
            VisitStep.state == State.WAITING,
            VisitStep.step_id == Step.id,
            VisitStep.day == bindparam("day"),
        )
        .scalar_subquery()
        .label("waiting"),
        select(func.count())
        .select_from(_open_cs)
        .join(Counter, Counter.id == _open_cs.c.counter_id)
        .where(
            _open_cs.c.step_id == Step.id,
            Counter.project_id == bindparam("project_id"),
            Counter.is_open,
        )
        .scalar_subquery()
        .label("open_counters"),
    )
    .join(_cs, _cs.c.step_id == Step.id)
    .where(_cs.c.counter_id == bindparam("counter_id"))
    .order_by(Step.sort)
)

# The tickets at the counter: the one called or served, and those on hold.
_HERE = (
    select(VisitStep.visit_id, VisitStep.state)
    .where(
        VisitStep.counter_id == bindparam("counter_id"),
        VisitStep.state.in_((*AT_COUNTER, State.HELD)),
    )
    .order_by(VisitStep.id)
)


def counter_snapshot(
    session: Session,
    counter: Counter,
    day: date | None = None,
    *,
    statuses: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`statuses` (visit id -> visit_status): what was just built for the screens after a
    change, reused rather than built again. Three queries."""
    day = day or clock.today()
    statuses = statuses or {}
    # Plain rows, so straight on the session's connection (Session.execute's ORM layer costs
    # as much again as these small queries).
    conn = session.connection()
    steps = conn.execute(
        _COUNTER_STEPS, {"counter_id": counter.id, "project_id": counter.project_id, "day": day}
    ).all()
    here = conn.execute(_HERE, {"counter_id": counter.id}).all()

    def status_of(visit_id: int) -> dict[str, Any]:
        if visit_id in statuses:
            return statuses[visit_id]
        return visit_status(session, load_visit(session, visit_id))

    current = next((visit_id for visit_id, state in here if state in AT_COUNTER), None)
    durations = service_times.by_step(session, counter.project_id, day)
    waiting = []
    for step in steps:
        # As step_waits reports the project's active steps.
        if step.active and step.project_id == counter.project_id:
            minutes = typical_service_minutes(
                durations.get(step.id, []), step.default_service_minutes
            )
            waiting.append(
                {
                    "id": step.id,
                    "code": step.code,
                    **_names(step),
                    "waiting": step.waiting,
                    "open_counters": step.open_counters,
                    "service_minutes": round(minutes, 1),
                    "estimated_wait": estimated_wait_minutes(
                        step.waiting, minutes, step.open_counters
                    ),
                }
            )
    return {
        "counter": {
            "id": counter.id,
            "code": counter.code,
            **_names(counter),
            "is_open": counter.is_open,
            "steps": [{"id": s.id, "code": s.code, **_names(s)} for s in steps],
        },
        "waiting": waiting,
        "current": status_of(current) if current is not None else None,
        "held": [status_of(visit_id) for visit_id, state in here if state == State.HELD],
        "print_problems": [
            {
                "id": job.id,
                "kind": job.kind,
                "state": job.state,
                "attempts": job.attempts,
                "error": job.last_error,
                "printer": job.printer,
            }
            for job in print_jobs.problem_rows(conn, counter_id=counter.id)
        ],
    }


def timestamp(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") if dt else None
