"""`handover report ...`: the daily report, the summary and the follow-up run, from the shell."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app, render_template
from flask.cli import with_appcontext

from server.app import ROOT


def _db():
    return current_app.extensions["handover_db"]


def _project_id(s) -> int:
    from sqlalchemy import select

    from server.models import Project

    code = current_app.config.get("PROJECT")
    stmt = select(Project.id).order_by(Project.id)
    if code:
        stmt = stmt.where(Project.code == code)
    pid = s.scalar(stmt.limit(1))
    if pid is None:
        raise click.ClickException("没有项目 / no project: run `handover demo` first")
    return pid


def _day(value: str | None) -> date:
    from server import clock

    if not value:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: YYYY-MM-DD") from None


def _locale(lang: str) -> str:
    return "en" if lang.startswith("en") else "zh_CN"


def report_html(report) -> str:
    """The admin page's report body as one self-contained HTML file (styles inline)."""
    from server.reports.charts import svg
    from server.reports.model import format_value

    css = "\n".join(
        (ROOT / p).read_text(encoding="utf-8")
        for p in ("server/static/app.css", "admin/static/reports.css")
    )
    lang = "en" if report.locale == "en" else "zh_CN"
    with current_app.test_request_context(f"/?lang={lang}"):
        return render_template(
            "admin/reports/standalone.html", report=report, svg=svg, fmt=format_value, css=css
        )


def _write(data: bytes | str, out: str | None) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if out:
        Path(out).write_bytes(data)
        click.echo(f"{out} ({len(data):,} bytes)", err=True)
    else:
        sys.stdout.buffer.write(data)


@click.group("report")
def report_group() -> None:
    """Reports: daily (每日交房日报表), summary (交房汇总统计表), follow-up (交付后续)."""


@report_group.command("daily")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: today)")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "xlsx", "slip"]), default="pdf")
@click.option("--out", default=None, help="File to write (default: standard output).")
@click.option("--lang", default="zh_CN", show_default=True)
@click.option("--printer", "printer_id", type=int, default=None, help="slip: queue on printer")
@with_appcontext
def daily_command(day, fmt, out, lang, printer_id) -> None:
    """The daily handover report. `slip` writes a PNG preview, or queues it with --printer."""
    from server import clock
    from server.reports.daily import build_daily
    from server.services.actor import SYSTEM

    d = _day(day)
    with _db().session() as s:
        pid = _project_id(s)
        if fmt == "slip" and printer_id is not None:
            from server.services.reports import print_daily_tally

            job = print_daily_tally(
                s,
                project_id=pid,
                day=d,
                printer_id=printer_id,
                actor=SYSTEM,
                locale=_locale(lang),
            )
            click.echo(f"已加入打印队列 / queued: print job {job.id}")
            return
        report = build_daily(s, pid, d, locale=_locale(lang))
    if fmt == "html":
        _write(report_html(report), out)
    elif fmt == "pdf":
        from server.reports.render_pdf import render_pdf

        _write(render_pdf(report, current_app.instance_path), out)
    elif fmt == "xlsx":
        from server.reports.render_xlsx import render_xlsx

        _write(render_xlsx(report), out)
    else:
        from server.printing.render_png import render_png
        from server.reports.render_slip import render_slip

        receipt = render_slip(report, printed_at=clock.now())
        _write(render_png(receipt, 58), out)


@report_group.command("summary")
@click.option("--from", "first", default=None, help="YYYY-MM-DD (default: the first day)")
@click.option("--to", "last", default=None, help="YYYY-MM-DD (default: the last day)")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "xlsx"]), default="pdf")
@click.option("--out", default=None)
@click.option("--lang", default="zh_CN", show_default=True)
@with_appcontext
def summary_command(first, last, fmt, out, lang) -> None:
    """交房汇总统计表 over a date range, or the whole project."""
    from server.reports.summary import build_summary

    with _db().session() as s:
        report = build_summary(
            s,
            _project_id(s),
            _day(first) if first else None,
            _day(last) if last else None,
            locale=_locale(lang),
        )
    if fmt == "html":
        _write(report_html(report), out)
    elif fmt == "pdf":
        from server.reports.render_pdf import render_pdf

        _write(render_pdf(report), out)
    else:
        from server.reports.render_xlsx import render_xlsx

        _write(render_xlsx(report), out)


@report_group.command("followup")
@click.option("--date", "day", default=None, help="the handover day (default: today)")
@with_appcontext
def followup_command(day) -> None:
    """Open a follow-up case for every unit not handed over after the day."""
    from server.services.actor import SYSTEM
    from server.services.followup import open_cases_after_day

    d = _day(day)
    with _db().session() as s:
        result = open_cases_after_day(s, project_id=_project_id(s), day=d, actor=SYSTEM)
    click.echo(
        f"{d}: 新建 {result.total_created} {result.created} / 已在跟进 {result.existing} / "
        f"关闭 {result.closed}"
    )
