"""Counter actions: call next, recall, no-show, start, complete, hold, release, transfer, skip,
cancel. Each refuses illegal moves before changing anything, commits, then announces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server import clock
from server.engine import (
    Action,
    Forbidden,
    Invalid,
    NotFound,
    State,
    next_step_index,
    no_show_action,
)
from server.models import Counter, Step, Unit, Visit, VisitStep

from . import audit, counter_events, events, requirements
from .actor import Actor
from .counter_desk import ensure_holder, is_supervisor
from .settings import QueueSettings
from .transitions import move

OPEN = ("called", "serving")


def get_counter(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    stmt = select(Counter).where(Counter.id == counter_id)
    if lock:
        # Serialises two presses on the same counter (PostgreSQL; SQLite is serialised already).
        stmt = stmt.with_for_update()
    counter = session.scalar(stmt)
    if counter is None:
        raise NotFound("unknown_counter", "Unknown counter.")
    return counter


def get_visit_step(session: Session, visit_step_id: int) -> VisitStep:
    vs = session.get(VisitStep, visit_step_id)
    if vs is None:
        raise NotFound("unknown_ticket", "Unknown ticket.")
    return vs


def current_at_counter(session: Session, counter_id: int) -> VisitStep | None:
    return session.scalar(
        select(VisitStep).where(VisitStep.counter_id == counter_id, VisitStep.state.in_(OPEN))
    )


def _at_counter(
    session: Session, visit_step_id: int, counter_id: int, actor: Actor
) -> tuple[Counter, VisitStep]:
    """The counter and the ticket it acts on; refuses a ticket another counter called, and a
    staff member who does not hold the counter."""
    counter = get_counter(session, counter_id)
    ensure_holder(session, counter, actor)
    vs = get_visit_step(session, visit_step_id)
    if vs.counter_id != counter.id:
        raise Forbidden("not_your_ticket", "This ticket was called by another counter.")
    return counter, vs


def _require_serves(counter: Counter, step_id: int) -> None:
    if step_id not in {s.id for s in counter.steps}:
        step_names = "、".join(s.name_zh for s in counter.steps) or "-"
        raise Forbidden(
            "counter_does_not_serve_step",
            "%(counter)s does not serve this step (it serves: %(steps)s).",
            counter=counter.name_zh,
            steps=step_names,
        )


def call_next(
    session: Session, *, counter_id: int, actor: Actor, now: datetime | None = None
) -> VisitStep | None:
    """Claims the first waiting visit among the counter's steps; None when the queue is empty.

    The claim is one conditional UPDATE on the row chosen by a sub-select with FOR UPDATE SKIP
    LOCKED (PostgreSQL) inside a BEGIN IMMEDIATE transaction (SQLite): two counters pressing at
    the same moment never get the same visit, and a locked row is skipped, not waited on.
    """
    now = now or clock.now()
    counter = get_counter(session, counter_id, lock=True)
    ensure_holder(session, counter, actor)
    if not counter.is_open:
        raise Invalid("counter_closed", "This counter is closed. Open it first.")
    step_ids = [s.id for s in counter.steps]
    if not step_ids:
        raise Invalid("counter_has_no_steps", "This counter serves no step.")
    busy = current_at_counter(session, counter.id)
    if busy is not None:
        raise Invalid(
            "counter_busy",
            "Finish %(ticket)s first (complete, hold or mark as no-show).",
            ticket=busy.visit.ticket_no,
        )
    candidate = (
        select(VisitStep.id)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .where(
            VisitStep.state == State.WAITING.value,
            VisitStep.step_id.in_(step_ids),
            Visit.day == now.date(),
            Visit.project_id == counter.project_id,
        )
        .order_by(VisitStep.priority_rank, VisitStep.queue_at, VisitStep.seq)
        .limit(1)
        .with_for_update(skip_locked=True, of=VisitStep)
        .scalar_subquery()
    )
    claimed_id = session.execute(
        update(VisitStep)
        .where(VisitStep.id == candidate, VisitStep.state == State.WAITING.value)
        .values(
            state=State.CALLED.value, counter_id=counter.id, staff_id=actor.staff_id, called_at=now
        )
        .returning(VisitStep.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if claimed_id is None:
        session.commit()
        return None
    vs = session.get(VisitStep, claimed_id, populate_existing=True)
    # The UPDATE already moved the row; record the transition the engine allows.
    vs.state = State.WAITING.value
    move(session, vs, Action.CALL, actor, now, counter_id=counter.id)
    vs.recall_count = 0
    events.visit_changed(session, vs.visit, called=vs)
    session.commit()
    return vs


def recall(
    session: Session, *, visit_step_id: int, counter_id: int, actor: Actor, now=None
) -> VisitStep:
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    move(session, vs, Action.RECALL, actor, now, counter_id=counter.id)
    vs.recall_count += 1
    vs.called_at = now
    events.visit_changed(session, vs.visit, called=vs, recall=True)
    session.commit()
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
    if vs.state != State.CALLED.value:
        move(session, vs, Action.NO_SHOW_REQUEUE, actor, now)  # raises the clear refusal
    action = no_show_action(vs.recall_count, settings.max_recalls, settings.no_show_policy)
    move(session, vs, action, actor, now, counter_id=counter.id)
    vs.counter_id = None
    if action is Action.NO_SHOW_REQUEUE:
        # Behind everyone who is due now. Never earlier than its own fair time: an owner early
        # for a later slot would otherwise jump back to the front and be called again at once.
        vs.queue_at = max(now, vs.queue_at or now)
        vs.seq = (
            session.scalar(select(func.max(VisitStep.seq)).where(VisitStep.step_id == vs.step_id))
            or 0
        ) + 1
    else:
        vs.visit.status = "out"
        vs.visit.finished_at = now
    events.visit_changed(session, vs.visit)
    session.commit()
    return vs


def start(
    session: Session, *, visit_step_id: int, counter_id: int, actor: Actor, now=None
) -> VisitStep:
    now = now or clock.now()
    counter, vs = _at_counter(session, visit_step_id, counter_id, actor)
    move(session, vs, Action.START, actor, now, counter_id=counter.id)
    vs.started_at = now
    vs.staff_id = actor.staff_id
    events.visit_changed(session, vs.visit)
    session.commit()
    return vs


def _advance(session: Session, visit: Visit, actor: Actor, now: datetime) -> None:
    """Queue the visit at its next unsettled step, or finish it."""
    idx = next_step_index([s.state for s in visit.steps])
    if idx is None:
        visit.status = "finished"
        visit.finished_at = now
        visit.current_step_id = None
        last = visit.steps[-1]
        if last.state == State.DONE.value:
            unit = session.get(Unit, visit.unit_id)
            unit.handed_over = True
        audit.record(session, actor, "visit.finish", "visit", visit.id, ticket_no=visit.ticket_no)
        return
    nxt = visit.steps[idx]
    if nxt.state == State.WAITING.value:
        return
    move(session, nxt, Action.ENQUEUE, actor, now)
    nxt.queue_at = now
    nxt.seq = visit.id
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
    _require_serves(counter, vs.step_id)
    if vs.state not in OPEN:
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
    if vs.state == State.CALLED.value:
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
    _advance(session, vs.visit, actor, now)
    events.visit_changed(session, vs.visit)
    counter_events.counter_changed(session, counter.id)
    session.commit()
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
    events.visit_changed(session, vs.visit)
    session.commit()
    return vs


def release(session: Session, *, visit_step_id: int, actor: Actor, now=None) -> VisitStep:
    """Back into the queue at its original place: the owner only stepped away."""
    now = now or clock.now()
    vs = get_visit_step(session, visit_step_id)
    move(session, vs, Action.RELEASE, actor, now, counter_id=vs.counter_id)
    vs.counter_id = None
    events.visit_changed(session, vs.visit)
    session.commit()
    return vs


def _open_step(visit: Visit) -> VisitStep:
    for s in visit.steps:
        if s.state in ("waiting", "called", "serving", "held"):
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
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("unknown_visit", "Unknown visit.")
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
    visit = get_visit(session, visit_id)
    if visit.status != "active":
        raise Invalid("visit_not_active", "This visit is no longer active.")
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
    move(session, target, Action.ENQUEUE, actor, now, reason=reason)
    target.queue_at = now
    target.seq = visit.id
    target.counter_id = None
    visit.current_step_id = target.step_id
    events.visit_changed(session, visit)
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
    return visit


def skip(
    session: Session, *, visit_id: int, step_code: str, actor: Actor, reason: str, now=None
) -> Visit:
    now = now or clock.now()
    if not (reason or "").strip():
        raise Invalid("reason_required", "Please give a reason.")
    visit = get_visit(session, visit_id)
    if visit.status != "active":
        raise Invalid("visit_not_active", "This visit is no longer active.")
    step = _step_of_project(session, visit, step_code)
    vs = next((s for s in visit.steps if s.step_id == step.id), None)
    if vs is None:
        raise Invalid("step_not_in_visit", "This visit does not include that step.")
    was_current = vs.state in ("waiting", "called", "serving", "held")
    move(session, vs, Action.SKIP, actor, now, counter_id=vs.counter_id, reason=reason.strip())
    vs.counter_id = None
    if was_current:
        _advance(session, visit, actor, now)
    events.visit_changed(session, visit)
    session.commit()
    return visit


def cancel(session: Session, *, visit_id: int, actor: Actor, reason: str, now=None) -> Visit:
    now = now or clock.now()
    if not (reason or "").strip():
        raise Invalid("reason_required", "Please give a reason.")
    visit = get_visit(session, visit_id)
    if visit.status != "active":
        raise Invalid("visit_not_active", "This visit is no longer active.")
    for vs in visit.steps:
        if vs.state in ("pending", "waiting", "called", "serving", "held"):
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
    visit.status = "cancelled"
    visit.cancel_reason = reason.strip()
    visit.finished_at = now
    visit.current_step_id = None
    audit.record(session, actor, "visit.cancel", "visit", visit.id, reason=reason.strip())
    events.visit_changed(session, visit)
    session.commit()
    return visit
