"""Kiosk: the owner checks in (scan or type the notice code) and gets a ticket."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, current_app, render_template, request, url_for
from pydantic import BaseModel, Field
from sqlalchemy import select

from server import clock
from server.auth import current_actor, require
from server.engine.ordering import PRIORITY_RANKS
from server.i18n import request_locale
from server.models import Counter, PrintJob, Project
from server.printing import worker as print_worker
from server.services import checkin, events, helpdesk, kiosk_checkin, lookup, snapshots
from server.web import body, db_session, ok, project_id

bp = Blueprint("kiosk", __name__, static_folder="static", static_url_path="/kiosk/static")


class CheckInBody(BaseModel):
    code: str = Field(min_length=1, max_length=300)
    # Staff only: a kiosk sending anything but "normal" is refused (it sends a request instead).
    priority_class: str = Field(default="normal", pattern=f"^({'|'.join(PRIORITY_RANKS)})$")
    agent_name: str | None = Field(default=None, max_length=60)


class LookupBody(BaseModel):
    code: str = Field(min_length=1, max_length=300)


class ManualLookupBody(BaseModel):
    building_id: int = Field(ge=1, le=2**31 - 1)
    entrance: str = Field(min_length=1, max_length=10)
    room: str = Field(min_length=1, max_length=10)
    digits: str = Field(min_length=4, max_length=6, pattern="^[0-9Xx]{4,6}$")


class ConfirmBody(BaseModel):
    confirm: str = Field(min_length=5, max_length=120)
    party_role: str = Field(default="owner", pattern="^(owner|co_owner|agent)$")
    priority_requested: str | None = Field(default=None, pattern="^(elderly|disabled|pregnant)$")


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def status_url(token: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    path = url_for("status.page", token=token)
    return (
        f"{base.rstrip('/')}{path}" if base else url_for("status.page", token=token, _external=True)
    )


@bp.get("/kiosk/")
@require("staff", devices=("kiosk",), page=True)
def page():
    s = db_session()
    pid = project_id()
    help_desk = s.scalar(
        select(Counter).where(Counter.project_id == pid, Counter.code == helpdesk.HELP_DESK_CODE)
    )
    return render_template("kiosk/index.html", project=s.get(Project, pid), help_desk=help_desk)


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
        secret=_secret(),
    )
    print_worker.wake()
    status = events.published(s).statuses[visit.id]  # as just sent to the screens
    return ok({**status, "status_url": status_url(visit.status_token)}, 201)


def _preview(unit) -> dict:
    s = db_session()
    project = s.get(Project, project_id())
    data = lookup.preview(s, project, unit, clock.now())
    return {**data, "confirm": lookup.confirm_token(_secret(), unit.id, current_actor())}


@bp.get("/api/kiosk/units")
@require("staff", devices=("kiosk",))
def api_units():
    """Buildings, entrances and rooms for the "no notice" pickers."""
    return ok({"buildings": lookup.unit_pickers(db_session(), project_id())})


@bp.post("/api/kiosk/lookup")
@require("staff", devices=("kiosk",))
def api_lookup():
    """The scanned code -> who would be checked in (nothing is written yet)."""
    data = body(LookupBody)
    s = db_session()
    project = s.get(Project, project_id())
    unit = lookup.unit_for_code(s, project, checkin.normalise_code(data.code), _secret())
    return ok(_preview(unit))


@bp.post("/api/kiosk/lookup/manual")
@require("staff", devices=("kiosk",))
def api_manual_lookup():
    data = body(ManualLookupBody)
    unit = lookup.manual_lookup(
        db_session(),
        project_id=project_id(),
        building_id=data.building_id,
        entrance=data.entrance,
        room=data.room,
        digits=data.digits,
        actor=current_actor(),
    )
    return ok(_preview(unit))


@bp.post("/api/kiosk/checkin")
@require("staff", devices=("kiosk",))
def api_kiosk_check_in():
    """The confirming tap: a ticket, or the same ticket again when already checked in."""
    data = body(ConfirmBody)
    actor = current_actor()
    unit_id = lookup.read_confirm_token(_secret(), data.confirm, actor)
    s = db_session()
    result = kiosk_checkin.check_in_or_reprint(
        s,
        project_id=project_id(),
        unit_id=unit_id,
        actor=actor,
        party_role=data.party_role,
        priority_requested=data.priority_requested,
        status_url=status_url,
        locale=request_locale(),
    )
    print_worker.wake()
    visit = result.visit
    return ok(
        {
            **snapshots.visit_status(s, visit),
            "status_url": status_url(visit.status_token),
            "again": result.again,
            # The kiosk says "please take your ticket" only when one is on its way.
            "printing": s.scalar(
                select(PrintJob.id).where(PrintJob.visit_id == visit.id, PrintJob.kind == "ticket")
            )
            is not None,
        },
        200 if result.again else 201,
    )


from . import fonts as _fonts  # noqa: E402, F401  (routes on this blueprint)
from . import notices_routes as _notices_routes  # noqa: E402,F401
from . import priority_routes as _priority_routes  # noqa: E402,F401
