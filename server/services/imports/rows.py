"""What each import sheet holds: its columns (Chinese and English header names) and the
pydantic model that checks one row. Validators raise CellError with an English message id;
the report translates it (zh-CN by default)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

ROLE_WORDS = {
    "admin": "admin",
    "管理员": "admin",
    "supervisor": "supervisor",
    "主管": "supervisor",
    "现场主管": "supervisor",
    "staff": "staff",
    "员工": "staff",
    "工作人员": "staff",
}
ISSUE_STATUS_WORDS = {
    "open": "open",
    "未整改": "open",
    "整改中": "open",
    "fixed": "fixed",
    "已整改": "fixed",
    "conceded": "conceded",
    "让步": "conceded",
    "不整改": "conceded",
}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class CellError(ValueError):
    """A cell's problem as a message id with parameters (translated when shown)."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _id_number(value: str) -> str:
    v = value.replace(" ", "").upper()
    if re.fullmatch(r"\d{17}[\dX]", v):
        if id_check_digit(v[:17]) != v[17]:
            raise CellError("The ID number's check digit is wrong; please check it.")
        return v
    # 15-digit old cards, passports, Hong Kong/Macau/Taiwan permits: letters and digits.
    if re.fullmatch(r"[A-Z0-9()\-]{6,30}", v):
        return v
    raise CellError("This is not a valid ID number.")


def _phone(value: str) -> str:
    v = re.sub(r"[\s\-]", "", value)
    if v.startswith("+86"):
        v = v[3:]
    if re.fullmatch(r"1\d{10}", v) or re.fullmatch(r"0\d{9,11}", v):
        return v
    raise CellError("This is not a valid phone number (11-digit mobile or landline).")


def _building(value: str) -> str:
    return re.sub(r"(号楼|栋|幢|座|号)$", "", value.strip()) or value.strip()


def _entrance(value: str) -> str:
    return re.sub(r"单元$", "", value.strip()) or value.strip()


def _room(value: str) -> str:
    return re.sub(r"(室|号)$", "", value.strip()) or value.strip()


def parse_day(value: str) -> date:
    v = value.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return datetime.strptime(v, fmt).date()
        except ValueError:
            continue
    raise CellError("Not a date; write it as 2026-11-28.")


def parse_time(value: str) -> time:
    v = value.strip().replace("：", ":")
    for fmt in ("%H:%M", "%H:%M:%S", "%H点", "%H时"):
        try:
            return datetime.strptime(v, fmt).time()
        except ValueError:
            continue
    raise CellError("Not a time; write it as 09:30.")


def _amount(value: str) -> Decimal:
    v = value.replace(",", "").replace("￥", "").replace("¥", "").replace("元", "").strip()
    try:
        amount = Decimal(v)
    except InvalidOperation:
        raise CellError("Must be an amount of money, e.g. 3560.50.") from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise CellError("Must be an amount of money, e.g. 3560.50.")
    return amount.quantize(Decimal("0.01"))


Building = Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_building)]
Entrance = Annotated[str, Field(min_length=1, max_length=10), AfterValidator(_entrance)]
Room = Annotated[str, Field(min_length=1, max_length=10), AfterValidator(_room)]


class Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class UnitRef(Row):
    building: Building
    entrance: Entrance
    room: Room

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)


class UnitRow(UnitRef):
    floor: int | None = Field(default=None, ge=-5, le=200)
    area_m2: float | None = Field(default=None, gt=0, lt=100000)
    unit_type: str | None = Field(default=None, max_length=30)
    unit_type_name: str | None = Field(default=None, max_length=60)
    notice_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{6,64}$")


class OwnerRow(UnitRef):
    name: str = Field(min_length=1, max_length=60)
    id_number: Annotated[str, AfterValidator(_id_number)]
    phone: Annotated[str, AfterValidator(_phone)] | None = None
    position: int | None = Field(default=None, ge=1, le=20)


class AppointmentRow(UnitRef):
    day: date
    slot: str | None = None
    slot_start: time | None = None
    slot_end: time | None = None
    batch: str | None = Field(default=None, max_length=40)

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, v):
        return parse_day(v) if isinstance(v, str) else v

    @field_validator("slot_start", "slot_end", mode="before")
    @classmethod
    def _time(cls, v):
        return parse_time(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _slot(self):
        if self.slot and not (self.slot_start and self.slot_end):
            parts = re.split(r"\s*[-–—~～至到]\s*", self.slot.strip())
            if len(parts) != 2:
                raise CellError("Write the time slot as 09:00-10:00.", column="slot")
            self.slot_start, self.slot_end = parse_time(parts[0]), parse_time(parts[1])
        if not (self.slot_start and self.slot_end):
            raise CellError("Write the time slot as 09:00-10:00.", column="slot")
        if self.slot_end <= self.slot_start:
            raise CellError("The slot must end after it starts.", column="slot")
        return self


class FeeRow(UnitRef):
    fee: str = Field(min_length=1, max_length=60)
    amount: Annotated[str, AfterValidator(_amount)]
    note: str | None = Field(default=None, max_length=200)


class KeyRow(UnitRef):
    item: str = Field(min_length=1, max_length=60)
    quantity: int = Field(default=1, ge=0, le=100)
    serials: str | None = Field(default=None, max_length=200)


class IssueRow(UnitRef):
    description: str = Field(min_length=1, max_length=2000)
    room_code: str | None = Field(default=None, max_length=30)
    category: str | None = Field(default=None, max_length=40)
    source: str | None = Field(default=None, max_length=40)
    status: str = "open"

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        if v is None or v == "":
            return "open"
        word = ISSUE_STATUS_WORDS.get(str(v).strip().lower())
        if word is None:
            raise CellError("Unknown status; use 未整改, 已整改 or 让步.")
        return word


class CounterRow(Row):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,20}$")
    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str | None = Field(default=None, max_length=60)
    steps: list[str]
    area: str | None = Field(default=None, max_length=40)
    location_zh: str | None = Field(default=None, max_length=80)
    location_en: str | None = Field(default=None, max_length=120)

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, v):
        parts = [p for p in re.split(r"[、,，/;；\s]+", str(v or "")) if p]
        if not parts:
            raise CellError("Required: please fill it in.")
        return parts


class ResponseRow(Row):
    topic: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=5000)
    keywords: str | None = Field(default=None, max_length=200)


class StaffRow(Row):
    username: str = Field(pattern=r"^[A-Za-z0-9_.\-]{2,40}$")
    name: str = Field(min_length=1, max_length=60)
    role: str = "staff"
    department: str | None = Field(default=None, max_length=40)
    password: str | None = Field(default=None, min_length=8, max_length=200)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v):
        if v is None or v == "":
            return "staff"
        role = ROLE_WORDS.get(str(v).strip().lower())
        if role is None:
            raise CellError("Unknown role; use 管理员, 主管 or 员工.")
        return role


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    hint_zh: str = ""


_UNIT_COLS = (
    Column("building", "楼栋", "Building", True, ("栋", "楼号", "栋号", "幢"), "如 3 或 3栋"),
    Column("entrance", "单元", "Entrance", True, ("单元号",), "如 2"),
    Column("room", "房号", "Room", True, ("房间号", "室号"), "如 1201"),
)


@dataclass(frozen=True)
class Kind:
    code: str
    zh: str
    en: str
    model: type[Row]
    columns: tuple[Column, ...]
    sheet_names: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            "staff",
            "员工",
            "Staff",
            StaffRow,
            (
                Column("username", "用户名", "User name", True, ("账号", "登录名")),
                Column("name", "姓名", "Name", True, ("显示名",)),
                Column("role", "角色", "Role", False, (), "管理员 / 主管 / 员工"),
                Column("department", "部门", "Department"),
                Column("password", "初始密码", "Password", False, ("密码",), "新员工必填，至少8位"),
            ),
            ("员工", "人员", "staff"),
        ),
        Kind(
            "counters",
            "窗口",
            "Counters",
            CounterRow,
            (
                Column("code", "窗口编码", "Code", True, ("编码",), "如 W01"),
                Column("name_zh", "窗口名称", "Name", True, ("名称",), "如 1号窗口"),
                Column("name_en", "英文名称", "English name"),
                Column("steps", "办理环节", "Steps", True, ("环节",), "如 资料审核、收费确认"),
                Column("area", "区域", "Area"),
                Column("location_zh", "位置", "Location", False, (), "如 大厅A区"),
                Column("location_en", "英文位置", "Location (English)"),
            ),
            ("窗口", "counters"),
        ),
        Kind(
            "units",
            "房源",
            "Units",
            UnitRow,
            (
                *_UNIT_COLS,
                Column("floor", "楼层", "Floor"),
                Column("area_m2", "建筑面积", "Area m2", False, ("面积", "area")),
                Column("unit_type", "户型", "Unit type", False, ("户型编码",)),
                Column("unit_type_name", "户型名称", "Unit type name"),
                Column(
                    "notice_code",
                    "通知书编码",
                    "Notice code",
                    False,
                    ("二维码", "交房码"),
                    "留空则自动生成",
                ),
            ),
            ("房源", "房屋", "units"),
        ),
        Kind(
            "owners",
            "业主",
            "Owners",
            OwnerRow,
            (
                *_UNIT_COLS,
                Column("name", "姓名", "Name", True, ("业主姓名", "客户姓名")),
                Column(
                    "id_number", "身份证号", "ID number", True, ("证件号码", "证件号", "身份证")
                ),
                Column("phone", "手机号", "Phone", False, ("电话", "联系电话", "手机")),
                Column(
                    "position",
                    "共有人顺序",
                    "Owner order",
                    False,
                    ("顺序", "序号"),
                    "1 = 主购房人，2、3… = 共有人",
                ),
            ),
            ("业主", "客户", "owners"),
        ),
        Kind(
            "appointments",
            "预约",
            "Appointments",
            AppointmentRow,
            (
                *_UNIT_COLS,
                Column("day", "交房日期", "Date", True, ("日期", "预约日期")),
                Column("slot", "时段", "Slot", False, ("预约时段",), "如 09:00-10:00"),
                Column("slot_start", "开始时间", "Start"),
                Column("slot_end", "结束时间", "End"),
                Column("batch", "批次", "Batch"),
            ),
            ("预约", "批次", "appointments"),
        ),
        Kind(
            "fees",
            "费用",
            "Fees",
            FeeRow,
            (
                *_UNIT_COLS,
                Column("fee", "费用项目", "Fee", True, ("费用名称", "收费项目")),
                Column("amount", "金额", "Amount", True, ("应收金额",)),
                Column("note", "备注", "Note"),
            ),
            ("费用", "收费", "fees"),
        ),
        Kind(
            "keys",
            "钥匙",
            "Keys",
            KeyRow,
            (
                *_UNIT_COLS,
                Column("item", "物品", "Item", True, ("钥匙类型", "名称")),
                Column("quantity", "数量", "Quantity"),
                Column("serials", "编号", "Serials", False, ("卡号", "序列号")),
            ),
            ("钥匙", "keys"),
        ),
        Kind(
            "issues",
            "已知问题",
            "Known issues",
            IssueRow,
            (
                *_UNIT_COLS,
                Column("description", "问题描述", "Description", True, ("问题", "描述")),
                Column("room_code", "房间", "Room area", False, ("部位",)),
                Column("category", "类别", "Category", False, ("问题类别",)),
                Column("source", "来源", "Source", False, (), "如 第一轮模拟验收"),
                Column("status", "状态", "Status", False, (), "未整改 / 已整改 / 让步"),
            ),
            ("已知问题", "问题", "issues", "known issues"),
        ),
        Kind(
            "responses",
            "统一说辞",
            "Standard responses",
            ResponseRow,
            (
                Column("topic", "主题", "Topic", True, ("问题",)),
                Column("text", "说辞", "Text", True, ("统一说辞", "解释口径", "内容")),
                Column("keywords", "关键词", "Keywords"),
            ),
            ("统一说辞", "说辞", "responses", "standard responses"),
        ),
    )
}

# Apply order: what later sheets refer to comes first.
ORDER = (
    "staff",
    "responses",
    "counters",
    "units",
    "owners",
    "appointments",
    "fees",
    "keys",
    "issues",
)


def header_key(text: str) -> str:
    return re.sub(r"[\s*＊:：()（）_]", "", (text or "")).lower()


def column_lookup(kind: Kind) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for col in kind.columns:
        for name in (col.zh, col.en, col.field, *col.aliases):
            out.setdefault(header_key(name), col)
    return out


def kind_for_name(name: str) -> Kind | None:
    key = header_key(name)
    for kind in KINDS.values():
        if key in {header_key(n) for n in (kind.code, kind.zh, kind.en, *kind.sheet_names)}:
            return kind
    return None


def kind_for_headers(headers: list[str]) -> Kind | None:
    """The kind whose required columns all appear, preferring the one matching most headers."""
    keys = {header_key(h) for h in headers}
    best, best_hits = None, 0
    for kind in KINDS.values():
        lookup = column_lookup(kind)
        fields = {lookup[k].field for k in keys if k in lookup}
        if not all(c.field in fields for c in kind.columns if c.required):
            continue
        if len(fields) > best_hits:
            best, best_hits = kind, len(fields)
    return best
