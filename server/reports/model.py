"""The report model every renderer reads: plain dataclasses, labels already in the report's
language, values typed (int, float minutes, fraction, Decimal money, date, datetime, str).

A renderer never computes a figure: HTML, PDF, XLSX and the thermal slip show the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["text", "int", "minutes", "pct", "money", "date", "datetime", "time"]
Value = int | float | Decimal | str | date | datetime | None


@dataclass
class Column:
    label: str
    kind: Kind = "text"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Value]]
    # A last row in bold (totals); kept apart so sorting and tests see the data rows only.
    total: list[Value] | None = None
    # The page shows at most this many rows (a long list stays whole in the PDF and XLSX).
    page_limit: int | None = None

    def column(self, label_index: int) -> list[Value]:
        return [r[label_index] for r in self.rows]

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip([c.label for c in self.columns], r, strict=True)) for r in self.rows]


@dataclass
class Series:
    name: str
    values: list[float]


@dataclass
class Chart:
    key: str
    title: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    # "bars": vertical grouped bars (hours, steps); "hbars": horizontal bars (categories).
    style: Literal["bars", "hbars"] = "bars"


@dataclass
class Plan:
    """A unit's floor plan with the numbered pins of its defects (the numbers of the defect
    list and of the acceptance form). `path` is the PNG under the instance folder."""

    key: str
    title: str
    path: str
    width: int
    height: int
    pins: list[tuple[int, float, float]]


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    plans_title: str = ""

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)


@dataclass
class Figure:
    """A headline number at the top of the report (and on the thermal slip)."""

    key: str
    label: str
    value: Value
    kind: Kind = "int"


@dataclass
class Report:
    kind: Literal["daily", "summary"]
    title: str
    project_name: str
    period: str  # "2026-11-27" or "2026-11-20 – 2026-11-27"
    generated_at: datetime
    locale: str
    headline: list[Figure] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def figure(self, key: str) -> Figure:
        for f in self.headline:
            if f.key == key:
                return f
        raise KeyError(key)

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


def format_value(value: Value, kind: Kind) -> str:
    """How a cell reads on the page, in the PDF and on the slip (XLSX keeps the raw value)."""
    if value is None:
        return "–"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind == "minutes":
        return f"{float(value):.1f}"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "datetime" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "time" and isinstance(value, datetime):
        return value.strftime("%H:%M")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return str(value)
