"""Supervisor: the live floor view and its actions (priority, open / close a counter).
Moving a visit uses the queue's transfer (POST /api/visits/<id>/transfer)."""

from __future__ import annotations

from flask import Blueprint, render_template
from pydantic import BaseModel, Field

from server import auth
from server.auth import require
from server.engine import NotFound
from server.i18n import request_locale, translate
from server.services import floor, plan_config
from server.web import body, db_session, ok, project_id

bp = Blueprint("admin_floor", __name__)


class PriorityBody(BaseModel):
    priority_class: str = Field(pattern="^(normal|elderly|disabled|pregnant|vip)$")
    reason: str | None = Field(default=None, max_length=200)


@bp.get("/admin/floor")
@require("supervisor", page=True)
def page():
    return render_template(
        "admin/floor.html",
        page_title=translate("Floor view", request_locale()),
        notices_url=_page_for("notice"),
        responses_url=_page_for("response"),
    )


@bp.get("/api/admin/floor")
@require("supervisor")
def snapshot():
    return ok(floor.floor_snapshot(db_session(), project_id()))


@bp.post("/api/admin/visits/<int:visit_id>/priority")
@require("supervisor")
def priority(visit_id: int):
    data = body(PriorityBody)
    floor.set_priority(
        db_session(),
        project_id=project_id(),
        visit_id=visit_id,
        priority_class=data.priority_class,
        actor=auth.current_actor(),
        reason=data.reason,
    )
    return ok(floor.floor_snapshot(db_session(), project_id()))


@bp.post("/api/admin/counters/<int:counter_id>/<action>")
@require("supervisor")
def counter_open(counter_id: int, action: str):
    if action not in ("open", "close"):
        raise NotFound("unknown_action", "Unknown action.")
    plan_config.set_counter_open(
        db_session(), project_id(), counter_id, action == "open", auth.current_actor()
    )
    return ok(floor.floor_snapshot(db_session(), project_id()))


def _page_for(word: str) -> str | None:
    """Another stream's page (notices, standard responses), found by its URL: linked when it
    exists in this build, left out when it does not."""
    from flask import current_app

    for rule in current_app.url_map.iter_rules():
        path = rule.rule
        if (
            word in path
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and not path.startswith("/api/")
            and not path.endswith((".csv", ".xlsx", ".pdf", ".png", ".svg"))
        ):
            return path
    return None
