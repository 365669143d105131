"""PDF documents in Chinese: fpdf2 (pure Python, from PyPI alone) with the Noto Sans SC font
the project already ships for receipts, embedded as a subset of the glyphs used.

Every PDF of the project (acceptance forms, handover notices, reports, urging letters) starts
from `new_document()`, so they share one font setup and one look.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF

from server.printing.fonts import find_cjk_font

FONT = "cjk"


def new_document(*, title: str, orientation: str = "portrait") -> FPDF:
    """An A4 document with the CJK font registered and selected (10 pt)."""
    pdf = FPDF(orientation="L" if orientation == "landscape" else "P", unit="mm", format="A4")
    spec = find_cjk_font()
    pdf.add_font(FONT, fname=str(spec.path))
    # No bold face ships with the font; fpdf2 refuses style "B" for an unregistered style.
    pdf.add_font(FONT, style="B", fname=str(spec.path))
    pdf.set_title(title)
    pdf.set_creator("Handover Day")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font(FONT, size=10)
    return pdf


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


PIN_RGB = (214, 40, 40)


def plan_with_pins(
    pdf: FPDF,
    image_path: str,
    *,
    x: float,
    y: float,
    w: float,
    h: float,
    pins: Iterable[tuple[int, float | None, float | None]],
    radius: float = 3.0,
    style: str = "",
) -> None:
    """A floor plan drawn in the box (x, y, w, h) with a numbered red pin per (n, x, y) (pin
    positions as fractions of the plan's width and height; pins without one are skipped).
    The acceptance form and the daily report draw their plans with this one function.
    Leaves the colours and line width as fpdf2's defaults; the caller sets its font again."""
    pdf.image(image_path, x=x, y=y, w=w, h=h)
    pdf.set_draw_color(150)
    pdf.rect(x, y, w, h)
    for n, px, py in pins:
        if px is None or py is None:
            continue
        cx, cy = x + px * w, y + py * h
        pdf.set_fill_color(*PIN_RGB)
        pdf.set_draw_color(255, 255, 255)
        pdf.set_line_width(0.5 * radius / 3)
        pdf.circle(x=cx, y=cy, radius=radius, style="FD")
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(FONT, style, 7.5 * radius / 3)
        pdf.set_xy(cx - radius, cy - radius)
        pdf.cell(2 * radius, 2 * radius, str(n), align="C")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_text_color(0)
