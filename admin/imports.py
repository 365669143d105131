"""Admin: import the sales system's spreadsheets (check first, then apply), templates."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

from server import auth
from server.auth import require
from server.engine import DomainError, Invalid
from server.i18n import request_locale, translate
from server.services.imports import KINDS, ORDER, run_import
from server.services.imports.templates import csv_bytes, workbook_bytes
from server.web import db_session, project_id

bp = Blueprint("admin_imports", __name__)

MAX_UPLOAD = 50 * 1024 * 1024  # a ZIP with the floor plans may be larger than a workbook


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep(filename: str, data: bytes) -> str:
    """The checked file waits here for the apply button (the form carries only its token)."""
    token = secrets.token_urlsafe(16)
    (_upload_dir() / f"{token}.bin").write_bytes(data)
    (_upload_dir() / f"{token}.json").write_text(json.dumps({"filename": filename}))
    return token


def _kept(token: str) -> tuple[str, bytes]:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        raise Invalid("import_expired", "Please choose the file again.")
    base = _upload_dir() / token
    try:
        meta = json.loads(base.with_suffix(".json").read_text())
        return meta["filename"], base.with_suffix(".bin").read_bytes()
    except (OSError, ValueError, KeyError):
        raise Invalid("import_expired", "Please choose the file again.") from None


def _render(report=None, token=None, error=None, status=200):
    return render_template(
        "admin/imports.html",
        page_title=translate("Import", request_locale()),
        kinds=[KINDS[k] for k in ORDER],
        report=report,
        token=token,
        error=error,
        err_text=lambda e: translate(e.message, request_locale(), e.params or None),
    ), status


@bp.get("/admin/imports")
@require("admin", page=True)
def page():
    return _render()


@bp.post("/admin/imports")
@require("admin", page=True)
def check_or_apply():
    """First press: a dry run of the uploaded file. `apply` with the token: the real thing."""
    s = db_session()
    kind = request.form.get("kind") or None
    apply = request.form.get("apply") == "1"
    try:
        if apply:
            filename, data = _kept(request.form.get("token", ""))
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise Invalid("no_file", "Please choose a file.")
            filename, data = upload.filename, upload.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                raise Invalid("file_too_large", "The file is too large (at most %(mb)s MB).", mb=50)
        report = run_import(
            s,
            project_id=project_id(),
            filename=filename,
            data=data,
            actor=auth.current_actor(),
            dry_run=not apply,
            kind=kind,
            instance_path=current_app.instance_path,
        )
    except DomainError as err:
        message = err.message
        if err.code == "no_project":
            message = "Create the project first, on the settings page."
        return _render(error=translate(message, request_locale(), err.params or None), status=422)
    token = None
    if not apply and report.ok:
        token = _keep(filename, data)
    return _render(report=report, token=token, status=200 if report.ok else 422)


@bp.get("/admin/imports/template.xlsx")
@require("admin", page=True)
def template_xlsx():
    return Response(
        workbook_bytes(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=handover-import-template.xlsx"},
    )


@bp.get("/admin/imports/template-<kind>.csv")
@require("admin", page=True)
def template_csv(kind: str):
    if kind not in KINDS:
        raise Invalid("unknown_import_kind", "Unknown kind of import: %(kind)s", kind=kind)
    return Response(
        csv_bytes(kind),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename={kind}.csv"},
    )
