"""Admin reports: the daily report (page, PDF, XLSX, tally slip), the follow-up list, the
summary and urging letters. Views only parse input and call services / report builders."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

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
    pdf = render_pdf(report, current_app.instance_path)
    return download(pdf, "application/pdf", f"daily-report-{day}.pdf")


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


# ---- follow-up (交付后续) ---------------------------------------------------------------------

FOLLOWUP_FILTERS = ("active", "open", "in_progress", "closed", "all")


def _followup_page(error: str | None = None, status: int = 200, message: str | None = None):
    from sqlalchemy import select

    from server.models import Department, Staff
    from server.reports.followup import kind_words, list_cases, wide_requests
    from server.services.letters import current_template

    s = db_session()
    pid = project_id()
    locale = request_locale()
    chosen = request.values.get("status", "active")
    chosen = chosen if chosen in FOLLOWUP_FILTERS else "active"
    kind = request.values.get("kind") or None
    cases = list_cases(s, pid, locale=locale, status=None if chosen == "all" else chosen, kind=kind)
    actor = auth.current_actor()
    return render_template(
        "admin/reports/followup.html",
        cases=cases,
        wide=wide_requests(s, pid, locale=locale),
        chosen=chosen,
        kind=kind,
        kinds=kind_words(locale),
        staff=s.execute(
            select(Staff.id, Staff.display_name).where(Staff.active.is_(True)).order_by(Staff.id)
        ).all(),
        departments=s.execute(
            select(Department.code, Department.name_zh, Department.name_en)
            .where(Department.project_id == pid)
            .order_by(Department.sort, Department.id)
        ).all(),
        is_supervisor=auth.allowed(actor, ("supervisor",)),
        is_admin=auth.allowed(actor, ("admin",)),
        template=current_template(s, pid),
        today=clock.today(),
        error=error,
        message=message or request.args.get("message"),
    ), status


@bp.get("/admin/reports/followup")
@require("staff", page=True)
def followup_page():
    return _followup_page()


@bp.post("/admin/reports/followup/run")
@require("supervisor", page=True)
def followup_run():
    from server.i18n import gettext_
    from server.services.followup import open_cases_after_day

    day = parse_day(request.form.get("date"))
    result = open_cases_after_day(
        db_session(), project_id=project_id(), day=day, actor=auth.current_actor()
    )
    message = gettext_(
        "%(created)s new cases, %(existing)s already open, %(closed)s closed.",
        created=result.total_created,
        existing=result.existing,
        closed=result.closed,
    )
    return redirect(url_for("admin_reports.followup_page", message=message))


@bp.post("/admin/reports/followup/<int:case_id>/<action>")
@require("staff", page=True)
def followup_action(case_id: int, action: str):
    from server.engine import DomainError
    from server.services import followup

    s = db_session()
    actor = auth.current_actor()
    form = request.form
    try:
        if action == "assign":
            staff_id = form.get("staff_id") or None
            followup.assign(
                s,
                project_id=project_id(),
                case_id=case_id,
                staff_id=int(staff_id) if staff_id else None,
                department=form.get("department") or None,
                actor=actor,
            )
        elif action == "note":
            followup.add_note(
                s,
                project_id=project_id(),
                case_id=case_id,
                text=form.get("text", ""),
                actor=actor,
            )
        elif action == "close":
            followup.close(
                s,
                project_id=project_id(),
                case_id=case_id,
                note=form.get("text", ""),
                actor=actor,
            )
        else:
            raise Invalid("bad_action", "Unknown action.")
    except DomainError as err:
        s.rollback()
        from server.web import error_body

        return _followup_page(error=error_body(err)["error"]["message"], status=err.status)
    except ValueError:
        s.rollback()
        return _followup_page(error=None, status=422)
    return redirect(url_for("admin_reports.followup_page", status=form.get("status", "active")))


@bp.get("/admin/reports/followup.xlsx")
@require("staff", page=True)
def followup_xlsx():
    report = report_service.followup_for_export(
        db_session(),
        project_id=project_id(),
        actor=auth.current_actor(),
        locale=request_locale(),
        full_contacts=request.args.get("contacts") == "full",
    )
    return download(render_xlsx(report), XLSX, f"follow-up-{clock.today()}.xlsx")


# ---- urging letters (催告函) ------------------------------------------------------------------


@bp.post("/admin/reports/letters")
@require("supervisor", page=True)
def letters_send():
    from flask import current_app

    from server.engine import DomainError
    from server.services import letters
    from server.web import error_body

    s = db_session()
    try:
        case_ids = [int(x) for x in request.form.getlist("case_id")]
        deadline = parse_day(request.form.get("deadline"), None)
        pdf, _rows = letters.send_letters(
            s,
            project_id=project_id(),
            case_ids=case_ids,
            deadline=deadline,
            actor=auth.current_actor(),
            instance_path=current_app.instance_path,
            confirm_resend=request.form.get("confirm") == "1",
        )
    except DomainError as err:
        s.rollback()
        return _followup_page(error=error_body(err)["error"]["message"], status=err.status)
    except ValueError:
        return _followup_page(status=422)
    return download(pdf, "application/pdf", f"urging-letters-{clock.today()}.pdf")


@bp.get("/admin/reports/letters/<int:letter_id>.pdf")
@require("supervisor", page=True)
def letter_pdf(letter_id: int):
    from pathlib import Path

    from flask import current_app

    from server.services.letters import letter_file

    stored = letter_file(db_session(), project_id(), letter_id)
    data = (Path(current_app.instance_path) / stored.path).read_bytes()
    return download(data, "application/pdf", f"urging-letter-{letter_id}.pdf")


@bp.route("/admin/reports/letter-template", methods=["GET", "POST"])
@require("admin", page=True)
def letter_template():
    from server.engine import DomainError
    from server.reports.letters import PLACEHOLDERS
    from server.services import letters
    from server.web import error_body

    s = db_session()
    error = None
    saved = False
    if request.method == "POST":
        try:
            letters.save_template(
                s,
                project_id=project_id(),
                title=request.form.get("title", ""),
                body=request.form.get("body", ""),
                actor=auth.current_actor(),
            )
            saved = True
        except DomainError as err:
            s.rollback()
            error = error_body(err)["error"]["message"]
    template = letters.current_template(s, project_id())
    if error:
        template = letters.Template(
            None, request.form.get("title", ""), request.form.get("body", "")
        )
    return render_template(
        "admin/reports/letter_template.html",
        template=template,
        placeholders=PLACEHOLDERS,
        error=error,
        saved=saved,
    ), (422 if error else 200)


# ---- summary (交房汇总统计表) ------------------------------------------------------------------


def _summary():
    from server.reports.summary import build_summary

    first = request.args.get("from") or None
    last = request.args.get("to") or None
    return build_summary(
        db_session(),
        project_id(),
        parse_day(first) if first else None,
        parse_day(last) if last else None,
        locale=request_locale(),
    )


@bp.get("/admin/reports/summary")
@require("staff", page=True)
def summary_page():
    report = _summary()
    return render_template(
        "admin/reports/summary.html",
        report=report,
        svg=svg,
        fmt=format_value,
        first=report.meta["first"],
        last=report.meta["last"],
    )


@bp.get("/admin/reports/summary.pdf")
@require("staff", page=True)
def summary_pdf():
    report = _summary()
    return download(render_pdf(report), "application/pdf", "handover-summary.pdf")


@bp.get("/admin/reports/summary.xlsx")
@require("staff", page=True)
def summary_xlsx():
    report = _summary()
    return download(render_xlsx(report), XLSX, "handover-summary.xlsx")
