"""Counter actions: call next, recall, no-show, start, complete, hold, release, transfer, skip,
cancel.

Each one: `writing(session)` (SQLite: the write lock from the first read the change depends
on), refuse illegal moves before changing anything, change, commit, then `events.visit_changed`
builds what the screens show from the committed rows, outside the write lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session, joinedload

from server import clock
from server.db import is_postgres, reading, writing
from server.engine import (
    AT_COUNTER,
    OPEN_STATES,
    Action,
    Forbidden,
    Invalid,
    NotFound,
    State,
    VisitStatus,
    next_step_index,
    no_show_action,
)
from server.models import Counter, Step, Visit, VisitStep, counter_steps

from . import audit, counter_events, events, requirements, service_times, snapshots
from .actor import Actor
from .counter_desk import ensure_holder, is_supervisor
from .queue_rules import QUEUE_ORDER, enqueue, requeue_at_end
from .settings import QueueSettings
from .transitions import move, record


def get_counter(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    if lock and is_postgres(session):
        # Serialises two presses on the same counter (SQLite's write lock does it already).
        counter = session.get(Counter, counter_id, with_for_update=True, populate_existing=True)
    else:
        counter = session.get(Counter, counter_id)
    if counter is None:
        raise NotFound("unknown_counter", "Unknown counter.")
    return counter


# Every counter press reads its counter and most read the ticket: statements built once (a
# statement memoizes its cache key; session.get builds its statement and options anew).
_COUNTER = select(Counter).where(Counter.id == bindparam("counter_id"))
_VISIT_STEP = (
    select(VisitStep)
    .where(VisitStep.id == bindparam("visit_step_id"))
    .options(joinedload(VisitStep.visit).options(*snapshots.VISIT_WITH_STATUS_JOINED))
)
_VISIT = (
    select(Visit)
    .where(Visit.id == bindparam("visit_id"))
    .options(*snapshots.VISIT_WITH_STATUS_JOINED)
)


def find_counter(session: Session, counter_id: int) -> Counter | None:
    return session.execute(_COUNTER, {"counter_id": counter_id}).scalar_one_or_none()


def get_visit_step(session: Session, visit_step_id: int) -> VisitStep:
    """The ticket with its visit, the visit's unit and owner and all its steps (one query,
    none if the session has it already)."""
    vs = session.identity_map.get(Session.identity_key(VisitStep, visit_step_id))
    if vs is None:
        result = session.execute(_VISIT_STEP, {"visit_step_id": visit_step_id})
        vs = result.unique().scalar_one_or_none()
    if vs is None:
        raise NotFound("unknown_ticket", "Unknown ticket.")
    return vs


def current_at_counter(session: Session, counter_id: int) -> VisitStep | None:
    return session.scalar(
        select(VisitStep).where(VisitStep.counter_id == counter_id, VisitStep.state.in_(AT_COUNTER))
    )


def _at_counter(
    session: Session, visit_step_id: int, counter_id: int, actor: Actor
) -> tuple[Counter, VisitStep]:
    """The counter and the ticket it acts on; refuses a ticket another counter called, and a
    staff member who does not hold the counter."""
    writing(session)
    counter = get_counter(session, counter_id)
    ensure_holder(session, counter, actor)
    vs = get_visit_step(session, visit_step_id)
    if vs.counter_id != counter.id:
        raise Forbidden("not_your_ticket", "This ticket was called by another counter.")
    return counter, vs


# Whether a counter serves a step: asked on every complete, so one row of the link table
# rather than the counter's Step objects (loaded only for the refusal's wording).
_SERVES = select(counter_steps.c.step_id).where(
    counter_steps.c.counter_id == bindparam("counter_id"),
    counter_steps.c.step_id == bindparam("step_id"),
)


def _require_serves(session: Session, counter: Counter, step_id: int) -> None:
    params = {"counter_id": counter.id, "step_id": step_id}
    if session.connection().execute(_SERVES, params).first() is None:
        step_names = "、".join(s.name_zh for s in counter.steps) or "-"
        raise Forbidden(
            "counter_does_not_serve_step",
            "%(counter)s does not serve this step (it serves: %(steps)s).",
            counter=counter.name_zh,
            steps=step_names,
        )


# The claim (see _claim), built once: it runs on every call-next.
# The counter's steps are its project's, so the step and the day (on the row, see
# VisitStep.day) find the candidates in the queue index alone, with no join to visits.
_CLAIM_CANDIDATE = (
    select(VisitStep.id)
    .where(
        VisitStep.state == State.WAITING,
        VisitStep.step_id.in_(
            select(counter_steps.c.step_id).where(
                counter_steps.c.counter_id == bindparam("claim_counter")
            )
        ),
        VisitStep.day == bindparam("claim_day"),
    )
    .order_by(*QUEUE_ORDER)
    .limit(1)
    .with_for_update(skip_locked=True, of=VisitStep)
    .scalar_subquery()
)
_CLAIM = (
    update(VisitStep)
    .where(
        VisitStep.id == _CLAIM_CANDIDATE,
        VisitStep.state == State.WAITING,
        ~exists().where(
            VisitStep.counter_id == bindparam("claim_counter"),
            VisitStep.state.in_(AT_COUNTER),
        ),
    )
    .values(
        state=State.CALLED,
        counter_id=bindparam("claim_counter"),
        staff_id=bindparam("claim_staff"),
        called_at=bindparam("claim_at"),
        recall_count=0,
    )
    .returning(VisitStep)
    .execution_options(synchronize_session=False, populate_existing=True)
)


def _claim(session: Session, counter: Counter, actor: Actor, now: datetime) -> VisitStep | None:
    """One conditional UPDATE: the first waiting visit of the counter's steps becomes called
    here, unless the counter is already busy with one. The row is chosen by a sub-select with
    FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite holds the write lock): two counters pressing at
    the same moment never get the same visit, and a locked row is skipped, not waited on."""
    params = {
        "claim_counter": counter.id,
        "claim_day": now.date(),
        "claim_staff": actor.staff_id,
        "claim_at": now,
    }
    return session.scalars(_CLAIM, params).one_or_none()


def call_next(
    session: Session, *, counter_id: int, actor: Actor, now: datetime | None = None
) -> VisitStep | None:
    """Claims the first waiting visit among the counter's steps; None when the queue is empty."""
    now = now or clock.now()
    writing(session)
    counter = get_counter(session, counter_id, lock=True)
    ensure_holder(session, counter, actor)
    if not counter.is_open:
        raise Invalid("counter_closed", "This counter is closed. Open it first.")
    vs = _claim(session, counter, actor, now)
    if vs is None:
        _refuse_if_cannot_call(session, counter)
        session.commit()
        return None
    called = record(session, vs, State.WAITING, Action.CALL, actor, now, counter_id=counter.id)
    session.commit()
    # Held here: the session keeps objects only while something refers to them.
    visit = _load_visit(session, vs.visit_id)
    events.visit_changed(session, visit.id, called=called)
    return vs


def _load_visit(session: Session, visit_id: int) -> Visit:
    """The called visit with what its status shows, read after the commit without the write
    lock, in one query (events.visit_changed then finds it in the session)."""
    reading(session)
    return session.execute(_VISIT, {"visit_id": visit_id}).unique().scalar_one()


def _refuse_if_cannot_call(session: Session, counter: Counter) -> None:
    """Nothing was claimed: say why when it is not simply an empty queue."""
    busy = current_at_counter(session, counter.id)
    if busy is not None:
        raise Invalid(
            "counter_busy",
            "Finish %(ticket)s first (complete, hold or mark as no-show).",
            ticket=busy.visit.ticket_no,
        )
    if not counter.steps:
        raise Invalid("counter_has_no_steps", "This counter serves no step.")


def recall(
    session: Session, *, visit_step_id: int, counter_id: int, actor: Actor, now=None
) -> VisitStep:
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    called = move(session, vs, Action.RECALL, actor, now, counter_id=counter.id)
    vs.recall_count += 1
    vs.called_at = now
    session.commit()
    events.visit_changed(session, vs.visit_id, called=called)
    return vs


def no_show(
    session: Session,
    *,
    visit_step_id: int,
    counter_id: int,
    actor: Actor,
    settings: QueueSettings,
    now=None,
) -> VisitStep:
    """The owner did not come: back to the end of the queue, or out once recalls are used up."""
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    if vs.state != State.CALLED:
        move(session, vs, Action.NO_SHOW_REQUEUE, actor, now)  # raises the clear refusal
    action = no_show_action(vs.recall_count, settings.max_recalls, settings.no_show_policy)
    move(session, vs, action, actor, now, counter_id=counter.id)
    vs.counter_id = None
    if action is Action.NO_SHOW_REQUEUE:
        requeue_at_end(session, vs, now)
    else:
        vs.visit.status = VisitStatus.OUT
        vs.visit.finished_at = now
    session.commit()
    events.visit_changed(session, vs.visit_id)
    return vs


def start(
    session: Session, *, visit_step_id: int, counter_id: int, actor: Actor, now=None
) -> VisitStep:
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    move(session, vs, Action.START, actor, now, counter_id=counter.id)
    vs.started_at = now
    vs.staff_id = actor.staff_id
    session.commit()
    events.visit_changed(session, vs.visit_id)
    return vs


def _advance(session: Session, visit: Visit, actor: Actor, now: datetime) -> None:
    """Queue the visit at its next unsettled step, or finish it."""
    idx = next_step_index([s.state for s in visit.steps])
    if idx is None:
        visit.status = VisitStatus.FINISHED
        visit.finished_at = now
        visit.current_step_id = None
        if visit.steps[-1].state == State.DONE:
            visit.unit.handed_over = True
        audit.record(session, actor, "visit.finish", "visit", visit.id, ticket_no=visit.ticket_no)
        return
    nxt = visit.steps[idx]
    if nxt.state == State.WAITING:
        return
    enqueue(session, nxt, actor, now)
    visit.current_step_id = nxt.step_id


def complete(
    session: Session,
    *,
    visit_step_id: int,
    counter_id: int,
    actor: Actor,
    override_reason: str | None = None,
    now=None,
) -> VisitStep:
    """Refused while the step's panel says something required is missing, unless a
    supervisor overrides with a reason (logged with what was missing)."""
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    _require_serves(session, counter, vs.step_id)
    if vs.state not in AT_COUNTER:
        move(session, vs, Action.COMPLETE, actor, now)  # raises the clear refusal
    gaps = requirements.missing(session, vs)
    override_reason = (override_reason or "").strip() or None
    if gaps and override_reason is None:
        raise Invalid(
            "step_incomplete",
            "Cannot complete yet, still missing: %(what)s",
            what="、".join(g["text_zh"] for g in gaps),
        )
    if gaps:
        if not is_supervisor(actor):
            raise Forbidden("supervisor_only", "Only a supervisor can do this.")
        audit.record(
            session,
            actor,
            "step.override_complete",
            "visit_step",
            vs.id,
            visit_id=vs.visit_id,
            reason=override_reason,
            missing=[g["text_zh"] for g in gaps],
        )
    if vs.state == State.CALLED:
        # Completed without "start": serving began when the owner was called, so the service
        # time is counted from the call, and the start is marked as implicit.
        started = vs.called_at or now
        move(
            session,
            vs,
            Action.START,
            actor,
            started,
            counter_id=counter.id,
            reason="implicit start (completed from called)",
        )
        vs.started_at = started
    move(session, vs, Action.COMPLETE, actor, now, counter_id=counter.id, reason=override_reason)
    vs.finished_at = now
    visit = vs.visit
    _advance(session, visit, actor, now)
    counter_events.counter_changed(session, counter.id)
    session.commit()
    service_times.add(session, visit.project_id, visit.day, vs.step_id, vs.started_at, now)
    events.visit_changed(session, visit.id)
    return vs


def hold(
    session: Session,
    *,
    visit_step_id: int,
    counter_id: int,
    actor: Actor,
    reason: str | None = None,
    now=None,
) -> VisitStep:
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    move(session, vs, Action.HOLD, actor, now, counter_id=counter.id, reason=reason)
    vs.note = reason
    session.commit()
    events.visit_changed(session, vs.visit_id)
    return vs


def release(session: Session, *, visit_step_id: int, actor: Actor, now=None) -> VisitStep:
    """Back into the queue at its original place: the owner only stepped away."""
    now = now or clock.now()
    writing(session)
    vs = get_visit_step(session, visit_step_id)
    move(session, vs, Action.RELEASE, actor, now, counter_id=vs.counter_id)
    vs.counter_id = None
    session.commit()
    events.visit_changed(session, vs.visit_id)
    return vs


def _open_step(visit: Visit) -> VisitStep:
    for s in visit.steps:
        if s.state in OPEN_STATES:
            return s
    raise Invalid("visit_not_in_queue", "This visit is not in any queue.")


def _step_of_project(session: Session, visit: Visit, step_code: str) -> Step:
    step = session.scalar(
        select(Step).where(Step.project_id == visit.project_id, Step.code == step_code)
    )
    if step is None:
        raise NotFound("unknown_step", "Unknown step: %(step)s", step=step_code[:30])
    return step


def get_visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id, options=snapshots.VISIT_WITH_STATUS)
    if visit is None:
        raise NotFound("unknown_visit", "Unknown visit.")
    return visit


def _active_visit(session: Session, visit_id: int) -> Visit:
    writing(session)
    visit = get_visit(session, visit_id)
    if visit.status != VisitStatus.ACTIVE:
        raise Invalid("visit_not_active", "This visit is no longer active.")
    return visit


def transfer(
    session: Session,
    *,
    visit_id: int,
    to_step: str,
    actor: Actor,
    reason: str | None = None,
    now=None,
) -> Visit:
    """Route a visit to another step now (e.g. inspect first); the step it leaves stays to do."""
    now = now or clock.now()
    visit = _active_visit(session, visit_id)
    target_step = _step_of_project(session, visit, to_step)
    current = _open_step(visit)
    target = next((s for s in visit.steps if s.step_id == target_step.id), None)
    if target is None:
        raise Invalid("step_not_in_visit", "This visit does not include that step.")
    if target is current:
        raise Invalid("same_step", "The visit is already at this step.")
    move(
        session, current, Action.TRANSFER, actor, now, counter_id=current.counter_id, reason=reason
    )
    current.counter_id = None
    enqueue(session, target, actor, now, reason=reason)
    visit.current_step_id = target.step_id
    counter_events.ticket_transferred(
        session,
        {
            "visit_id": visit.id,
            "ticket_no": visit.ticket_no,
            "unit": visit.unit.label,
            "to_step": {
                "code": target_step.code,
                "name_zh": target_step.name_zh,
                "name_en": target_step.name_en,
            },
            "reason": reason,
        },
        target_step.id,
    )
    session.commit()
    events.visit_changed(session, visit.id)
    return visit


def skip(
    session: Session, *, visit_id: int, step_code: str, actor: Actor, reason: str, now=None
) -> Visit:
    now = now or clock.now()
    if not (reason or "").strip():
        raise Invalid("reason_required", "Please give a reason.")
    visit = _active_visit(session, visit_id)
    step = _step_of_project(session, visit, step_code)
    vs = next((s for s in visit.steps if s.step_id == step.id), None)
    if vs is None:
        raise Invalid("step_not_in_visit", "This visit does not include that step.")
    was_current = vs.state in OPEN_STATES
    move(session, vs, Action.SKIP, actor, now, counter_id=vs.counter_id, reason=reason.strip())
    vs.counter_id = None
    if was_current:
        _advance(session, visit, actor, now)
    session.commit()
    events.visit_changed(session, visit.id)
    return visit


def cancel(session: Session, *, visit_id: int, actor: Actor, reason: str, now=None) -> Visit:
    now = now or clock.now()
    if not (reason or "").strip():
        raise Invalid("reason_required", "Please give a reason.")
    visit = _active_visit(session, visit_id)
    for vs in visit.steps:
        if vs.state == State.PENDING or vs.state in OPEN_STATES:
            move(
                session,
                vs,
                Action.CANCEL,
                actor,
                now,
                counter_id=vs.counter_id,
                reason=reason.strip(),
            )
            vs.counter_id = None
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = reason.strip()
    visit.finished_at = now
    visit.current_step_id = None
    audit.record(session, actor, "visit.cancel", "visit", visit.id, reason=reason.strip())
    session.commit()
    events.visit_changed(session, visit.id)
    return visit
