"""PDF documents in Chinese: fpdf2 (pure Python, from PyPI alone) with the Noto Sans SC font
the project already ships for receipts, embedded as a subset of the glyphs used.

Every PDF of the project (acceptance forms, handover notices, reports, urging letters) starts
from `new_document()`, so they share one font setup and one look.
"""

from __future__ import annotations

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
