"""Charts as inline SVG, drawn on the server: the admin page needs no JS library and no CDN.
The PDF draws the same `Chart` with fpdf2 (render_pdf.py) from the same geometry helpers."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from .model import Chart

PALETTE = ("#2f6fdf", "#f0a030", "#3aa76d", "#d9534f", "#8e6bd1")


def nice_max(value: float) -> tuple[float, float]:
    """An axis top and tick step (1, 2 or 5 x 10^k) with at most five ticks above zero."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if value >= 1:
        step = max(step, 1.0)
    return step * math.ceil(value / step), step


def _num(v: float) -> str:
    return f"{v:g}" if v != int(v) else str(int(v))


def _text_width(text: str, size: float) -> float:
    """Rough width: CJK glyphs are square, Latin about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.55 for ch in text)


def svg(chart: Chart) -> Markup:
    if not chart.labels or not chart.series:
        return Markup("")
    if chart.style == "hbars":
        return _hbars(chart)
    return _bars(chart)


def _legend(chart: Chart, x: float, y: float) -> list[str]:
    out = []
    for i, s in enumerate(chart.series):
        out.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[i % 5]}"/>'
            f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="12">{escape(s.name)}</text>'
        )
        x += 24 + _text_width(s.name, 12)
    return out


def _bars(chart: Chart) -> Markup:
    width, height = 720, 300
    left, right, top, bottom = 44, 12, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = max((max(s.values) if s.values else 0) for s in chart.series)
    top_value, step = nice_max(vmax)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    parts += _legend(chart, left, 16)
    ticks = round(top_value / step)
    for k in range(ticks + 1):
        v = k * step
        y = top + plot_h - plot_h * v / top_value
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#dde3ea" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#667">{_num(v)}</text>'
        )
    n, m = len(chart.labels), len(chart.series)
    group_w = plot_w / n
    bar_w = min(28.0, group_w * 0.8 / m)
    for i, label in enumerate(chart.labels):
        gx = left + group_w * i + (group_w - bar_w * m) / 2
        for j, s in enumerate(chart.series):
            v = s.values[i] if i < len(s.values) else 0
            h = plot_h * v / top_value
            x = gx + bar_w * j
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % 5]}"><title>{escape(s.name)} · '
                f"{escape(label)}: {_num(v)}</title></rect>"
            )
            if v and bar_w >= 14:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                    f'font-size="10" text-anchor="middle" fill="#334">{_num(v)}</text>'
                )
        parts.append(
            f'<text x="{left + group_w * (i + 0.5):.1f}" y="{top + plot_h + 16}" font-size="11" '
            f'text-anchor="middle" fill="#334">{escape(label)}</text>'
        )
    if chart.unit:
        parts.append(
            f'<text x="4" y="{top - 8}" font-size="11" fill="#667">{escape(chart.unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _hbars(chart: Chart) -> Markup:
    s = chart.series[0]
    row_h = 24
    label_w = min(220, max(_text_width(lbl, 12) for lbl in chart.labels) + 12)
    width, top = 720, 8
    height = top + row_h * len(chart.labels) + 8
    plot_w = width - label_w - 60
    vmax = max(s.values) if s.values else 0
    top_value, _step = nice_max(vmax)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for i, label in enumerate(chart.labels):
        v = s.values[i]
        y = top + row_h * i
        w = plot_w * v / top_value
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{y + 16}" font-size="12" text-anchor="end" '
            f'fill="#334">{escape(label)}</text>'
            f'<rect x="{label_w:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" '
            f'fill="#334">{_num(v)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
