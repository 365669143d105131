"""The daily report as the thermal tally slip (stage 5's `daily_tally` receipt): the headline
figures and each step's mean wait, short enough for 58 mm paper."""

from __future__ import annotations

from datetime import datetime

from server.printing.receipts import DailyTallyData, TallyRow, daily_tally_receipt

from .model import Report, format_value


def tally_data(report: Report, *, printed_at: datetime, staff_name: str | None) -> DailyTallyData:
    rows = [TallyRow(f.label, format_value(f.value, f.kind)) for f in report.headline]
    steps = report.section("times").table("steps")
    notes = [
        f"{r[0]} {steps.columns[2].label} {format_value(r[2], 'minutes')}"
        for r in steps.rows
        if r[2] is not None
    ]
    return DailyTallyData(
        project_name=report.project_name,
        day=report.meta["day"],
        rows=rows,
        printed_at=printed_at,
        staff_name=staff_name,
        notes=notes,
    )


def render_slip(report: Report, *, printed_at: datetime, staff_name: str | None = None):
    """The Receipt (print queue payload); `render_png` or ESC/POS turn it into a slip."""
    locale = "en" if report.locale.startswith("en") else "zh_CN"
    return daily_tally_receipt(
        tally_data(report, printed_at=printed_at, staff_name=staff_name), locale
    )
