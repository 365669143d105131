"""Taking access away or changing it: deactivate/reactivate a staff member, set a password.
Each ends that person's logins and closes their open screens within a second."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, Field

from server import auth, sockets
from server.auth import require
from server.engine import Invalid
from server.services import staff_accounts
from server.web import body, db_session, ok

bp = Blueprint("staff_access", __name__)


class PasswordBody(BaseModel):
    password: str = Field(min_length=8, max_length=200)
    current_password: str | None = Field(default=None, max_length=200)


def _answer(staff):
    sockets.check_access_now()
    return ok({"id": staff.id, "username": staff.username, "active": staff.active})


@bp.post("/api/staff/<int:staff_id>/deactivate")
@require("admin")
def deactivate(staff_id: int):
    if staff_id == auth.current_actor().staff_id:
        raise Invalid("self_deactivate", "You cannot deactivate your own account.")
    return _answer(
        staff_accounts.set_active(db_session(), staff_id, False, actor=auth.current_actor())
    )


@bp.post("/api/staff/<int:staff_id>/activate")
@require("admin")
def activate(staff_id: int):
    return _answer(
        staff_accounts.set_active(db_session(), staff_id, True, actor=auth.current_actor())
    )


@bp.post("/api/staff/<int:staff_id>/password")
@require("admin")
def set_password(staff_id: int):
    data = body(PasswordBody)
    return _answer(
        staff_accounts.set_password(
            db_session(),
            staff_id,
            data.password,
            actor=auth.current_actor(),
            hasher=auth.hash_password,
        )
    )


@bp.post("/api/me/password")
@require("staff")
def change_own_password():
    """Everyone's own: needs the current password; all logins end, this one too."""
    data = body(PasswordBody)
    actor = auth.current_actor()
    s = db_session()
    from server.models import Staff

    me = s.get(Staff, actor.staff_id)
    if not auth.check_password(me, data.current_password or ""):
        raise Invalid("bad_password", "The current password is wrong.")
    return _answer(
        staff_accounts.set_password(s, me.id, data.password, actor=actor, hasher=auth.hash_password)
    )
