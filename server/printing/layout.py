"""Paper geometry and line layout shared by the renderers.

Two layouts:
- raster: the receipt drawn with a CJK TrueType font into a 1-bit image as wide as the paper.
  The PNG preview and the "raster" printer mode send exactly this image.
- native: the receipt as lines of characters for the printer's own font (12x24 dots per ASCII
  character, 24x24 per Hanzi, magnified by GS !). The ESC/POS "native" mode sends these lines;
  the PNG preview imitates how the printer will draw them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from . import fonts
from .receipt import QR, Block, Feed, Logo, Receipt, Row, Separator, Text

# 203 dpi print heads: 58 mm paper has 48 mm (384 dots) printable, 80 mm has 72 mm (576 dots).
WIDTHS_PX = {58: 384, 80: 576}
NATIVE_CELL = 12  # dots per ASCII column in the printer's font A; a Hanzi takes two columns


def paper_width_px(paper_width_mm: int, profile_pixels: object = None) -> int:
    """Printable dots for a paper width; an 80 mm profile may say 512 (Epson TM-T88 at 180 dpi)."""
    if paper_width_mm not in WIDTHS_PX:
        raise ValueError(f"paper width must be 58 or 80 mm, not {paper_width_mm}")
    if paper_width_mm == 80 and isinstance(profile_pixels, int) and 500 <= profile_pixels <= 576:
        return profile_pixels
    return WIDTHS_PX[paper_width_mm]


def normalise(text: str) -> str:
    # "¥" (U+00A5) is 4 bytes in GB18030 and prints as garbage on GBK printers; owners read "￥".
    return text.replace("\u00a5", "\uffe5").replace("\u00a0", " ").replace("\t", "    ")


@lru_cache(maxsize=32)
def _qr_matrix(data: str) -> tuple[int, bytes]:
    """The QR matrix (side, one byte per module: 1 dark, 0 light, row after row), made once
    per text: sizing and drawing a receipt's code both need it. The mask is fixed: trying all
    eight for the "best" one was 90% of making it, and any mask is valid and scans (the
    penalty score only avoids patterns that look like the finder marks, which a short URL at
    this size does not produce enough of to matter)."""
    code = qrcode.QRCode(
        version=None,
        border=0,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        mask_pattern=2,
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    return len(matrix), bytes(1 if m else 0 for row in matrix for m in row)


_DARK_TO_L = bytes([255, 0]) + bytes(254)  # module byte -> grey level (dark = 0)


def qr_image(data: str, box: int) -> Image.Image:
    """QR modules only (no quiet zone: the caller leaves white paper around it)."""
    n, modules = _qr_matrix(data)
    small = Image.frombytes("L", (n, n), modules.translate(_DARK_TO_L))
    return small.resize((n * box, n * box), Image.NEAREST)


def qr_print_rows(data: str, box: int, width: int) -> bytes:
    """qr_image() centred on a page `width` dots wide, as GS v 0 rows (1 = burn, each row
    padded to whole bytes), built from the modules without drawing and thresholding a page."""
    n, modules = _qr_matrix(data)
    row_bytes = (width + 7) // 8
    left = (width - n * box) // 2
    tail = 8 * row_bytes - left - n * box
    runs = (b"0" * box, b"1" * box)
    rows = []
    for start in range(0, n * n, n):
        bits = int(b"".join(map(runs.__getitem__, modules[start : start + n])), 2)
        rows.append((bits << tail).to_bytes(row_bytes, "big") * box)
    return b"".join(rows)


def qr_box_for(block: QR, avail: int) -> int:
    """The largest module size <= block.size that fits the paper with a 4-module quiet zone."""
    modules = _qr_matrix(block.data)[0] + 8
    return max(1, min(block.size, avail // modules))


def logo_image(png: bytes, avail: int, max_height: int = 160) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(bg, img)
    img = img.convert("L")
    scale = min(1.0, avail / img.width, max_height / img.height)
    if scale < 1.0:
        img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
    # Dither: logos are often shaded; text is thresholded elsewhere.
    return img.convert("1").convert("L")


# --- raster layout -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RasterStyle:
    width: int
    margin: int
    normal: int
    double: int
    huge: int

    @classmethod
    def for_width(cls, width: int) -> RasterStyle:
        if width <= 400:
            return cls(width, margin=6, normal=24, double=38, huge=150)
        return cls(width, margin=10, normal=28, double=46, huge=190)

    @property
    def avail(self) -> int:
        return self.width - 2 * self.margin


_BREAK_AFTER = " →、，,;；"


def _wrap(text: str, measure, limit: int) -> list[str]:
    """Greedy wrap, breaking as `_break` says."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if measure(line + ch) <= limit or not line:
                line += ch
                continue
            full, line = _break(line, ch)
            lines.append(full)
        lines.append(line)
    return lines


def _break(line: str, ch: str) -> tuple[str, str]:
    """A full line, `ch` not fitting on it: the line as it goes, and what the next begins
    with. Hanzi may break anywhere, but a short tail is carried over whole so that words and
    step names ("→钥匙交接") are not split when a space or arrow allows it."""
    cut = max(line.rfind(c) for c in _BREAK_AFTER)
    if ch not in " " and cut > 0 and len(line) - cut - 1 <= 10:
        return line[: cut + 1].rstrip(), line[cut + 1 :].lstrip() + ch
    return line.rstrip(), "" if ch == " " else ch


class _Canvas:
    """An ever-growing white page; threshold once at the end so text stays crisp."""

    def __init__(self, width: int):
        self.img = Image.new("L", (width, 4000), 255)
        self.draw = ImageDraw.Draw(self.img)
        self.y = 0

    def ensure(self, height: int) -> None:
        if self.y + height > self.img.height:
            bigger = Image.new("L", (self.img.width, (self.y + height) * 2), 255)
            bigger.paste(self.img, (0, 0))
            self.img = bigger
            self.draw = ImageDraw.Draw(self.img)

    def finish(self, bottom: int) -> Image.Image:
        out = self.img.crop((0, 0, self.img.width, self.y + bottom))
        return out.point(lambda v: 0 if v < 150 else 255, mode="1")


@lru_cache(maxsize=4096)
def _length(font: ImageFont.FreeTypeFont, text: str) -> float:
    # Wrapping measures every prefix of every line (a hundred layouts per ticket), and tickets
    # repeat their labels and prefixes: remembered, that was a fifth of a raster ticket's CPU.
    return font.getlength(text)


def _text_px(style: RasterStyle, block: Text) -> int:
    if block.size == "normal":
        return style.normal
    if block.size == "double":
        return style.double
    # Huge (the ticket number): as big as one line of the paper allows.
    size = style.huge
    while size > style.double:
        f = fonts.font(size)
        if _length(f, block.text) + 2 * _stroke(size, True) <= style.avail:
            break
        size -= 6
    return size


def _stroke(size: int, bold: bool) -> int:
    # Thin CJK strokes vanish on a thermal head below ~2 dots; bold is thicker still.
    return (max(1, size // 30) if bold else 0) if size < 60 else (size // 28 if bold else 1)


def _draw_text_block(c: _Canvas, style: RasterStyle, b: Text) -> None:
    size = _text_px(style, b)
    f = fonts.font(size)
    stroke = _stroke(size, b.bold)
    lines = _wrap(normalise(b.text), lambda s: _length(f, s) + 2 * stroke, style.avail)
    ascent, descent = f.getmetrics()
    line_h = int((ascent + descent) * (1.05 if size > 60 else 1.15))
    for line in lines:
        c.ensure(line_h)
        w = _length(f, line) + 2 * stroke
        if b.align == "center":
            x = (style.width - w) / 2
        elif b.align == "right":
            x = style.width - style.margin - w
        else:
            x = style.margin
        c.draw.text((x + stroke, c.y), line, font=f, fill=0, stroke_width=stroke, stroke_fill=0)
        c.y += line_h


def _draw_row(c: _Canvas, style: RasterStyle, b: Row) -> None:
    f = fonts.font(style.normal)
    stroke = _stroke(style.normal, b.bold)
    ascent, descent = f.getmetrics()
    line_h = int((ascent + descent) * 1.15)
    label, value = normalise(b.label), normalise(b.value)
    vw = _length(f, value) + 2 * stroke
    gap = style.normal // 2
    lines = _wrap(label, lambda s: _length(f, s) + 2 * stroke, style.avail)
    same_line = _length(f, lines[-1]) + 2 * stroke + gap + vw <= style.avail
    if not same_line:
        lines += _wrap(value, lambda s: _length(f, s) + 2 * stroke, style.avail)[:-1]
    for i, line in enumerate(lines):
        c.ensure(line_h)
        c.draw.text((style.margin + stroke, c.y), line, font=f, fill=0, stroke_width=stroke)
        if i == len(lines) - 1 and same_line:
            x = style.width - style.margin - vw + stroke
            c.draw.text((x, c.y), value, font=f, fill=0, stroke_width=stroke)
        c.y += line_h
    if not same_line:
        last = _wrap(value, lambda s: _length(f, s) + 2 * stroke, style.avail)[-1]
        c.ensure(line_h)
        x = style.width - style.margin - _length(f, last) - stroke
        c.draw.text((x, c.y), last, font=f, fill=0, stroke_width=stroke)
        c.y += line_h


def _draw_block(c: _Canvas, style: RasterStyle, b: Block) -> None:
    if isinstance(b, Text):
        _draw_text_block(c, style, b)
    elif isinstance(b, Row):
        _draw_row(c, style, b)
    elif isinstance(b, Separator):
        c.ensure(20)
        mid = c.y + 9
        if b.style == "solid":
            c.draw.rectangle((style.margin, mid - 1, style.width - style.margin, mid + 1), fill=0)
        elif b.style == "dashed":
            for x in range(style.margin, style.width - style.margin, 12):
                c.draw.rectangle((x, mid - 1, min(x + 6, style.width - style.margin), mid), fill=0)
        c.y += 20
    elif isinstance(b, QR):
        box = qr_box_for(b, style.width)
        img = qr_image(b.data, box)
        pad = 2 * box  # quiet zone above/below; the sides are white paper anyway
        c.ensure(img.height + 2 * pad)
        c.img.paste(img, ((style.width - img.width) // 2, c.y + pad))
        c.y += img.height + 2 * pad
    elif isinstance(b, Logo):
        img = logo_image(b.png, style.avail)
        c.ensure(img.height + 8)
        c.img.paste(img, ((style.width - img.width) // 2, c.y))
        c.y += img.height + 8
    elif isinstance(b, Feed):
        c.y += b.lines * style.normal
        c.ensure(0)


def raster_image(receipt: Receipt, width: int) -> Image.Image:
    """The whole receipt as a 1-bit image exactly `width` dots wide (black = print)."""
    style = RasterStyle.for_width(width)
    c = _Canvas(width)
    c.y = 4
    for b in receipt.blocks:
        _draw_block(c, style, b)
    return c.finish(bottom=16)


# --- native (printer font) layout --------------------------------------------------------------


@dataclass(frozen=True)
class NativeLine:
    text: str
    mult: int = 1  # GS ! width and height multiplier, 1-8
    bold: bool = False
    align: str = "left"


def cols_of(text: str) -> int:
    # In Chinese mode every multi-byte GB18030 character is a 24-dot (two column) glyph.
    # Counted in C (encode drops exactly the characters >= U+0080): a character-by-character
    # sum was a quarter of a native ticket's CPU.
    if text.isascii():
        return len(text)
    return 2 * len(text) - len(text.encode("ascii", "ignore"))


def _wrap_cols(text: str, cols: int) -> list[str]:
    """_wrap(text, cols_of, cols), the same lines, without measuring every prefix again: a
    column count only adds up, so a paragraph that fits is one line, and the others keep a
    running count."""
    lines: list[str] = []
    for para in text.split("\n"):
        if cols_of(para) <= cols:
            lines.append(para)
            continue
        line = ""
        width = 0
        for ch in para:
            w = 1 if ch < "\x80" else 2
            if width + w <= cols or not line:
                line += ch
                width += w
                continue
            full, line = _break(line, ch)
            lines.append(full)
            width = cols_of(line)
        lines.append(line)
    return lines


def native_mult(block: Text, cols: int) -> int:
    if block.size == "normal":
        return 1
    if block.size == "double":
        return 2
    widest = max((cols_of(line) for line in block.text.split("\n")), default=1) or 1
    return max(2, min(6, cols // widest))


def native_lines(block: Text | Row | Separator | Feed, cols: int) -> list[NativeLine]:
    if isinstance(block, Text):
        m = native_mult(block, cols)
        text = normalise(block.text)
        return [NativeLine(t, m, block.bold, block.align) for t in _wrap_cols(text, cols // m)]
    if isinstance(block, Row):
        label, value = normalise(block.label), normalise(block.value)
        lines = _wrap_cols(label, cols)
        last = lines[-1]
        if cols_of(last) + 1 + cols_of(value) <= cols:
            lines[-1] = last + " " * (cols - cols_of(last) - cols_of(value)) + value
            out = [NativeLine(t, 1, block.bold) for t in lines]
        else:
            out = [NativeLine(t, 1, block.bold) for t in lines]
            out += [NativeLine(t, 1, block.bold, "right") for t in _wrap_cols(value, cols)]
        return out
    if isinstance(block, Separator):
        char = {"dashed": "-", "solid": "=", "blank": ""}[block.style]
        return [NativeLine(char * cols)]
    if isinstance(block, Feed):
        return [NativeLine("") for _ in range(block.lines)]
    raise TypeError(block)
