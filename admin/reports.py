"""Admin reports: the daily report (page, PDF, XLSX, tally slip), the follow-up list, the
summary and urging letters. Views only parse input and call services / report builders."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for

from server import auth, clock
from server.auth import require
from server.engine import Invalid
from server.i18n import request_locale
from server.reports.charts import svg
from server.reports.daily import build_daily
from server.reports.model import format_value
from server.reports.render_pdf import render_pdf
from server.reports.render_xlsx import render_xlsx
from server.services import reports as report_service
from server.web import db_session, project_id

bp = Blueprint("admin_reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parse_day(raw: str | None, default: date | None = None) -> date:
    if not raw:
        return default or clock.today()
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("bad_date", "Invalid date: %(value)s", value=raw[:20]) from None


def download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Cache-Control": "no-store",
        },
    )


@bp.get("/admin/reports/daily")
@require("staff", page=True)
def daily_page():
    s = db_session()
    day = parse_day(request.args.get("date"))
    report = build_daily(s, project_id(), day, locale=request_locale())
    actor = auth.current_actor()
    return render_template(
        "admin/reports/daily.html",
        report=report,
        day=day,
        svg=svg,
        fmt=format_value,
        printers=report_service.printers(s, project_id()),
        can_contacts=report_service.can_see_contacts(actor),
        printed=request.args.get("printed"),
    )


@bp.get("/admin/reports/daily.pdf")
@require("staff", page=True)
def daily_pdf():
    day = parse_day(request.args.get("date"))
    report = build_daily(db_session(), project_id(), day, locale=request_locale())
    return download(render_pdf(report), "application/pdf", f"daily-report-{day}.pdf")


@bp.get("/admin/reports/daily.xlsx")
@require("staff", page=True)
def daily_xlsx():
    day = parse_day(request.args.get("date"))
    report = report_service.daily_for_export(
        db_session(),
        project_id=project_id(),
        day=day,
        actor=auth.current_actor(),
        locale=request_locale(),
        full_contacts=request.args.get("contacts") == "full",
        fmt="xlsx",
    )
    return download(render_xlsx(report), XLSX, f"daily-report-{day}.xlsx")


@bp.post("/admin/reports/daily/slip")
@require("supervisor", page=True)
def daily_slip():
    day = parse_day(request.form.get("date"))
    try:
        printer_id = int(request.form.get("printer_id", ""))
    except ValueError:
        raise Invalid("bad_printer", "Please choose a printer.") from None
    report_service.print_daily_tally(
        db_session(),
        project_id=project_id(),
        day=day,
        printer_id=printer_id,
        actor=auth.current_actor(),
        locale=request_locale(),
    )
    return redirect(url_for("admin_reports.daily_page", date=day.isoformat(), printed=1))
