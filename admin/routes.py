"""Admin: login, the venue overview with every screen's URL, devices and their pairing."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from server import auth, sockets
from server.auth import require
from server.engine import DomainError, NotFound
from server.i18n import gettext_
from server.models import Counter, Device
from server.services import audit, devices
from server.services.actor import Actor
from server.web import body, db_session, ok, project_id

bp = Blueprint("admin", __name__, static_folder="static", static_url_path="/admin/static")

DEVICE_HOME = {"kiosk": "kiosk.page", "display": "display.page", "counter": "counter.choose"}


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class DeviceBody(BaseModel):
    kind: str = Field(pattern=f"^({'|'.join(devices.DEVICE_KINDS)})$")
    name: str = Field(min_length=1, max_length=60)
    area: str | None = Field(default=None, max_length=40)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: a login link must not bounce staff to another site. Browsers drop
    # tabs and newlines and read "\\" as "/", so "/\t/evil.example" would become "//evil.example".
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(ch < " " or ch in "\\\x7f" for ch in target)
    ):
        return target
    return url_for("admin.home")


@bp.app_context_processor
def _who():
    # The shared admin layout shows who is logged in (and hides "log out" for devices).
    return {"current_actor": auth.current_actor}


@bp.get("/")
def root():
    return redirect(url_for("admin.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        s = db_session()
        try:
            staff = auth.authenticate(
                s, request.form.get("username", ""), request.form.get("password", "")
            )
        except DomainError as exc:
            if exc.status == 429:
                return render_template("admin/login.html", error=gettext_(exc.message)), 429
            error = gettext_("Wrong user name or password.")
        else:
            auth.login(s, staff)
            audit.record(
                s, Actor(staff_id=staff.id, role=staff.role), "staff.login", "staff", staff.id
            )
            s.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("admin/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    auth.logout(db_session())
    return redirect(url_for("admin.login"))


@bp.post("/api/login")
def api_login():
    data = body(LoginBody)
    s = db_session()
    staff = auth.authenticate(s, data.username, data.password)
    auth.login(s, staff)
    audit.record(s, Actor(staff_id=staff.id, role=staff.role), "staff.login", "staff", staff.id)
    s.commit()
    return ok(
        {"id": staff.id, "username": staff.username, "role": staff.role, "name": staff.display_name}
    )


@bp.post("/api/logout")
def api_logout():
    auth.logout(db_session())
    return ok({"ok": True})


@bp.get("/admin/")
@require("staff", page=True)
def home():
    s = db_session()
    try:
        pid = project_id()
    except NotFound:
        # An empty instance: the admin creates the project first.
        if auth.current_actor().role == "admin":
            return redirect(url_for("admin_config.index"))
        raise
    counters = s.scalars(
        select(Counter).where(Counter.project_id == pid).order_by(Counter.code)
    ).all()
    return render_template(
        "admin/home.html",
        counters=counters,
        actor=auth.current_actor(),
        demo_units=_demo_units(s, pid),
    )


def _demo_units(s, pid: int) -> list:
    """In the demo project only: a few units invited today, so a newcomer has codes to try.
    A real project's notice codes are never listed."""
    from server import clock
    from server.demo import DEMO_PROJECT_CODE
    from server.models import Appointment, Project, Unit, Visit

    project = s.get(Project, pid)
    if project is None or project.code != DEMO_PROJECT_CODE:
        return []
    checked_in = select(Visit.unit_id).where(Visit.day == clock.today())
    return s.scalars(
        select(Unit)
        .join(Appointment, Appointment.unit_id == Unit.id)
        .where(
            Appointment.day == clock.today(),
            Unit.id.not_in(checked_in),
            Unit.handed_over.is_(False),
        )
        .order_by(Appointment.slot_start, Unit.id)
        .limit(6)
    ).all()


@bp.get("/admin/devices")
@require("admin", page=True)
def devices_page():
    devices = (
        db_session()
        .scalars(select(Device).where(Device.project_id == project_id()).order_by(Device.id))
        .all()
    )
    return render_template("admin/devices.html", devices=devices)


@bp.post("/admin/devices")
@require("admin", page=True)
def devices_create():
    s = db_session()
    try:
        data = DeviceBody.model_validate(request.form.to_dict())
    except ValidationError:
        return redirect(url_for("admin.devices_page", error="1"))
    devices.register_device(
        s,
        project_id=project_id(),
        kind=data.kind,
        name=data.name,
        area=data.area,
        actor=auth.current_actor(),
    )
    return redirect(url_for("admin.devices_page"))


@bp.post("/api/devices")
@require("admin")
def api_devices_create():
    data = body(DeviceBody)
    s = db_session()
    device = devices.register_device(
        s,
        project_id=project_id(),
        kind=data.kind,
        name=data.name,
        area=data.area,
        actor=auth.current_actor(),
    )
    return ok(
        {
            "id": device.id,
            "kind": device.kind,
            "name": device.name,
            "pairing_code": device.pairing_code,
            "pairing_url": url_for("admin.pair", code=device.pairing_code, _external=True),
        },
        201,
    )


@bp.post("/admin/devices/<int:device_id>/<action>")
@require("admin", page=True)
def devices_action(device_id: int, action: str):
    s = db_session()
    device = s.get(Device, device_id)
    if device is None or device.project_id != project_id() or action not in ("repair", "revoke"):
        return redirect(url_for("admin.devices_page"))
    change = devices.new_pairing if action == "repair" else devices.revoke
    change(s, device, actor=auth.current_actor())
    sockets.check_access_now()  # its open screens close within a second
    return redirect(url_for("admin.devices_page"))


@bp.route("/pair", methods=["GET", "POST"])
@bp.get("/pair/<code>")
def pair(code: str | None = None):
    """Opened on the kiosk or display itself: trades the code for a token kept in a cookie."""
    code = code or request.form.get("code") or request.args.get("code")
    if not code:
        return render_template("admin/pair.html", error=None)
    s = db_session()
    try:
        device, token = auth.pair_device(s, code)
    except DomainError as exc:
        if exc.status == 429:
            return render_template("admin/pair.html", error=gettext_(exc.message)), 429
        return render_template(
            "admin/pair.html",
            error=gettext_("This pairing code is not valid. Ask an admin for a new one."),
        ), 404
    response = make_response(redirect(url_for(DEVICE_HOME[device.kind])))
    response.set_cookie(
        auth.DEVICE_COOKIE, token, max_age=400 * 86400, httponly=True, samesite="Lax"
    )
    return response
