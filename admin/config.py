"""Admin: the day's plan as settings pages (steps, counters, staff, documents, checklists,
catalogs), the project's queue rules, and a new project on an empty instance."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from server import auth, sockets
from server.auth import require
from server.engine import DomainError, NotFound
from server.i18n import request_locale, translate
from server.models import Printer, Project, Step
from server.services import plan_config
from server.web import db_session, project_id

bp = Blueprint("admin_config", __name__)

# English message ids of the choices shown in the settings tables.
CHOICE_LABELS = {
    "verify": "Verification",
    "fees": "Fee confirmation",
    "sign": "Signing",
    "inspect": "Inspection",
    "keys": "Key handover",
    "generic": "Other",
    "admin": "Admin",
    "supervisor": "Supervisor",
    "staff": "Staff",
}


def _pid_or_none() -> int | None:
    try:
        return project_id()
    except NotFound:
        return None


def _message(err: DomainError) -> str:
    return translate(err.message, request_locale(), err.params or None)


@bp.get("/admin/config")
@require("admin", page=True)
def index():
    pid = _pid_or_none()
    project = db_session().get(Project, pid) if pid else None
    return render_template(
        "admin/config_index.html",
        page_title=translate("Settings", request_locale()),
        project=project,
        catalogs=plan_config.CATALOGS.values(),
        error=request.args.get("error"),
        saved=request.args.get("saved"),
    )


@bp.post("/admin/config/project")
@require("admin", page=True)
def create_project():
    s = db_session()
    try:
        plan_config.create_project(
            s,
            code=request.form.get("code", ""),
            name=request.form.get("name", ""),
            actor=auth.current_actor(),
            standard_plan=bool(request.form.get("standard_plan")),
        )
    except DomainError as err:
        return redirect(url_for("admin_config.index", error=_message(err)))
    from flask import current_app

    current_app.extensions.pop("handover_project_id", None)
    return redirect(url_for("admin_config.index", saved="1"))


@bp.post("/admin/config/rules")
@require("admin", page=True)
def rules():
    try:
        plan_config.update_rules(
            db_session(), project_id(), request.form.to_dict(), auth.current_actor()
        )
    except DomainError as err:
        return redirect(url_for("admin_config.index", error=_message(err)))
    return redirect(url_for("admin_config.index", saved="1"))


@bp.get("/admin/config/<kind>")
@require("admin", page=True)
def catalog_page(kind: str):
    s = db_session()
    pid = project_id()
    cat = plan_config.catalog(kind)
    return render_template(
        "admin/config_catalog.html",
        page_title=translate(cat.title, request_locale()),
        cat=cat,
        items=plan_config.list_items(s, pid, kind),
        steps=s.scalars(select(Step).where(Step.project_id == pid).order_by(Step.sort)).all(),
        printers=s.scalars(select(Printer).where(Printer.project_id == pid)).all(),
        counter_printers=plan_config.counter_printer_ids(s, pid) if kind == "counters" else {},
        choice_labels=CHOICE_LABELS,
        error=request.args.get("error"),
        saved=request.args.get("saved"),
    )


def _values() -> dict:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    values["_form"] = "1"  # an unticked checkbox is absent: it means "no"
    if "steps" in request.form:
        values["steps"] = request.form.getlist("steps")
    return values


@bp.post("/admin/config/<kind>")
@bp.post("/admin/config/<kind>/<int:item_id>")
@require("admin", page=True)
def catalog_save(kind: str, item_id: int | None = None):
    try:
        plan_config.save_item(
            db_session(), project_id(), kind, item_id, _values(), auth.current_actor()
        )
    except DomainError as err:
        return redirect(url_for("admin_config.catalog_page", kind=kind, error=_message(err)))
    if kind == "staff":
        sockets.check_access_now()  # an ended login's open screens close now
    return redirect(url_for("admin_config.catalog_page", kind=kind, saved="1"))


@bp.post("/admin/config/<kind>/<int:item_id>/delete")
@require("admin", page=True)
def catalog_delete(kind: str, item_id: int):
    try:
        plan_config.delete_item(db_session(), project_id(), kind, item_id, auth.current_actor())
    except DomainError as err:
        return redirect(url_for("admin_config.catalog_page", kind=kind, error=_message(err)))
    return redirect(url_for("admin_config.catalog_page", kind=kind, saved="1"))
