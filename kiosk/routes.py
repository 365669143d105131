"""Kiosk: the owner checks in (scan or type the notice code) and gets a ticket."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from pydantic import BaseModel, Field

from server.auth import current_actor, require
from server.services import checkin, snapshots
from server.web import body, db_session, ok, project_id

bp = Blueprint("kiosk", __name__, static_folder="static", static_url_path="/kiosk/static")


class CheckInBody(BaseModel):
    code: str = Field(min_length=1, max_length=300)
    priority_class: str = Field(
        default="normal", pattern="^(normal|elderly|disabled|pregnant|vip)$"
    )
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
    )
    return ok(
        {**snapshots.visit_status(s, visit), "status_url": status_url(visit.status_token)}, 201
    )
