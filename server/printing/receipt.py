"""A receipt as plain data.

Builders produce it, renderers consume it, and the print queue stores it as JSON so a job can
be re-rendered for another printer (other width, other Chinese mode) when staff redirect it.
Nothing here knows about ESC/POS, Pillow or the database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

Size = Literal["normal", "double", "huge"]
Align = Literal["left", "center", "right"]

SIZES: tuple[str, ...] = ("normal", "double", "huge")
ALIGNS: tuple[str, ...] = ("left", "center", "right")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Text:
    """One paragraph; renderers wrap it to the paper width."""

    text: str
    size: Size = "normal"
    bold: bool = False
    align: Align = "left"

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}: {self.size!r}")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}: {self.align!r}")


@dataclass(frozen=True)
class Row:
    """Label on the left, value on the right (totals, meter readings, key items)."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Separator:
    style: Literal["dashed", "solid", "blank"] = "dashed"


@dataclass(frozen=True)
class QR:
    """QR code; `size` is the module size in printer dots (1-16), as in ESC/POS GS ( k."""

    data: str
    size: int = 6

    def __post_init__(self) -> None:
        if not 1 <= self.size <= 16:
            raise ValueError("QR size must be 1-16 dots per module")
        if not self.data:
            raise ValueError("QR data must not be empty")


@dataclass(frozen=True)
class Logo:
    """A small image (PNG bytes), printed centred and scaled down to the paper if needed."""

    png: bytes


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Block = Text | Row | Separator | QR | Logo | Feed

_KINDS: dict[str, type] = {
    "text": Text,
    "row": Row,
    "sep": Separator,
    "qr": QR,
    "logo": Logo,
    "feed": Feed,
}
_TAGS = {cls: tag for tag, cls in _KINDS.items()}


@dataclass
class Receipt:
    blocks: list[Block] = field(default_factory=list)
    cut: bool = True

    # Small fluent helpers keep the builders readable.
    def text(self, text: str, size: Size = "normal", bold: bool = False, align: Align = "left"):
        self.blocks.append(Text(text, size, bold, align))
        return self

    def row(self, label: str, value: str, bold: bool = False):
        self.blocks.append(Row(label, value, bold))
        return self

    def sep(self, style: Literal["dashed", "solid", "blank"] = "dashed"):
        self.blocks.append(Separator(style))
        return self

    def qr(self, data: str, size: int = 6):
        self.blocks.append(QR(data, size))
        return self

    def feed(self, lines: int = 1):
        self.blocks.append(Feed(lines))
        return self

    def plain_text(self) -> str:
        """The receipt's words, one block a line: for logs, search and tests."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Row):
                out.append(f"{b.label} {b.value}")
            elif isinstance(b, QR):
                out.append(f"[QR {b.data}]")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        blocks = []
        for b in self.blocks:
            d: dict[str, Any] = {"t": _TAGS[type(b)], **b.__dict__}
            if isinstance(b, Logo):
                d["png"] = base64.b64encode(b.png).decode("ascii")
            blocks.append(d)
        return {"v": FORMAT_VERSION, "blocks": blocks, "cut": self.cut}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown receipt format version {data.get('v')!r}")
        blocks: list[Block] = []
        for raw in data["blocks"]:
            d = dict(raw)
            kind = _KINDS[d.pop("t")]
            if kind is Logo:
                d["png"] = base64.b64decode(d["png"])
            blocks.append(kind(**d))
        return cls(blocks=blocks, cut=bool(data.get("cut", True)))
