"""A report as an A4 PDF (fpdf2, through server/pdf.py so the Chinese font is embedded):
headline figures, then each section with its charts (drawn with fpdf2's own lines and
rectangles from the same Chart model the page shows as SVG) and its tables (headers repeated
on every page a table runs onto)."""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

from server.pdf import FONT, new_document, plan_with_pins, to_bytes

from .charts import PALETTE, nice_max
from .model import Chart, Plan, Report, Table, format_value

MARGIN = 12
# fontTools reports every subset at INFO: noise in the CLI and the server log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _num(v: float) -> str:
    return f"{v:g}" if v != int(v) else str(int(v))


class _Doc:
    def __init__(self, report: Report):
        self.r = report
        self.pdf: FPDF = new_document(title=f"{report.title} {report.period}")
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(True, margin=14)
        footer = f"{report.project_name} · {report.title} · {report.period}"

        pdf = self.pdf

        def _footer():
            pdf.set_y(-10)
            pdf.set_font(FONT, size=7)
            pdf.set_text_color(120, 120, 120)
            pdf.cell(0, 4, f"{footer} · {pdf.page_no()}/{{nb}}", align="C")
            pdf.set_text_color(0, 0, 0)

        pdf.footer = _footer  # type: ignore[method-assign]
        self.width = pdf.w - 2 * MARGIN

    def heading(self, text: str, size: float = 13) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FONT, "", size)
        pdf.cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9)
        pdf.ln(1)

    def cover(self) -> None:
        pdf, r = self.pdf, self.r
        pdf.add_page()
        pdf.set_font(FONT, "", 18)
        pdf.cell(0, 10, f"{r.project_name}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 14)
        pdf.cell(0, 8, f"{r.title}  {r.period}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(100, 100, 100)
        pdf.cell(0, 5, r.generated_at.strftime("%Y-%m-%d %H:%M"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(3)
        # Headline figures as boxes, four per row.
        per_row, gap = 4, 3
        box_w = (self.width - gap * (per_row - 1)) / per_row
        box_h = 15
        x0, y = pdf.l_margin, pdf.get_y()
        for i, f in enumerate(r.headline):
            col = i % per_row
            if col == 0 and i:
                y += box_h + gap
            x = x0 + col * (box_w + gap)
            pdf.set_fill_color(238, 242, 246)
            pdf.rect(x, y, box_w, box_h, style="F")
            pdf.set_xy(x + 2, y + 1.5)
            pdf.set_font(FONT, size=7.5)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(box_w - 4, 4, f.label)
            pdf.set_xy(x + 2, y + 6)
            pdf.set_font(FONT, "", 13)
            pdf.set_text_color(0, 0, 0)
            pdf.cell(box_w - 4, 7, format_value(f.value, f.kind))
        pdf.set_xy(x0, y + box_h + 4)
        pdf.set_font(FONT, size=9)

    def chart(self, chart: Chart) -> None:
        if not chart.labels or not chart.series:
            return
        pdf = self.pdf
        height = 62 if chart.style == "bars" else 8 + 5.2 * len(chart.labels)
        if pdf.get_y() + height + 8 > pdf.h - 14:
            pdf.add_page()
        pdf.set_font(FONT, "", 9)
        pdf.cell(
            0,
            5,
            chart.title + (f" ({chart.unit})" if chart.unit else ""),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        x, y = pdf.l_margin, pdf.get_y() + 1
        if chart.style == "hbars":
            self._hbars(chart, x, y)
        else:
            self._bars(chart, x, y, height)
        pdf.set_xy(pdf.l_margin, y + height + 2)
        pdf.set_font(FONT, size=9)

    def _bars(self, chart: Chart, x: float, y: float, height: float) -> None:
        pdf = self.pdf
        left, bottom, top = 10, 9, 7
        plot_w, plot_h = self.width - left, height - top - bottom
        vmax = max((max(s.values) if s.values else 0) for s in chart.series)
        top_value, step = nice_max(vmax)
        # legend
        lx = x + left
        pdf.set_font(FONT, size=7)
        for j, s in enumerate(chart.series):
            pdf.set_fill_color(*_rgb(PALETTE[j % 5]))
            pdf.rect(lx, y, 3, 3, style="F")
            pdf.set_xy(lx + 4, y - 0.5)
            w = pdf.get_string_width(s.name) + 2
            pdf.cell(w, 4, s.name)
            lx += w + 8
        base = y + top + plot_h
        pdf.set_draw_color(220, 226, 232)
        pdf.set_line_width(0.2)
        ticks = round(top_value / step)
        for k in range(ticks + 1):
            v = k * step
            ty = base - plot_h * v / top_value
            pdf.line(x + left, ty, x + left + plot_w, ty)
            pdf.set_xy(x, ty - 2)
            pdf.cell(left - 1, 4, _num(v), align="R")
        n, m = len(chart.labels), len(chart.series)
        group_w = plot_w / n
        bar_w = min(7.0, group_w * 0.8 / m)
        for i, label in enumerate(chart.labels):
            gx = x + left + group_w * i + (group_w - bar_w * m) / 2
            for j, s in enumerate(chart.series):
                v = s.values[i] if i < len(s.values) else 0
                h = plot_h * v / top_value
                pdf.set_fill_color(*_rgb(PALETTE[j % 5]))
                if h > 0:
                    pdf.rect(gx + bar_w * j, base - h, bar_w * 0.9, h, style="F")
                if v and bar_w >= 3.5:
                    pdf.set_font(FONT, size=5.5)
                    pdf.set_xy(gx + bar_w * j - 1, base - h - 3)
                    pdf.cell(bar_w + 1, 3, _num(v), align="C")
            pdf.set_font(FONT, size=6.5 if n > 12 else 7)
            pdf.set_xy(x + left + group_w * i, base + 1)
            pdf.cell(group_w, 4, label, align="C")

    def _hbars(self, chart: Chart, x: float, y: float) -> None:
        pdf = self.pdf
        s = chart.series[0]
        pdf.set_font(FONT, size=7.5)
        label_w = min(55, max(pdf.get_string_width(lbl) for lbl in chart.labels) + 3)
        plot_w = self.width - label_w - 14
        top_value, _ = nice_max(max(s.values) if s.values else 0)
        pdf.set_fill_color(*_rgb(PALETTE[0]))
        for i, label in enumerate(chart.labels):
            ry = y + 5.2 * i
            pdf.set_xy(x, ry)
            pdf.cell(label_w - 2, 4.4, label, align="R")
            w = plot_w * s.values[i] / top_value
            if w > 0:
                pdf.rect(x + label_w, ry + 0.6, w, 3.4, style="F")
            pdf.set_xy(x + label_w + w + 1, ry)
            pdf.cell(12, 4.4, _num(s.values[i]))

    def table(self, t: Table) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 35:
            pdf.add_page()
        pdf.set_font(FONT, "", 9.5)
        pdf.cell(0, 6, t.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=8)
        if not t.rows:
            pdf.set_text_color(120, 120, 120)
            pdf.cell(0, 5, "–", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
            return
        rows = [
            [format_value(v, c.kind) for v, c in zip(r, t.columns, strict=True)] for r in t.rows
        ]
        if t.total is not None:
            rows.append(
                [
                    format_value(v, c.kind if i else "text")
                    for i, (v, c) in enumerate(zip(t.total, t.columns, strict=True))
                ]
            )
        widths = []
        for i, c in enumerate(t.columns):
            label_w = min(pdf.get_string_width(c.label) + 3, 22.0)
            longest = max(pdf.get_string_width(r[i]) + 3 for r in rows[:300])
            widths.append(max(10.0, label_w, min(longest, 90.0)))
        total_w = sum(widths)
        if total_w > self.width:
            widths = [w * self.width / total_w for w in widths]
            total_w = self.width
        pdf.set_fill_color(255, 255, 255)
        right = [c.kind != "text" for c in t.columns]
        self._grid([c.label for c in t.columns], rows, widths, right, t.total is not None)
        pdf.ln(3)

    def _wrap(self, text: str, width: float) -> list[str]:
        """Greedy line breaking by glyph widths (CJK breaks anywhere; Latin at spaces when it
        can). fpdf2's own table lays out every cell with its full line breaker: far too slow
        for a day with hundreds of rows."""
        pdf = self.pdf
        if pdf.get_string_width(text) <= width:
            return [text]
        lines, line, line_w, last_space = [], "", 0.0, -1
        for ch in text:
            w = pdf.get_string_width(ch)
            if line_w + w > width and line:
                if ch != " " and last_space > 0:
                    lines.append(line[:last_space])
                    line = line[last_space + 1 :]
                else:
                    lines.append(line)
                    line = ""
                line_w, last_space = pdf.get_string_width(line), -1
                if ch == " ":
                    continue
            if ch == " ":
                last_space = len(line)
            line += ch
            line_w += w
        if line:
            lines.append(line)
        return lines

    def _grid(self, head, rows, widths, right, bold_last) -> None:
        pdf = self.pdf
        line_h, pad = 4.0, 0.9
        bottom = pdf.h - pdf.b_margin
        x0 = pdf.l_margin
        pdf.set_draw_color(215, 222, 230)
        pdf.set_line_width(0.15)

        def draw(cells, fill=None, bold=False):
            lines = [self._wrap(c, w - 2 * pad) for c, w in zip(cells, widths, strict=True)]
            h = max(len(ls) for ls in lines) * line_h + 2 * pad
            if pdf.get_y() + h > bottom:
                pdf.add_page()
                if cells is not head:
                    draw(head, fill=(232, 238, 245))
            y = pdf.get_y()
            if fill:
                pdf.set_fill_color(*fill)
                pdf.rect(x0, y, sum(widths), h, style="F")
            if bold:
                pdf.set_font(FONT, size=8.6)
            x = x0
            for ls, w, r in zip(lines, widths, right, strict=True):
                for k, text in enumerate(ls):
                    pdf.set_xy(x + pad, y + pad + k * line_h)
                    pdf.cell(w - 2 * pad, line_h, text, align="R" if r else "L")
                x += w
            pdf.line(x0, y + h, x0 + sum(widths), y + h)
            pdf.set_font(FONT, size=8)
            pdf.set_xy(x0, y + h)

        draw(head, fill=(232, 238, 245))
        for i, r in enumerate(rows):
            draw(r, bold=bold_last and i == len(rows) - 1)

    def plans(self, title: str, plans: list[Plan], instance_path: Path) -> None:
        """Floor plans with their numbered pins, two per row (`server.pdf.plan_with_pins`, the
        acceptance form's drawing). A plan whose file is missing is left out."""
        plans = [p for p in plans if (instance_path / p.path).is_file()]
        if not plans:
            return
        pdf = self.pdf
        gap, caption = 6.0, 5.0
        w = (self.width - gap) / 2
        if pdf.get_y() > pdf.h - 80:
            pdf.add_page()
        pdf.set_font(FONT, "", 9.5)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        for start in range(0, len(plans), 2):
            pair = plans[start : start + 2]
            sizes = []
            for p in pair:
                pw, ph = w, w * p.height / p.width
                if ph > 110:  # a tall plan: scaled to fit, kept in its column
                    pw, ph = pw * 110 / ph, 110
                sizes.append((pw, ph))
            row_h = caption + max(h for _w, h in sizes) + 4
            if pdf.get_y() + row_h > pdf.h - pdf.b_margin:
                pdf.add_page()
            y = pdf.get_y()
            for i, (p, (pw, ph)) in enumerate(zip(pair, sizes, strict=True)):
                x = pdf.l_margin + i * (w + gap)
                pdf.set_font(FONT, size=8.5)
                pdf.set_xy(x, y)
                pdf.cell(w, caption, p.title)
                plan_with_pins(
                    pdf,
                    str(instance_path / p.path),
                    x=x + (w - pw) / 2,
                    y=y + caption,
                    w=pw,
                    h=ph,
                    pins=p.pins,
                    radius=2.4,
                )
            pdf.set_font(FONT, size=9)
            pdf.set_xy(pdf.l_margin, y + row_h)


def render_pdf(report: Report, instance_path: str | Path | None = None) -> bytes:
    """`instance_path`: where stored files live; with it, sections' floor plans are drawn."""
    doc = _Doc(report)
    doc.cover()
    for section in report.sections:
        doc.heading(section.title)
        for chart in section.charts:
            doc.chart(chart)
        for t in section.tables:
            doc.table(t)
        if section.plans and instance_path is not None:
            doc.plans(section.plans_title, section.plans, Path(instance_path))
        for note in section.notes:
            doc.pdf.set_font(FONT, size=7.5)
            doc.pdf.multi_cell(0, 4, note, new_x="LMARGIN", new_y="NEXT")
    return to_bytes(doc.pdf)
