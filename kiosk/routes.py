"""Kiosk: the owner checks in (scan or type the notice code) and gets a ticket."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, current_app, render_template, request, url_for
from pydantic import BaseModel, Field

from server.auth import current_actor, require
from server.engine.ordering import PRIORITY_RANKS
from server.i18n import request_locale
from server.printing import worker as print_worker
from server.services import checkin, events
from server.web import body, db_session, ok, project_id

bp = Blueprint("kiosk", __name__, static_folder="static", static_url_path="/kiosk/static")


class CheckInBody(BaseModel):
    code: str = Field(min_length=1, max_length=300)
    priority_class: str = Field(default="normal", pattern=f"^({'|'.join(PRIORITY_RANKS)})$")
    agent_name: str | None = Field(default=None, max_length=60)


def status_url(token: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    path = url_for("status.page", token=token)
    return (
        f"{base.rstrip('/')}{path}" if base else url_for("status.page", token=token, _external=True)
    )


@bp.get("/kiosk/")
@require("staff", devices=("kiosk",), page=True)
def page():
    return render_template("kiosk/index.html")


@bp.get("/kiosk/qr.svg")
@require("staff", devices=("kiosk",))
def qr_svg():
    """A QR code of `data` (the ticket's status link, a pairing link) as SVG, drawn here:
    no internet on the day, and the browser needs no QR library."""
    data = request.args.get("data", "")[:500]
    if not data:
        return Response(status=400)
    img = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    buf = io.BytesIO()
    img.save(buf)
    response = Response(buf.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/api/checkin")
@require("staff", devices=("kiosk",))
def api_check_in():
    data = body(CheckInBody)
    s = db_session()
    visit = checkin.check_in(
        s,
        project_id=project_id(),
        code=data.code,
        actor=current_actor(),
        priority_class=data.priority_class,
        agent_name=data.agent_name,
        status_url=status_url,
        locale=request_locale(),
    )
    print_worker.wake()
    status = events.published(s).statuses[visit.id]  # as just sent to the screens
    return ok({**status, "status_url": status_url(visit.status_token)}, 201)
