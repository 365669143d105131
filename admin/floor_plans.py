"""Admin: floor plans per unit type (户型图, for pinning defects: a picture or a page of a PDF)
and inspection uploads that arrived after their visit changed, for a supervisor to resolve."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select

from server.auth import current_actor, require
from server.engine import DomainError, Invalid
from server.i18n import request_locale, translate
from server.models import StoredFile, Unit, UnitType
from server.services import files as file_store
from server.services import inspection
from server.web import db_session, project_id

bp = Blueprint("admin_floor_plans", __name__)

MAX_RESOLUTION = 500


@bp.get("/admin/floor-plans")
@require("supervisor", page=True)
def page():
    s = db_session()
    types = s.scalars(
        select(UnitType).where(UnitType.project_id == project_id()).order_by(UnitType.code)
    ).all()
    counts = dict(
        s.execute(
            select(Unit.unit_type_id, func.count(Unit.id))
            .where(Unit.project_id == project_id())
            .group_by(Unit.unit_type_id)
        ).all()
    )
    plans = {
        f.id: f
        for f in s.scalars(
            select(StoredFile).where(
                StoredFile.id.in_([t.floor_plan_file_id for t in types if t.floor_plan_file_id])
            )
        )
    }
    return render_template(
        "admin/floor_plans.html",
        types=types,
        counts=counts,
        plans=plans,
        issues=inspection.open_sync_issues(s, project_id()),
        resolved=inspection.resolved_sync_issues(s, project_id()),
        error=request.args.get("error"),
        done=request.args.get("done"),
    )


def _page_number(raw: str | None) -> int:
    raw = (raw or "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 9999:
        raise Invalid("bad_page_number", "The page number must be a whole number from 1.")
    return int(raw)


def _refused(err: DomainError):
    db_session().rollback()
    message = translate(err.message, request_locale(), err.params or None)
    return redirect(url_for("admin_floor_plans.page", error=message))


@bp.post("/admin/floor-plans/<int:unit_type_id>")
@require("supervisor", page=True)
def upload(unit_type_id: int):
    upload = request.files.get("file")
    data = upload.read(file_store.MAX_UPLOAD_BYTES + 1) if upload else b""
    try:
        inspection.set_floor_plan(
            db_session(),
            current_app.instance_path,
            project_id=project_id(),
            unit_type_id=unit_type_id,
            data=data,
            page=_page_number(request.form.get("page")),
            actor=current_actor(),
        )
    except DomainError as err:
        return _refused(err)
    return redirect(url_for("admin_floor_plans.page"))


@bp.post("/admin/floor-plans/sync-issues/<int:issue_id>/resolve")
@require("supervisor", page=True)
def resolve(issue_id: int):
    try:
        inspection.resolve_sync_issue(
            db_session(),
            issue_id,
            actor=current_actor(),
            resolution=(request.form.get("resolution") or "")[:MAX_RESOLUTION],
            project_id=project_id(),
        )
    except DomainError as err:
        return _refused(err)
    return redirect(url_for("admin_floor_plans.page", done=issue_id) + "#sync-issues")
