"""Receipt -> ESC/POS bytes, through python-escpos's Dummy printer.

Two Chinese modes, chosen per printer:
- native: for printers sold in China (GB18030 font in ROM). FS & enters Chinese mode, text is sent
  as GB18030 bytes, FS . leaves it. Sizes use GS ! (large Hanzi need the custom size). We write
  the bytes ourselves: python-escpos's text() encodes whole strings as GB18030 only if they
  contain a Hanzi and never sends FS &, so punctuation-only lines come out as "???".
- raster: for any printer: the whole receipt is drawn with a CJK font (see layout.raster_image)
  and sent as GS v 0 raster images. Slower on serial links (about 48 bytes per dot row at 58 mm),
  but every character prints, whatever the printer's ROM.

QR codes are sent as raster images by default (qrcode library, python-escpos native=False):
every printer with GS v 0 prints them, and they look exactly like the preview. Printers known to
support GS ( k can use native_qr=True, which sends a few dozen bytes instead of a few KB.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from PIL import Image, ImageChops

from ._escpos import get_profile, printer
from .layout import (
    NATIVE_CELL,
    logo_image,
    native_lines,
    paper_width_px,
    qr_box_for,
    qr_print_rows,
    raster_image,
)
from .receipt import QR, Logo, Receipt

ESC_INIT = b"\x1b@"
FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."

Mode = Literal["native", "raster"]


@dataclass(frozen=True)
class RenderTarget:
    """What rendering needs to know about a printer (a Printer row maps onto this)."""

    paper_width_mm: int = 58
    mode: Mode = "native"
    profile: str = "default"
    native_qr: bool = False

    @property
    def width_px(self) -> int:
        return make_profile(self.profile, self.paper_width_mm).profile_data["media"]["width"][
            "pixels"
        ]


def make_profile(name: str | None, paper_width_mm: int):
    """A profile instance whose media width matches the paper, without touching the shared
    class-level profile_data (python-escpos shares it between all printers in the process)."""
    name = name or "default"
    profile = get_profile(name)
    profile.profile_data = _profile_data(name, paper_width_mm)
    return profile


@lru_cache(maxsize=64)
def _profile_data(name: str, paper_width_mm: int) -> dict[str, Any]:
    # Made once per (profile, paper) and shared by every render: the deep copy was 15% of a
    # ticket's CPU. python-escpos only reads it: its one write (Escpos._dpi) happens when "dpi"
    # is not an int, which it always is here.
    data = copy.deepcopy(get_profile(name).profile_data)
    width = paper_width_px(paper_width_mm, data.get("media", {}).get("width", {}).get("pixels"))
    media = data.setdefault("media", {})
    media["width"] = {"mm": 48 if paper_width_mm == 58 else 72, "pixels": width}
    if not isinstance(media.get("dpi"), int):
        media["dpi"] = 203
    return data


# Set bits are the dots to print (PIL's "1" stores white as 1, the printer burns on 1).
_INK_BELOW_128 = [255 if v < 128 else 0 for v in range(256)]
GS_V0 = b"\x1dv0\x00"  # raster bit image, normal (high) density both ways
FRAGMENT_ROWS = 960  # python-escpos image()'s default band height


def _padded_ink(img: Image.Image, width: int) -> Image.Image:
    # Centre by padding to the full width: GS v 0 ignores ESC a alignment on many printers.
    page = Image.new("L", (width, img.height), 255)
    page.paste(img.convert("L"), ((width - img.width) // 2, 0))
    return page.point(_INK_BELOW_128, mode="1")


def _send_ink(p, ink: Image.Image) -> None:
    """GS v 0 as python-escpos's image() sends it, for an image already in the printer's sense.
    image() took a third of a ticket's CPU converting the page through RGBA, L, an inversion and
    a dither to get here."""
    _send_rows(p, ink.tobytes(), (ink.width + 7) // 8, ink.height)


def _send_rows(p, data: bytes, row_bytes: int, height: int) -> None:
    # In 960-row bands, each with its own header, as image() cuts them.
    for top in range(0, height, FRAGMENT_ROWS) or (0,):
        rows = min(FRAGMENT_ROWS, height - top)
        header = GS_V0 + row_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        p._raw(header + data[top * row_bytes : (top + rows) * row_bytes])


def render_escpos(receipt: Receipt, target: RenderTarget | None = None) -> bytes:
    target = target or RenderTarget()
    profile = make_profile(target.profile, target.paper_width_mm)
    width = profile.profile_data["media"]["width"]["pixels"]
    p = printer.Dummy(profile=target.profile or "default")
    p.profile = profile  # get_profile() passes through only escpos.Profile instances
    p._raw(ESC_INIT)
    if target.mode == "raster":
        _send_ink(p, ImageChops.invert(raster_image(receipt, width)))
    elif target.mode == "native":
        _native(p, receipt, width, target.native_qr)
    else:
        raise ValueError(f"unknown mode {target.mode!r}")
    if receipt.cut:
        p.cut()  # feeds past the cutter first; sends GS V only if the profile has a cutter
    else:
        p.print_and_feed(4)
    return p.output


def _native(p, receipt: Receipt, width: int, native_qr: bool) -> None:
    cols = width // NATIVE_CELL
    p._raw(FS_CHINESE_ON)
    for block in receipt.blocks:
        if isinstance(block, QR):
            p.set(align="center")
            if native_qr:
                p.qr(block.data, size=min(block.size, 8), native=True)
                p._raw(b"\n")
            else:
                row_bytes = (width + 7) // 8
                rows = qr_print_rows(block.data, qr_box_for(block, width), width)
                _send_rows(p, rows, row_bytes, len(rows) // row_bytes)
            continue
        if isinstance(block, Logo):
            _send_ink(p, _padded_ink(logo_image(block.png, width), width))
            continue
        for line in native_lines(block, cols):
            p.set(
                align=line.align,
                bold=line.bold,
                custom_size=True,
                width=line.mult,
                height=line.mult,
            )
            p._raw(line.text.encode("gb18030") + b"\n")
    # Leave the printer as we found it: normal size, left, not bold, single-byte mode.
    p.set(align="left", bold=False, custom_size=True, width=1, height=1)
    p._raw(FS_CHINESE_OFF)
