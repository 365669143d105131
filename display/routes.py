"""Display board: live calls with voice, waiting counts, progress, notices; the supervisor's page
for notices and each board's filter."""

from __future__ import annotations

from flask import Blueprint, render_template
from pydantic import BaseModel, Field
from sqlalchemy import select

from server import auth
from server.auth import require
from server.models import Device, Step
from server.services import board, board_notices
from server.web import body, db_session, ok, project_id

from .voice import voice_manifest

bp = Blueprint("display", __name__, static_folder="static", static_url_path="/display/static")


class NoticeBody(BaseModel):
    text_zh: str = Field(min_length=1, max_length=300)
    text_en: str | None = Field(default=None, max_length=300)
    minutes: int | None = Field(default=None, ge=1, le=board_notices.MAX_MINUTES)


class BoardFilterBody(BaseModel):
    steps: list[str] = Field(default_factory=list, max_length=20)
    areas: list[str] = Field(default_factory=list, max_length=20)
    voice_en: bool = False


@bp.get("/display/")
@require("staff", devices=("display",), page=True)
def page():
    return render_template("display/index.html", voice=voice_manifest())


@bp.get("/api/display")
@require("staff", devices=("display",))
def api_display():
    actor = auth.current_actor()
    s = db_session()
    return ok(board.board_snapshot(s, project_id(), board.view_for(s, actor.device_id).filter))


@bp.get("/display/notices")
@require("supervisor", page=True)
def notices_page():
    s = db_session()
    pid = project_id()
    displays = s.scalars(
        select(Device)
        .where(Device.project_id == pid, Device.kind == "display", Device.revoked.is_(False))
        .order_by(Device.id)
    ).all()
    steps = s.scalars(
        select(Step).where(Step.project_id == pid, Step.active).order_by(Step.sort)
    ).all()
    return render_template(
        "display/notices.html",
        notices=board_notices.recent_notices(s, pid),
        displays=[(d, board.BoardFilter.from_settings(d.settings)) for d in displays],
        steps=steps,
        is_admin=auth.allowed(auth.current_actor(), ("admin",)),
    )


@bp.get("/api/notices")
@require("supervisor")
def api_notices():
    return ok({"notices": board_notices.recent_notices(db_session(), project_id())})


@bp.post("/api/notices")
@require("supervisor")
def api_notice_publish():
    data = body(NoticeBody)
    n = board_notices.publish_notice(
        db_session(),
        project_id=project_id(),
        text_zh=data.text_zh,
        text_en=data.text_en,
        minutes=data.minutes,
        actor=auth.current_actor(),
    )
    return ok({"id": n.id}, 201)


@bp.post("/api/notices/<int:notice_id>/end")
@require("supervisor")
def api_notice_end(notice_id: int):
    board_notices.end_notice(
        db_session(), project_id=project_id(), notice_id=notice_id, actor=auth.current_actor()
    )
    return ok({"id": notice_id, "active": False})


@bp.put("/api/display/devices/<int:device_id>/filter")
@require("admin")
def api_board_filter(device_id: int):
    data = body(BoardFilterBody)
    device = board.set_board_filter(
        db_session(),
        project_id=project_id(),
        device_id=device_id,
        steps=data.steps,
        areas=data.areas,
        voice_en=data.voice_en,
        actor=auth.current_actor(),
    )
    return ok(
        {"id": device.id, "filter": board.BoardFilter.from_settings(device.settings).as_dict()}
    )
