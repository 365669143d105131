"""The inspection tablet (验房): an installable web app that takes a visit at an inspection
counter, works in the unit with no network and uploads what it captured when back in range.
It is also the desk panel of counters whose step has kind `inspect`.

Every upload carries the `client_id` the tablet made, so a retry never creates a second row.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    send_file,
)
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.auth import current_actor, require
from server.engine import Invalid, NotFound
from server.i18n import request_locale
from server.models import Counter, InspectionResult, StoredFile, Visit
from server.printing import jobs as print_jobs
from server.printing import worker as print_worker
from server.services import acceptance_form, audit, inspection, snapshots
from server.services import files as file_store
from server.services.inspection_print import defect_list_for
from server.web import body, db_session, ok, project_id

bp = Blueprint(
    "inspect",
    __name__,
    static_folder="static/inspect",
    static_url_path="/inspect/static",
)


class CheckBody(BaseModel):
    counter_id: int
    client_id: str = Field(min_length=8, max_length=40)
    room: str = Field(min_length=1, max_length=30)
    item: str = Field(min_length=1, max_length=30)
    result: str = Field(max_length=10)
    recorded_at: datetime | None = None


class DefectBody(BaseModel):
    counter_id: int
    client_id: str = Field(min_length=8, max_length=40)
    room: str = Field(min_length=1, max_length=30)
    item: str = Field(min_length=1, max_length=30)
    category_id: int | None = None
    description: str = Field(default="", max_length=1000)
    severity: str = Field(default="minor", max_length=10)
    pin_x: float | None = None
    pin_y: float | None = None
    photos: list[str] = Field(default_factory=list, max_length=12)
    known_issue_id: int | None = None
    supersedes: str | None = Field(default=None, max_length=40)
    correction_reason: str | None = Field(default=None, max_length=500)
    voided: bool = False
    recorded_at: datetime | None = None


class KnownIssueBody(BaseModel):
    counter_id: int
    client_id: str = Field(min_length=8, max_length=40)
    known_issue_id: int
    result: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=500)


class OutcomeBody(BaseModel):
    counter_id: int
    client_id: str = Field(min_length=8, max_length=40)
    outcome: str = Field(max_length=30)
    reason: str | None = Field(default=None, max_length=1000)
    promised_date: date | None = None
    signer_name: str | None = Field(default=None, max_length=60)
    signature: str | None = Field(default=None, max_length=40)
    recorded_at: datetime | None = None


class TakeBody(BaseModel):
    visit_step_id: int


class ResolveBody(BaseModel):
    resolution: str = Field(min_length=1, max_length=500)


def _inspect_counter(counter_id: int) -> Counter:
    counter = db_session().get(Counter, counter_id)
    if counter is None or counter.project_id != project_id():
        raise NotFound("unknown_counter", "Unknown counter.")
    if not any(s.kind == "inspect" for s in counter.steps):
        raise Invalid("not_an_inspection_counter", "This counter does not serve inspection.")
    return counter


def _visit(visit_id: int) -> Visit:
    visit = db_session().get(Visit, visit_id)
    if visit is None or visit.project_id != project_id():
        raise NotFound("unknown_visit", "Unknown visit.")
    return visit


def _saved(saved: inspection.Saved):
    row = saved.row
    return ok(
        {
            "id": row.id,
            "client_id": row.client_id,
            "created": saved.created,
            "attention": saved.attention.as_dict(request_locale()) if saved.attention else None,
        },
        201 if saved.created else 200,
    )


# ---- the app shell (cached by the service worker) --------------------------------------------


@bp.get("/inspect/")
@require("staff", page=True)
def app_page():
    return render_template("inspect/app.html")


@bp.after_request
def _pwa_headers(response):
    # The service worker lives with the static files but controls the whole app; it is never
    # cached itself, so an update reaches the tablet the next time it is in range.
    if request.endpoint == "inspect.static":
        if request.path.endswith("/sw.js"):
            response.headers["Service-Worker-Allowed"] = "/inspect/"
            response.headers["Cache-Control"] = "no-cache"
        elif request.path.endswith(".webmanifest"):
            response.mimetype = "application/manifest+json"
    return response


# ---- API -------------------------------------------------------------------------------------


@bp.get("/api/inspect/session")
@require("staff")
def api_session():
    """A fresh CSRF token for a tablet whose page was loaded from its cache."""
    actor = current_actor()
    return ok({"csrf_token": generate_csrf(), "staff": {"id": actor.staff_id, "name": actor.name}})


@bp.get("/api/inspect/counters")
@require("staff")
def api_counters():
    s = db_session()
    counters = s.scalars(
        select(Counter).where(Counter.project_id == project_id()).order_by(Counter.code)
    ).all()
    return ok(
        [
            snapshots.counter_snapshot(s, c)
            for c in counters
            if any(st.kind == "inspect" for st in c.steps)
        ]
    )


@bp.post("/api/inspect/counters/<int:counter_id>/take")
@require("staff")
def api_take(counter_id: int):
    counter = _inspect_counter(counter_id)
    data = body(TakeBody)
    s = db_session()
    visit = inspection.take_walk(
        s, counter=counter, visit_step_id=data.visit_step_id, actor=current_actor()
    )
    return ok(inspection.walk_data(s, visit, counter))


@bp.get("/api/inspect/visits/<int:visit_id>/walk")
@require("staff")
def api_walk(visit_id: int):
    counter = _inspect_counter(request.args.get("counter", type=int) or 0)
    return ok(inspection.walk_data(db_session(), _visit(visit_id), counter))


@bp.post("/api/inspect/files")
@require("staff")
def api_upload():
    """A defect photo or a signature (multipart: file, kind, client_id)."""
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("empty_file", "The file is empty.")
    data = upload.read(file_store.MAX_UPLOAD_BYTES + 1)
    client_id = request.form.get("client_id", "")
    known = db_session().scalar(select(StoredFile.id).where(StoredFile.client_id == client_id))
    stored = inspection.store_photo(
        db_session(),
        current_app.instance_path,
        data,
        kind=request.form.get("kind", ""),
        client_id=client_id,
        actor=current_actor(),
    )
    return ok({"id": stored.id, "client_id": stored.client_id}, 200 if known else 201)


@bp.post("/api/inspect/visits/<int:visit_id>/checks")
@require("staff")
def api_check(visit_id: int):
    data = body(CheckBody)
    _inspect_counter(data.counter_id)
    saved = inspection.record_check(
        db_session(),
        visit_id=_visit(visit_id).id,
        counter_id=data.counter_id,
        client_id=data.client_id,
        room_code=data.room,
        item_code=data.item,
        result=data.result,
        recorded_at=data.recorded_at,
        actor=current_actor(),
    )
    return _saved(saved)


@bp.post("/api/inspect/visits/<int:visit_id>/defects")
@require("staff")
def api_defect(visit_id: int):
    data = body(DefectBody)
    _inspect_counter(data.counter_id)
    saved = inspection.record_defect(
        db_session(),
        visit_id=_visit(visit_id).id,
        counter_id=data.counter_id,
        client_id=data.client_id,
        room=data.room,
        item=data.item,
        category_id=data.category_id,
        description=data.description,
        severity=data.severity,
        pin_x=data.pin_x,
        pin_y=data.pin_y,
        photo_client_ids=data.photos,
        known_issue_id=data.known_issue_id,
        supersedes_client_id=data.supersedes,
        correction_reason=data.correction_reason,
        voided=data.voided,
        recorded_at=data.recorded_at,
        actor=current_actor(),
    )
    return _saved(saved)


@bp.post("/api/inspect/visits/<int:visit_id>/known-issues")
@require("staff")
def api_known_issue(visit_id: int):
    data = body(KnownIssueBody)
    _inspect_counter(data.counter_id)
    saved = inspection.confirm_known_issue(
        db_session(),
        visit_id=_visit(visit_id).id,
        counter_id=data.counter_id,
        client_id=data.client_id,
        known_issue_id=data.known_issue_id,
        result=data.result,
        note=data.note,
        actor=current_actor(),
    )
    return _saved(saved)


@bp.post("/api/inspect/visits/<int:visit_id>/outcome")
@require("staff")
def api_outcome(visit_id: int):
    data = body(OutcomeBody)
    _inspect_counter(data.counter_id)
    saved = inspection.record_outcome(
        db_session(),
        visit_id=_visit(visit_id).id,
        counter_id=data.counter_id,
        client_id=data.client_id,
        outcome=data.outcome,
        reason=data.reason,
        promised_date=data.promised_date,
        signer_name=data.signer_name,
        signature_client_id=data.signature,
        recorded_at=data.recorded_at,
        actor=current_actor(),
    )
    if saved.created:
        print_worker.wake()
    return _saved(saved)


@bp.get("/api/inspect/visits/<int:visit_id>/missing")
@require("staff")
def api_missing(visit_id: int):
    from server.i18n import gettext_

    return ok(
        {"missing": [gettext_(m) for m in inspection.missing(db_session(), _visit(visit_id))]}
    )


@bp.post("/api/inspect/visits/<int:visit_id>/defect-list/print")
@require("staff")
def api_print_defects(visit_id: int):
    """Print the defect list again at this inspection counter."""
    counter = _inspect_counter(request.args.get("counter", type=int) or 0)
    s = db_session()
    visit = _visit(visit_id)
    printer = print_jobs.printer_for(s, counter_id=counter.id)
    if printer is None:
        raise Invalid("no_printer", "This counter has no printer.")
    job = print_jobs.enqueue(
        s,
        kind="defect_list",
        receipt=defect_list_for(s, visit, inspection.current_result(s, visit.id), request_locale()),
        printer=printer,
        counter_id=counter.id,
        visit_id=visit.id,
    )
    s.flush()
    audit.record(s, current_actor(), "print.defect_list", "print_job", job.id, visit_id=visit.id)
    s.commit()
    print_worker.wake()
    return ok({"print_job_id": job.id}, 201)


@bp.get("/api/inspect/sync-issues")
@require("supervisor")
def api_sync_issues():
    return ok(inspection.open_sync_issues(db_session(), project_id()))


@bp.post("/api/inspect/sync-issues/<int:issue_id>/resolve")
@require("supervisor")
def api_resolve(issue_id: int):
    data = body(ResolveBody)
    issue = inspection.resolve_sync_issue(
        db_session(),
        issue_id,
        actor=current_actor(),
        resolution=data.resolution,
        project_id=project_id(),
    )
    return ok({"id": issue.id, "resolved_at": issue.resolved_at.isoformat(timespec="seconds")})


# ---- files and the acceptance form -----------------------------------------------------------


@bp.get("/api/inspect/files/<int:file_id>")
@bp.get("/api/files/<int:file_id>")
@require("staff")
def stored_file(file_id: int):
    """A stored image (signature, defect photo, floor plan) for staff of the project whose
    visit (or unit type) uses it; anything else is "unknown" (no hint that it exists)."""
    s = db_session()
    stored = s.get(StoredFile, file_id)
    if stored is None or not file_store.belongs_to_project(s, stored, project_id()):
        raise NotFound("unknown_file", "Unknown file.")
    path = file_store.safe_path(current_app.instance_path, stored)
    resp = send_file(path, mimetype=stored.mime)
    resp.headers["Cache-Control"] = "private, max-age=86400, immutable"  # content-named
    return resp


@bp.get("/inspect/visits/<int:visit_id>/acceptance.pdf")
@require("staff")
def acceptance_pdf(visit_id: int):
    visit = _visit(visit_id)
    pdf = acceptance_form.render(
        db_session(), visit, current_app.instance_path, locale=request_locale()
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="acceptance-{visit.id}.pdf"'},
    )


@bp.get("/inspect/units/<int:unit_id>/acceptance.pdf")
@require("staff")
def unit_acceptance_pdf(unit_id: int):
    """The unit's latest acceptance form (the newest visit with an outcome)."""
    s = db_session()
    visit_id = s.scalar(
        select(Visit.id)
        .join(InspectionResult, InspectionResult.visit_id == Visit.id)
        .where(Visit.unit_id == unit_id, Visit.project_id == project_id())
        .order_by(InspectionResult.id.desc())
        .limit(1)
    )
    if visit_id is None:
        raise NotFound("no_acceptance_form", "This unit has no acceptance form yet.")
    return acceptance_pdf(visit_id)
