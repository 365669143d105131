"""The owner's live status page, reached only through the token on their ticket."""

from __future__ import annotations

from flask import Blueprint, render_template

from server.engine import NotFound
from server.models import Visit
from server.services import snapshots, status_links
from server.web import db_session, ok

bp = Blueprint("status", __name__)


def _visit(token: str) -> Visit:
    visit = status_links.visit_for_token(db_session(), token)
    if visit is None:
        raise NotFound("bad_status_token", "This ticket link is not valid.")
    return visit


@bp.get("/s/<token>")
def page(token: str):
    try:
        visit = _visit(token)
    except NotFound:
        return render_template("status/invalid.html"), 404
    return render_template(
        "status/index.html", token=token, ticket_no=visit.ticket_no, day=visit.day.isoformat()
    )


@bp.get("/api/status/<token>")
def api_status(token: str):
    return ok(snapshots.visit_status(db_session(), _visit(token)))
