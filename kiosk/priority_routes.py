"""Staff confirm (or decline) the priority needs owners marked at the kiosk."""

from __future__ import annotations

from flask import render_template
from pydantic import BaseModel, Field

from server.auth import current_actor, require
from server.services import priority, snapshots
from server.web import body, db_session, ok, project_id

from .routes import bp


class PriorityDecision(BaseModel):
    accept: bool
    priority_class: str | None = Field(default=None, pattern="^(elderly|disabled|pregnant|vip)$")


@bp.get("/api/priority-requests")
@require("staff")
def api_priority_requests():
    return ok({"requests": priority.pending(db_session(), project_id())})


@bp.post("/api/visits/<int:visit_id>/priority")
@require("staff")
def api_decide_priority(visit_id: int):
    data = body(PriorityDecision)
    s = db_session()
    visit = priority.decide(
        s,
        project_id=project_id(),
        visit_id=visit_id,
        actor=current_actor(),
        accept=data.accept,
        priority_class=data.priority_class,
    )
    return ok({**snapshots.visit_status(s, visit), "priority_class": visit.priority_class})


@bp.get("/priority")
@require("staff", page=True)
def priority_page():
    """The help desk's list of priority needs marked at the kiosk, to confirm or decline."""
    return render_template("kiosk/priority.html")
