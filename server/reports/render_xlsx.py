"""XLSX workbook of a report with XlsxWriter: a sheet per section (tables one under another,
each with its title, header and totals), an overview sheet with the headline figures.
Numbers are numbers (minutes 0.0, rates 0.0%, money #,##0.00), dates and times are real
Excel dates; the first header row of every sheet is frozen.

XlsxWriter rather than openpyxl: it only writes, which is all an export needs, and does it
quickly in constant memory (a 1,000-visit day in well under a second); openpyxl reads the
files back in the tests.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

from .model import Kind, Report, Table, Value

NUMBER_FORMATS: dict[str, str] = {
    "int": "0",
    "minutes": "0.0",
    "pct": "0.0%",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "time": "hh:mm",
}


def sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:26]}{n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def _width(value: str) -> float:
    return sum(2.1 if ord(ch) > 0x2E80 else 1.1 for ch in value)


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.head = wb.add_format(
            {"bold": True, "bg_color": "#E8EEF5", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.cells: dict[tuple[str, bool], object] = {}

    def fmt(self, kind: Kind, bold: bool = False):
        key = (kind, bold)
        if key not in self.cells:
            props: dict = {"bold": bold}
            if kind in NUMBER_FORMATS:
                props["num_format"] = NUMBER_FORMATS[kind]
            else:
                props["text_wrap"] = False
            self.cells[key] = self.wb.add_format(props)
        return self.cells[key]

    def write(self, ws, row: int, col: int, value: Value, kind: Kind, bold=False) -> None:
        fmt = self.fmt(kind, bold)
        if value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime.combine(value, datetime.min.time()), fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float | Decimal):
            ws.write_number(row, col, float(value), fmt)
        else:
            ws.write_string(row, col, str(value), fmt)

    def table(self, ws, row: int, t: Table, widths: dict[int, float]) -> int:
        ws.write_string(row, 0, t.title, self.title)
        row += 1
        header_row = row
        for c, col in enumerate(t.columns):
            ws.write_string(row, c, col.label, self.head)
            widths[c] = max(widths.get(c, 8), min(40, _width(col.label) * 0.7 + 2))
        row += 1
        for data in t.rows:
            for c, (col, v) in enumerate(zip(t.columns, data, strict=True)):
                self.write(ws, row, c, v, col.kind)
                if col.kind == "text" and isinstance(v, str):
                    widths[c] = max(widths[c], min(60, _width(v) + 1))
                elif col.kind == "datetime":
                    widths[c] = max(widths[c], 17)
            row += 1
        if t.total is not None:
            for c, (col, v) in enumerate(zip(t.columns, t.total, strict=True)):
                self.write(ws, row, c, v, col.kind if c else "text", bold=True)
            row += 1
        return header_row if t.columns else row


def render_xlsx(report: Report) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"title": f"{report.title} {report.period}", "author": "Handover Day"})
    w = _Writer(wb)
    used: set[str] = set()
    overview = wb.add_worksheet(sheet_name(report.title, used))
    overview.write_string(0, 0, report.project_name, w.title)
    overview.write_string(1, 0, report.title, w.title)
    overview.write_string(2, 0, report.period)
    w.write(overview, 3, 0, report.generated_at, "datetime")
    overview.write_string(5, 0, "", w.head)
    for i, f in enumerate(report.headline):
        overview.write_string(6 + i, 0, f.label)
        w.write(overview, 6 + i, 1, f.value, f.kind)
    overview.set_column(0, 0, 30)
    overview.set_column(1, 1, 18)
    for section in report.sections:
        ws = wb.add_worksheet(sheet_name(section.title, used))
        ws.write_string(0, 0, section.title, w.title)
        widths: dict[int, float] = {}
        row, first_header = 2, None
        for t in section.tables:
            header = w.table(ws, row, t, widths)
            first_header = header if first_header is None else first_header
            row += 2 + len(t.rows) + (1 if t.total is not None else 0) + 1
        for note in section.notes:
            ws.write_string(row, 0, note)
            row += 1
        for c, width in widths.items():
            ws.set_column(c, c, width)
        if first_header is not None:
            ws.freeze_panes(first_header + 1, 0)
    wb.close()
    return buf.getvalue()
