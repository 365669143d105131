"""Counter stations: call, recall, no-show, serve, complete, hold, transfer, skip, cancel."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.auth import current_actor, require
from server.engine import NotFound
from server.models import Counter, Project
from server.printing import jobs as print_jobs
from server.printing import worker as print_worker
from server.services import events, printing, queue, snapshots
from server.services.settings import QueueSettings
from server.web import body, db_session, ok, project_id

bp = Blueprint("counter", __name__, static_folder="static", static_url_path="/counter/static")


class ReasonBody(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class CompleteBody(BaseModel):
    # A supervisor completes a step although its panel says something is missing.
    override_reason: str | None = Field(default=None, max_length=500)


class TransferBody(BaseModel):
    to_step: str = Field(min_length=1, max_length=30)
    reason: str | None = Field(default=None, max_length=500)


class SkipBody(BaseModel):
    step: str = Field(min_length=1, max_length=30)
    reason: str = Field(min_length=1, max_length=500)


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def _counter(counter_id: int) -> Counter:
    counter = queue.find_counter(db_session(), counter_id)
    if counter is None or counter.project_id != project_id():
        raise NotFound("unknown_counter", "Unknown counter.")
    return counter


def _visit_in_project(visit_id: int):
    visit = queue.get_visit(db_session(), visit_id)
    if visit.project_id != project_id():
        raise NotFound("unknown_visit", "Unknown visit.")
    return visit


def _counter_data(counter: Counter) -> dict:
    s = db_session()
    done = events.published(s)  # what the screens were just sent: not built twice
    if done is None:
        return snapshots.counter_snapshot(s, counter)
    return snapshots.counter_snapshot(s, counter, statuses=done.statuses)


def _counter_answer(counter: Counter, status: int = 200):
    return ok(_counter_data(counter), status)


@bp.get("/counter/")
@require("staff", page=True)
def choose():
    counters = (
        db_session()
        .scalars(select(Counter).where(Counter.project_id == project_id()).order_by(Counter.code))
        .all()
    )
    return render_template("counter/choose.html", counters=counters)


@bp.get("/counter/<int:counter_id>")
@require("staff", page=True)
def page(counter_id: int):
    return render_template(
        "counter/index.html", counter=_counter(counter_id), actor=current_actor()
    )


@bp.get("/api/queue")
@require("staff", devices=("kiosk", "display"))
def api_queue():
    return ok(snapshots.queue_state(db_session(), project_id()))


@bp.get("/api/counters")
@require("staff")
def api_counters():
    return ok(snapshots.counters_now(db_session(), project_id()))


@bp.get("/api/counters/<int:counter_id>")
@require("staff")
def api_counter(counter_id: int):
    return _counter_answer(_counter(counter_id))


@bp.post("/api/counters/<int:counter_id>/call-next")
@require("staff")
def api_call_next(counter_id: int):
    counter = _counter(counter_id)
    vs = queue.call_next(db_session(), counter_id=counter.id, actor=current_actor())
    return ok({**_counter_data(counter), "queue_empty": vs is None})


_TICKET_ACTIONS = {
    "recall": queue.recall,
    "start": queue.start,
    "complete": queue.complete,
    "hold": queue.hold,
    "no-show": queue.no_show,
}


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/<action>")
@require("staff")
def api_ticket_action(counter_id: int, visit_step_id: int, action: str):
    fn = _TICKET_ACTIONS.get(action)
    if fn is None:
        raise NotFound("unknown_action", "Unknown action.")
    counter = _counter(counter_id)
    kwargs = {"visit_step_id": visit_step_id, "counter_id": counter.id, "actor": current_actor()}
    if action == "no-show":
        project = db_session().get(Project, counter.project_id)
        kwargs["settings"] = QueueSettings.for_project(project, current_app.config)
    if action == "hold":
        kwargs["reason"] = body(ReasonBody).reason
    if action == "complete":
        kwargs["override_reason"] = body(CompleteBody).override_reason
    fn(db_session(), **kwargs)
    return _counter_answer(counter)


@bp.post("/api/counters/<int:counter_id>/print-jobs/<int:job_id>/reprint")
@require("staff")
def api_reprint(counter_id: int, job_id: int):
    """Print a receipt of this counter again (after paper was changed or the printer is back)."""
    counter = _counter(counter_id)
    s = db_session()
    if job_id not in {j.id for j in print_jobs.problem_jobs(s, counter_id=counter.id, limit=100)}:
        raise NotFound("unknown_print_job", "Unknown print job.")
    printing.reprint(s, job_id, actor=current_actor(), counter_id=counter.id)
    print_worker.wake()
    return _counter_answer(counter)


@bp.post("/api/visit-steps/<int:visit_step_id>/release")
@require("staff")
def api_release(visit_step_id: int):
    s = db_session()
    vs = queue.get_visit_step(s, visit_step_id)
    _visit_in_project(vs.visit_id)
    queue.release(s, visit_step_id=vs.id, actor=current_actor())
    return ok(snapshots.visit_status(s, vs.visit))


@bp.get("/api/visits/<int:visit_id>")
@require("staff")
def api_visit(visit_id: int):
    return ok(snapshots.visit_status(db_session(), _visit_in_project(visit_id)))


@bp.post("/api/visits/<int:visit_id>/transfer")
@require("staff")
def api_transfer(visit_id: int):
    data = body(TransferBody)
    visit = _visit_in_project(visit_id)
    queue.transfer(
        db_session(),
        visit_id=visit.id,
        to_step=data.to_step,
        actor=current_actor(),
        reason=data.reason,
    )
    return ok(snapshots.visit_status(db_session(), visit))


@bp.post("/api/visits/<int:visit_id>/skip")
@require("staff")
def api_skip(visit_id: int):
    data = body(SkipBody)
    visit = _visit_in_project(visit_id)
    queue.skip(
        db_session(),
        visit_id=visit.id,
        step_code=data.step,
        actor=current_actor(),
        reason=data.reason,
    )
    return ok(snapshots.visit_status(db_session(), visit))


@bp.post("/api/visits/<int:visit_id>/cancel")
@require("supervisor")
def api_cancel(visit_id: int):
    data = body(CancelBody)
    visit = _visit_in_project(visit_id)
    queue.cancel(db_session(), visit_id=visit.id, actor=current_actor(), reason=data.reason)
    return ok(snapshots.visit_status(db_session(), visit))
