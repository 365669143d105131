"""Admin: printers with their health, test page, the print queue, reprint / redirect."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy import func, select

from server import auth
from server.auth import require
from server.models import Counter, Device, Printer, PrintJob
from server.models.printing import CONNECTION_KINDS, PAPER_WIDTHS, PRINT_MODES
from server.printing import worker
from server.printing.receipt import Receipt
from server.printing.render_png import render_png
from server.services import printing
from server.web import db_session, project_id

bp = Blueprint("admin_printing", __name__)

STATUS_BADGE = {
    "ok": "badge-ok",
    "paper_low": "badge-warn",
    "unknown": "badge-primary",
    "paper_out": "badge-danger",
    "offline": "badge-danger",
}

# English message ids of the enum values shown on the page (zh_CN in printing.po).
LABELS = {
    "status_ok": "OK",
    "status_paper_low": "Paper low",
    "status_paper_out": "Out of paper",
    "status_offline": "Offline",
    "status_unknown": "Unknown",
    "job_ticket": "Queue ticket",
    "job_key_receipt": "Key receipt",
    "job_defect_list": "Defect list",
    "job_daily_tally": "Daily tally",
    "job_test": "Test page",
    "state_queued": "Queued",
    "state_sending": "Sending",
    "state_sent": "Printed",
    "state_failed": "Failed",
    "state_unsure": "May not have printed",
}
# Jobs staff may have to act on, "may not have printed" (interrupted by a crash) included.
OPEN_STATES = ("queued", "sending", "failed", "unsure")


CONNECTION_LABELS = {
    "network": "Network",
    "usb": "USB",
    "serial": "Serial port",
    "file": "Device file",
    "preview": "Preview only",
}


def _printer(printer_id: int) -> Printer:
    p = db_session().get(Printer, printer_id)
    if p is None or p.project_id != project_id():
        abort(404)
    return p


def _job(job_id: int) -> PrintJob:
    job = db_session().get(PrintJob, job_id)
    if job is None or (job.printer is not None and job.printer.project_id != project_id()):
        abort(404)
    return job


@bp.get("/admin/printers")
@require("supervisor", page=True)
def printers_page():
    s = db_session()
    pid = project_id()
    printers = s.scalars(
        select(Printer).where(Printer.project_id == pid).order_by(Printer.id)
    ).all()
    ids = [p.id for p in printers]
    pending = dict(
        s.execute(
            select(PrintJob.printer_id, func.count())
            .where(PrintJob.state.in_(OPEN_STATES))
            .group_by(PrintJob.printer_id)
        ).all()
    )
    # Unsent jobs first (what staff must act on), then the latest sent ones.
    open_jobs = s.scalars(
        select(PrintJob)
        .where(
            PrintJob.state.in_(OPEN_STATES),
            (PrintJob.printer_id.in_(ids)) | PrintJob.printer_id.is_(None),
        )
        .order_by(PrintJob.id)
        .limit(200)
    ).all()
    recent = s.scalars(
        select(PrintJob)
        .where(PrintJob.state == "sent", PrintJob.printer_id.in_(ids))
        .order_by(PrintJob.id.desc())
        .limit(30)
    ).all()
    return render_template(
        "admin/printers.html",
        printers=printers,
        pending=pending,
        open_jobs=open_jobs,
        recent=recent,
        devices=s.scalars(select(Device).where(Device.project_id == pid).order_by(Device.id)).all(),
        counters=s.scalars(
            select(Counter).where(Counter.project_id == pid).order_by(Counter.code)
        ).all(),
        badge=STATUS_BADGE,
        labels=LABELS,
        connection_labels=CONNECTION_LABELS,
        kinds=CONNECTION_KINDS,
        modes=PRINT_MODES,
        widths=PAPER_WIDTHS,
        error=request.args.get("error"),
    )


def _int_or_none(name: str) -> int | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        return None
    return int(value, 16) if value.lower().startswith("0x") else int(value)


@bp.post("/admin/printers")
@require("admin", page=True)
def printers_create():
    f = request.form
    try:
        kind, mode = f.get("connection", "network"), f.get("mode", "native")
        width = int(f.get("paper_width_mm", "80"))
        name = (f.get("name") or "").strip()
        if kind not in CONNECTION_KINDS or mode not in PRINT_MODES or width not in PAPER_WIDTHS:
            raise ValueError
        if not name or len(name) > 60:
            raise ValueError
        printer = Printer(
            project_id=project_id(),
            name=name,
            connection=kind,
            host=(f.get("host") or "").strip() or None,
            port=_int_or_none("port") or 9100,
            usb_vendor_id=_int_or_none("usb_vendor_id"),
            usb_product_id=_int_or_none("usb_product_id"),
            serial_device=(f.get("serial_device") or "").strip() or None,
            file_path=(f.get("file_path") or "").strip() or None,
            paper_width_mm=width,
            mode=mode,
            profile=(f.get("profile") or "default").strip(),
            native_qr=bool(f.get("native_qr")),
            device_id=_int_or_none("device_id"),
            counter_id=_int_or_none("counter_id"),
        )
    except ValueError:
        return redirect(url_for("admin_printing.printers_page", error="invalid"))
    printing.add_printer(db_session(), printer, actor=auth.current_actor())
    return redirect(url_for("admin_printing.printers_page"))


@bp.post("/admin/printers/<int:printer_id>/check")
@require("supervisor", page=True)
def printer_check(printer_id: int):
    printing.check_printer(db_session(), _printer(printer_id))
    return redirect(url_for("admin_printing.printers_page"))


@bp.post("/admin/printers/<int:printer_id>/test")
@require("supervisor", page=True)
def printer_test(printer_id: int):
    printing.print_test_page(db_session(), _printer(printer_id), actor=auth.current_actor())
    worker.wake()
    return redirect(url_for("admin_printing.printers_page"))


@bp.post("/admin/printers/<int:printer_id>/toggle")
@require("admin", page=True)
def printer_toggle(printer_id: int):
    printing.toggle_printer(db_session(), _printer(printer_id), actor=auth.current_actor())
    return redirect(url_for("admin_printing.printers_page"))


@bp.post("/admin/print-jobs/<int:job_id>/reprint")
@require("supervisor", page=True)
def job_reprint(job_id: int):
    s = db_session()
    job = _job(job_id)
    target = _int_or_none("printer_id")
    if target is not None:
        _printer(target)
    printing.reprint(s, job.id, actor=auth.current_actor(), printer_id=target)
    worker.wake()
    return redirect(url_for("admin_printing.printers_page"))


@bp.get("/admin/print-jobs/<int:job_id>/preview.png")
@require("supervisor", page=True)
def job_preview(job_id: int):
    job = _job(job_id)
    width = job.printer.paper_width_mm if job.printer else 80
    mode = request.args.get("mode") or (job.printer.mode if job.printer else "raster")
    png = render_png(
        Receipt.from_dict(job.payload), width, "native" if mode == "native" else "raster"
    )
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})
