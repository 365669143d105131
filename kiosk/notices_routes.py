"""The admin's handover notices: pick a day (and batch), get the PDF."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, render_template, request

from server.auth import require
from server.engine import Invalid
from server.models import Project, Unit
from server.services import notice_codes, notices
from server.web import db_session, project_id

from .routes import bp

PREVIEW_PAGES = 3  # look at the layout before printing a few hundred pages


@bp.app_template_global()
def signed_notice_code(unit: Unit) -> str:
    """What the QR code on this unit's notice carries (the admin's demo codes show it)."""
    project = db_session().get(Project, unit.project_id)
    return notice_codes.sign(current_app.config["SECRET_KEY"], project.code, unit.id)


@bp.get("/admin/notices")
@require("supervisor", page=True)
def notices_page():
    rows = notices.batches(db_session(), project_id())
    return render_template("kiosk/notices.html", rows=rows)


@bp.get("/admin/notices.pdf")
@require("supervisor")
def notices_pdf():
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        raise Invalid("bad_day", "Please choose a day.") from None
    batch = request.args.get("batch") or None
    data, _pages = notices.notices_pdf(
        db_session(),
        project_id=project_id(),
        day=day,
        batch=batch,
        secret=current_app.config["SECRET_KEY"],
        limit=PREVIEW_PAGES if request.args.get("preview") else None,
    )
    name = f"notices-{day.isoformat()}.pdf"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
