"""Display board: live calls and waiting counts; voice in the browser."""

from __future__ import annotations

from flask import Blueprint, render_template

from server.auth import require
from server.services import snapshots
from server.web import db_session, ok, project_id

bp = Blueprint("display", __name__, static_folder="static", static_url_path="/display/static")


@bp.get("/display/")
@require("staff", devices=("display",), page=True)
def page():
    return render_template("display/index.html")


@bp.get("/api/display")
@require("staff", devices=("display",))
def api_display():
    return ok(snapshots.display_snapshot(db_session(), project_id()))
