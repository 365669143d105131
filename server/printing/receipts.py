"""Receipt builders: plain data in, Receipt out. zh-CN by default, English with locale="en".

Callers pass plain dataclasses (never ORM objects) so builders stay pure and a receipt can be
built in a test, a preview page or a service without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from .receipt import Receipt

Locale = Literal["zh_CN", "en"]

YUAN = "\uffe5"  # full-width ￥: the half-width ¥ is a 4-byte GB18030 char GBK printers garble


def format_money(amount: Decimal | int | float | str) -> str:
    """ "￥1,234.50" — always the full-width sign, two decimals."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    return f"{sign}{YUAN}{abs(value):,.2f}"


def format_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


_T: dict[str, dict[str, str]] = {
    "zh_CN": {
        "handover": "集中交付",
        "ticket_title": "排队号",
        "unit": "房号",
        "checked_in": "签到时间",
        "people_ahead": "前面等候",
        "people": "{n} 人",
        "wait": "预计等候",
        "minutes": "约 {n} 分钟",
        "soon": "即将轮到您",
        "steps": "办理流程",
        "scan": "请扫码查看排队进度",
        "keep": "请妥善保管本票，叫号时凭号办理",
        "key_title": "钥匙交接单",
        "items": "钥匙及物品",
        "qty": "{n}",
        "meters": "表具底数",
        "water": "水表",
        "electricity": "电表",
        "gas": "燃气表",
        "signed": "业主已签字确认",
        "not_signed": "签字待补",
        "receiver": "领取人",
        "time": "时间",
        "staff": "经办人",
        "defect_title": "验房问题清单",
        "defect_count": "问题共 {n} 项",
        "no_defects": "未发现问题",
        "result": "验房结论",
        "tally_title": "每日交房统计",
        "day": "日期",
        "printed": "打印时间",
        "ticket": "排队号",
    },
    "en": {
        "handover": "Handover Day",
        "ticket_title": "Your number",
        "unit": "Unit",
        "checked_in": "Checked in",
        "people_ahead": "Ahead of you",
        "people": "{n}",
        "wait": "Est. wait",
        "minutes": "about {n} min",
        "soon": "Very soon",
        "steps": "Your steps",
        "scan": "Scan to follow your place in the queue",
        "keep": "Keep this ticket; we call you by this number",
        "key_title": "Key handover receipt",
        "items": "Keys and items",
        "qty": "{n}",
        "meters": "Meter readings",
        "water": "Water",
        "electricity": "Electricity",
        "gas": "Gas",
        "signed": "Signatures noted",
        "not_signed": "Signature pending",
        "receiver": "Received by",
        "time": "Time",
        "staff": "Staff",
        "defect_title": "Inspection defect list",
        "defect_count": "{n} defect(s)",
        "no_defects": "No defects found",
        "result": "Result",
        "tally_title": "Daily handover tally",
        "day": "Day",
        "printed": "Printed",
        "ticket": "Ticket",
    },
}


def _t(locale: str, key: str, **kw: object) -> str:
    table = _T["en"] if locale.startswith("en") else _T["zh_CN"]
    return table[key].format(**kw)


def _lookup(locale: str, key: str) -> str:
    """A known word (meter kinds) translated, anything else printed as given."""
    table = _T["en"] if locale.startswith("en") else _T["zh_CN"]
    return table.get(key, key)


def _header(r: Receipt, project_name: str, title: str) -> None:
    r.text(project_name, size="double", bold=True, align="center")
    r.text(title, align="center")
    r.sep("solid")


# --- queue ticket ------------------------------------------------------------------------------


@dataclass
class TicketData:
    project_name: str
    ticket_no: str  # "A023"
    unit_label: str  # "3栋2单元1201"
    checked_in_at: datetime
    status_url: str  # the QR: /s/<token> on the venue server
    steps: Sequence[str] = ()  # step names still to do, in order, already in the ticket's locale
    estimated_wait_min: int | None = None
    people_ahead: int | None = None
    note: str | None = None  # e.g. "优先窗口" for a priority visit, or a hotline


def ticket_receipt(data: TicketData, locale: Locale = "zh_CN") -> Receipt:
    r = Receipt()
    _header(r, data.project_name, _t(locale, "handover"))
    r.text(_t(locale, "ticket_title"), align="center")
    r.text(data.ticket_no, size="huge", bold=True, align="center")
    r.text(data.unit_label, size="double", bold=True, align="center")
    if data.note:
        r.text(data.note, bold=True, align="center")
    r.sep()
    r.row(_t(locale, "checked_in"), format_time(data.checked_in_at))
    if data.people_ahead is not None:
        r.row(_t(locale, "people_ahead"), _t(locale, "people", n=data.people_ahead))
    if data.estimated_wait_min is not None:
        # Never "about 0 min": nobody ahead means "very soon", not "now".
        wait = data.estimated_wait_min
        text = _t(locale, "minutes", n=wait) if wait > 0 else _t(locale, "soon")
        r.row(_t(locale, "wait"), text, bold=True)
    if data.steps:
        arrow = " → " if locale.startswith("en") else "→"
        r.text(f"{_t(locale, 'steps')}: {arrow.join(data.steps)}")
    r.sep()
    r.qr(data.status_url, size=6)
    r.text(_t(locale, "scan"), bold=True, align="center")
    r.text(_t(locale, "keep"), align="center")
    return r


# --- key handover ------------------------------------------------------------------------------


@dataclass
class KeyItem:
    name: str  # "入户门钥匙", "门禁卡"
    quantity: int
    note: str | None = None


@dataclass
class MeterReading:
    kind: str  # "water" | "electricity" | "gas", or any label printed as is
    reading: str  # as read off the meter, kept as text: "00123.4"
    meter_no: str | None = None


@dataclass
class KeyReceiptData:
    project_name: str
    unit_label: str
    items: Sequence[KeyItem]
    meters: Sequence[MeterReading]
    handed_at: datetime
    staff_name: str
    receiver_name: str | None = None  # owner or agent (受托人)
    signatures_noted: bool = True
    ticket_no: str | None = None


def key_receipt(data: KeyReceiptData, locale: Locale = "zh_CN") -> Receipt:
    r = Receipt()
    _header(r, data.project_name, _t(locale, "key_title"))
    r.text(data.unit_label, size="double", bold=True, align="center")
    if data.ticket_no:
        r.row(_t(locale, "ticket"), data.ticket_no)
    r.sep()
    r.text(_t(locale, "items"), bold=True)
    for item in data.items:
        label = f"{item.name} ({item.note})" if item.note else item.name
        r.row(label, f"× {item.quantity}")
    if data.meters:
        r.sep()
        r.text(_t(locale, "meters"), bold=True)
        for m in data.meters:
            label = _lookup(locale, m.kind)
            if m.meter_no:
                label = f"{label} #{m.meter_no}"
            r.row(label, m.reading)
    r.sep()
    if data.receiver_name:
        r.row(_t(locale, "receiver"), data.receiver_name)
    r.row(_t(locale, "time"), format_time(data.handed_at))
    r.row(_t(locale, "staff"), data.staff_name)
    r.text(_t(locale, "signed" if data.signatures_noted else "not_signed"), bold=True)
    return r


# --- inspection defects ------------------------------------------------------------------------


@dataclass
class DefectLine:
    room: str  # "主卧"
    item: str  # "墙面"
    description: str  # "空鼓约20cm"
    where: str | None = None  # pin on the floor plan in words: "平面图左上"

    @property
    def place(self) -> str:
        return place_words(self.room, self.where)


def place_words(room: str, where: str | None) -> str:
    """A defect's room and where its pin sits, as the defect list and the reports print it:
    "主卧 · 平面图左上" (the room alone when it has no pin)."""
    return f"{room} · {where}" if where else room


@dataclass
class DefectListData:
    project_name: str
    unit_label: str
    defects: Sequence[DefectLine]
    recorded_at: datetime
    staff_name: str
    result: str | None = None  # already localised, e.g. "带问题接收"
    ticket_no: str | None = None


def defect_list_receipt(data: DefectListData, locale: Locale = "zh_CN") -> Receipt:
    r = Receipt()
    _header(r, data.project_name, _t(locale, "defect_title"))
    r.text(data.unit_label, size="double", bold=True, align="center")
    if data.ticket_no:
        r.row(_t(locale, "ticket"), data.ticket_no)
    r.sep()
    if not data.defects:
        r.text(_t(locale, "no_defects"))
    for i, d in enumerate(data.defects, 1):
        r.text(f"{i}. {d.place} · {d.item}", bold=True)
        r.text(f"   {d.description}")
    r.sep()
    r.text(_t(locale, "defect_count", n=len(data.defects)), bold=True)
    if data.result:
        r.row(_t(locale, "result"), data.result, bold=True)
    r.row(_t(locale, "time"), format_time(data.recorded_at))
    r.row(_t(locale, "staff"), data.staff_name)
    return r


# --- end of day --------------------------------------------------------------------------------


@dataclass
class TallyRow:
    label: str
    value: int | str | Decimal  # Decimal is printed as money


@dataclass
class DailyTallyData:
    project_name: str
    day: date
    rows: Sequence[TallyRow]
    printed_at: datetime
    staff_name: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def daily_tally_receipt(data: DailyTallyData, locale: Locale = "zh_CN") -> Receipt:
    r = Receipt()
    _header(r, data.project_name, _t(locale, "tally_title"))
    r.row(_t(locale, "day"), data.day.isoformat(), bold=True)
    r.sep()
    for row in data.rows:
        value = format_money(row.value) if isinstance(row.value, Decimal) else str(row.value)
        r.row(row.label, value)
    for note in data.notes:
        r.text(note)
    r.sep()
    r.row(_t(locale, "printed"), format_time(data.printed_at))
    if data.staff_name:
        r.row(_t(locale, "staff"), data.staff_name)
    return r


# --- printer test page -------------------------------------------------------------------------


def test_page_receipt(
    printer_name: str,
    mode: str,
    paper_width_mm: int,
    printed_at: datetime,
    locale: Locale = "zh_CN",
) -> Receipt:
    """What the admin's "print test page" sends: Chinese, money, sizes, a QR and a cut."""
    en = locale.startswith("en")
    r = Receipt()
    r.text("打印测试 Test page", size="double", bold=True, align="center")
    r.sep("solid")
    r.row("打印机 Printer", printer_name)
    r.row("模式 Mode", mode)
    r.row("纸宽 Paper", f"{paper_width_mm} mm")
    r.row("时间 Time", format_time(printed_at))
    r.sep()
    r.text("A023", size="huge", bold=True, align="center")
    r.text("中文：钥匙交接 验房 签约 收费", size="double")
    r.text("标点：，。、；：？！“”（）【】《》")
    r.row("金额 Amount", format_money("1234.5"))
    r.text("0123456789" * 6)
    r.sep()
    r.qr("https://example.invalid/handover-test", size=5)
    r.text(
        "If you can read this, printing works." if en else "能看清以上内容即打印正常",
        align="center",
    )
    return r
