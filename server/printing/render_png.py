"""Receipt -> PNG preview, as wide as the paper (1 px = 1 printer dot).

mode="raster" is exactly the image a raster-mode printer receives. mode="native" imitates the
printer's own font (fixed 12/24-dot cells, integer magnification), close to what a
Chinese-market printer prints from GB18030 text.
"""

from __future__ import annotations

import io
from typing import Literal

from PIL import Image, ImageDraw

from . import fonts
from .layout import (
    NATIVE_CELL,
    NativeLine,
    logo_image,
    native_lines,
    paper_width_px,
    qr_box_for,
    qr_image,
    raster_image,
)
from .receipt import QR, Logo, Receipt

Mode = Literal["raster", "native"]


def preview_image(
    receipt: Receipt, paper_width_mm: int = 58, mode: Mode = "raster", width_px: int | None = None
) -> Image.Image:
    width = width_px or paper_width_px(paper_width_mm)
    if mode == "raster":
        return raster_image(receipt, width)
    return _native_image(receipt, width)


def render_png(
    receipt: Receipt, paper_width_mm: int = 58, mode: Mode = "raster", width_px: int | None = None
) -> bytes:
    buf = io.BytesIO()
    preview_image(receipt, paper_width_mm, mode, width_px).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _native_image(receipt: Receipt, width: int) -> Image.Image:
    cols = width // NATIVE_CELL
    img = Image.new("L", (width, 6000), 255)
    draw = ImageDraw.Draw(img)
    y = 4
    for block in receipt.blocks:
        if isinstance(block, QR | Logo):
            pic = (
                qr_image(block.data, qr_box_for(block, width))
                if isinstance(block, QR)
                else logo_image(block.png, width)
            )
            pad = 12 if isinstance(block, QR) else 4
            if y + pic.height + 2 * pad > img.height:
                img = _grow(img, y + pic.height + 2 * pad)
                draw = ImageDraw.Draw(img)
            img.paste(pic, ((width - pic.width) // 2, y + pad))
            y += pic.height + 2 * pad
            continue
        for line in native_lines(block, cols):
            h = _line_height(line)
            if y + h > img.height:
                img = _grow(img, y + h)
                draw = ImageDraw.Draw(img)
            _draw_native_line(draw, line, y, width)
            y += h
    return img.crop((0, 0, width, y + 16)).point(lambda v: 0 if v < 150 else 255, mode="1")


def _grow(img: Image.Image, need: int) -> Image.Image:
    bigger = Image.new("L", (img.width, need * 2), 255)
    bigger.paste(img, (0, 0))
    return bigger


def _line_height(line: NativeLine) -> int:
    # Printers default to ~30-dot line feeds; a magnified line is as tall as its glyphs.
    return max(30, 24 * line.mult + 6)


def _draw_native_line(draw: ImageDraw.ImageDraw, line: NativeLine, y: int, width: int) -> None:
    m = line.mult
    f = fonts.font(22 * m)
    cell = NATIVE_CELL * m
    line_w = sum(cell if ord(ch) < 0x80 else 2 * cell for ch in line.text)
    x = {"left": 0, "center": (width - line_w) // 2, "right": width - line_w}[line.align]
    stroke = max(1, m // 2) if line.bold else 0
    mid = y + 12 * m  # glyphs sit in a 24*m dot cell at the top of the line
    for ch in line.text:
        w = cell if ord(ch) < 0x80 else 2 * cell
        if not ch.isspace():
            draw.text((x + w / 2, mid), ch, font=f, fill=0, anchor="mm", stroke_width=stroke)
        x += w
