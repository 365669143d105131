"""A realistic Chinese demo project: 翠湖天地·二期 (Cuihu Tiandi Phase II).

`build_demo` fills an empty database (or one without this project) with everything a handover
day needs: buildings and 624 units, owners and co-owners, two days of appointments, the five
steps, counters and inspectors, staff logins, kiosks and display screens, document/fee/key
types, each unit's key set and the approved standard responses (统一说辞).

Everything that matters is deterministic for a seed (random.Random(seed)): the same seed gives
the same units, owners, notice codes, appointments and pairing codes. Only device tokens are
truly random (nobody needs them: a device gets its own token when it pairs).

Demo passwords are documented, public demo passwords: change them before real use.
"""

from __future__ import annotations

import base64
import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.demo_counter import seed_counter
from server.demo_display import seed_display
from server.demo_inspect import seed_inspect
from server.demo_kiosk import seed_kiosk
from server.demo_reports import seed_reports
from server.models import (
    Appointment,
    Building,
    Counter,
    Device,
    DocumentType,
    FeeType,
    KeyItemType,
    Owner,
    Project,
    Staff,
    StandardResponse,
    Step,
    Unit,
    UnitKeyItem,
    UnitOwner,
)
from server.services.devices import hash_token

DEMO_PROJECT_CODE = "CHTD2"
DEMO_PROJECT_NAME = "翠湖天地·二期"
DEMO_PROJECT_NAME_EN = "Cuihu Tiandi Phase II"
DEMO_VENUE = "售楼处一楼大厅"

BUILDINGS = 3
ENTRANCES = 2
FLOORS = 26
ROOMS_PER_FLOOR = 4
# Room position on a floor (01..04) -> nominal floor area in m² (same layout stacked).
AREAS = {1: 143.0, 2: 128.0, 3: 105.0, 4: 89.0}

SLOT_CAPACITY = 60
WALK_IN_SHARE = 0.02
CO_OWNER_SHARE = 0.25
MORNING_SLOTS = ((time(9, 0), time(10, 0)), (time(10, 0), time(11, 0)), (time(11, 0), time(12, 0)))
AFTERNOON_SLOTS = (
    (time(13, 30), time(14, 30)),
    (time(14, 30), time(15, 30)),
    (time(15, 30), time(16, 30)),
)
BATCH_NAMES = ("第一批", "第二批", "第三批", "第四批")

DEMO_PASSWORDS = {
    "admin": "handover-admin",
    "supervisor": "handover-sup",
    "staff": "handover-staff",
}

# (code, name_zh, name_en, service minutes)
STEPS = (
    ("verify", "资料审核", "Verification", 5),
    ("fees", "收费确认", "Fee confirmation", 6),
    ("sign", "签约", "Signing", 10),
    ("inspect", "验房", "Inspection", 45),
    ("keys", "钥匙交接", "Key handover", 8),
)

# (username, display_name, role, department)
STAFF = (
    ("admin", "系统管理员", "admin", "客服部"),
    ("supervisor", "周敏", "supervisor", "客服部"),
    ("staff01", "陈静", "staff", "客服部"),
    ("staff02", "李娜", "staff", "客服部"),
    ("staff03", "王丽华", "staff", "客服部"),
    ("staff04", "赵倩", "staff", "财务部"),
    ("staff05", "孙晓燕", "staff", "财务部"),
    ("staff06", "刘洋", "staff", "客服部"),
    ("staff07", "黄雅琪", "staff", "客服部"),
    ("staff08", "张建国", "staff", "工程部"),
    ("staff09", "吴志强", "staff", "工程部"),
    ("staff10", "郭振华", "staff", "工程部"),
    ("staff11", "马红梅", "staff", "物业公司"),
    ("staff12", "林海涛", "staff", "物业公司"),
)

# (kind, name, area)
DEVICES = (
    ("kiosk", "签到机1", "A区"),
    ("kiosk", "签到机2", "A区"),
    ("display", "大厅屏幕", None),
    ("display", "验房区屏幕", "验房区"),
)

# (code, name_zh, name_en, step_code, needs_signature)
DOCUMENT_TYPES = (
    ("id_card", "身份证", "ID card", "verify", False),
    ("purchase_contract", "购房合同", "Purchase contract", "verify", False),
    ("earlier_receipts", "已缴款收据", "Earlier payment receipts", "verify", False),
    ("power_of_attorney", "授权委托书", "Power of attorney", "verify", False),
    ("acceptance_form", "房屋交付验收单", "Handover acceptance form", "sign", True),
    ("service_agreement", "物业服务协议", "Property service agreement", "sign", True),
    ("management_rules", "临时管理规约", "Temporary management rules", "sign", True),
    (
        "handbooks_receipt",
        "住宅质量保证书/住宅使用说明书签收",
        "Receipt of quality guarantee and usage manual",
        "sign",
        True,
    ),
)

# Checked when the owner brings them, never a reason to hold a visit: the receipts of what was
# paid before the day (deposit, down payment, the maintenance fund or deed tax some owners paid
# at signing) prove payments that finance's ledger already holds, and the fees step reconciles
# against that ledger. Most owners have them; many lost a slip years ago.
OPTIONAL_DOCUMENTS = frozenset({"earlier_receipts"})


def standard_document_types(project_id: int) -> list[DocumentType]:
    """The procedure's documents, as the demo and a new project's standard plan both start."""
    return [
        DocumentType(
            project_id=project_id,
            code=c,
            name_zh=zh,
            name_en=en,
            step_code=s,
            needs_signature=sig,
            required=c not in OPTIONAL_DOCUMENTS,
            sort=i,
        )
        for i, (c, zh, en, s, sig) in enumerate(DOCUMENT_TYPES)
    ]


FEE_TYPES = (
    ("property_fee", "物业费（预收一年）", "Property fee (one year in advance)"),
    ("maintenance_fund", "专项维修资金", "Special maintenance fund"),
    ("deed_tax", "契税（代收）", "Deed tax (collected on behalf)"),
    ("registration_fee", "不动产登记费（代收）", "Property registration fee (collected on behalf)"),
    ("utility_prepay", "水电燃气开户预存", "Water, power and gas account prepayment"),
)

# (code, name_zh, name_en, quantity for small units, quantity for units >= 120 m²)
KEY_ITEMS = (
    ("door_key", "入户门钥匙", "Front door key", 3, 3),
    ("access_card", "门禁卡", "Access card", 2, 3),
    ("mailbox_key", "信报箱钥匙", "Mailbox key", 1, 1),
    ("meter_box_key", "电表箱钥匙", "Meter box key", 1, 1),
)

STANDARD_RESPONSES = (
    (
        "小区绿化尚未完成",
        "小区景观绿化按设计分两期实施，目前一期已完成，二期中庭及北侧绿化受种植季节影响，"
        "将于今年11月底前全部完成。施工期间设置围挡，不影响业主正常出入和装修。",
    ),
    (
        "地下车库渗水整改计划",
        "地下车库B区局部顶板渗水已由总包单位完成原因排查，系后浇带防水层局部破损。"
        "整改方案已经监理和设计单位确认，计划交付后30天内完成注浆堵漏并复查，"
        "整改进度将在物业服务中心公告栏及业主群每周公示。",
    ),
    (
        "外墙色差",
        "外墙真石漆为分批次生产，在不同光照角度下可能呈现轻微色差，经第三方检测，"
        "涂料各项性能指标均符合国家标准及合同约定，不影响外墙防水和耐久性能。"
        "对个别明显色差部位，施工单位将在交付后60天内统一修补。",
    ),
    (
        "小区正门及商业配套尚未开放",
        "小区南侧正门因市政道路接驳工程暂未开通，交付期间请从东侧临时出入口进出。"
        "商业街计划于明年春节前开业，具体业态以招商结果为准，开业前将提前通知业主。",
    ),
    (
        "电梯尚在调试",
        "各栋电梯均已通过特种设备检验机构验收并取得使用标志。交付期间部分电梯"
        "进行装修保护调试，每个单元至少保证一部电梯正常运行，装修期间货梯由物业统一调度。",
    ),
    (
        "燃气开通时间",
        "小区燃气管道已完成安装和气密性试验，燃气公司将于交付后统一安排通气，"
        "业主完成开户并经安全检查后即可使用，开户可在交付现场燃气公司窗口办理。",
    ),
    (
        "交付标准与样板间差异",
        "交付标准以购房合同附件《装修交付标准》为准，样板间内的家具、软装、电器及"
        "部分展示性装饰不属于交付范围，售楼处已在样板间内进行公示。",
    ),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
# The first names carry most of the population, as in real life.
_SURNAME_WEIGHTS = [max(1, 30 - i) for i in range(len(SURNAMES))]
MALE_GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文博昊晨阳东海成亮"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲桂秀英红梅琳婷雪慧莹颖洁倩晶欣怡佳悦彤萱琪雯蕾薇丹璐"
PHONE_PREFIXES = (  # noqa: SIM905 (one readable line beats 34)
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
).split()
PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as server.auth: no 0/O, 1/I


@dataclass
class DemoInfo:
    project_id: int
    # (username, password, role, display_name)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    # device name -> pairing code
    pairing_codes: dict[str, str] = field(default_factory=dict)
    # table-ish name -> number of rows created
    counts: dict[str, int] = field(default_factory=dict)


def demo_day_range(start_day: date) -> list[date]:
    """The demo's two handover days."""
    return [start_day, start_day + timedelta(days=1)]


def demo_slots(start_day: date) -> list[tuple[date, time, time, str]]:
    """Every (day, slot_start, slot_end, batch name) of the demo, in order."""
    out = []
    for i, day in enumerate(demo_day_range(start_day)):
        batch = BATCH_NAMES[i]
        for start, end in MORNING_SLOTS:
            out.append((day, start, end, f"{batch} 上午 {start:%H:%M}"))
        for start, end in AFTERNOON_SLOTS:
            out.append((day, start, end, f"{batch} 下午 {start:%H:%M}"))
    return out


# --- generators -------------------------------------------------------------------------


def _notice_code(rng: random.Random) -> str:
    """20 chars of [A-Za-z0-9_-]: 120 random bits (deterministic per seed)."""
    return base64.urlsafe_b64encode(rng.getrandbits(120).to_bytes(15, "big")).decode("ascii")


def _pairing_code(rng: random.Random) -> str:
    return "".join(rng.choice(PAIRING_ALPHABET) for _ in range(8))


def _person_name(
    rng: random.Random, *, surname: str | None = None, female: bool | None = None
) -> str:
    if surname is None:
        surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    if female is None:
        female = rng.random() < 0.5
    pool = FEMALE_GIVEN if female else MALE_GIVEN
    length = 2 if rng.random() < 0.7 else 1
    return surname + "".join(rng.choice(pool) for _ in range(length))


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone not in used:
            used.add(phone)
            return phone


def _id_last4(rng: random.Random) -> str:
    # The last character of a Chinese ID number is a check digit 0-9 or X (1 in 11).
    check = rng.choice("0123456789X")
    return f"{rng.randrange(1000):03d}{check}"


def _device_token() -> str:
    """A fresh token's hash, as services.devices.create_device does: unusable until the device pairs
    with its pairing code (pair_device then issues the real token)."""
    return hash_token(secrets.token_urlsafe(32))


# --- build ------------------------------------------------------------------------------


def build_demo(
    session: Session,
    *,
    start_day: date,
    seed: int = 2026,
    password_hasher: Callable[[str], str],
) -> DemoInfo:
    """Create the demo project and everything in it; one commit at the end.

    Raises ValueError if a project with the demo's code already exists. Staff accounts whose
    username is already taken are left alone (and not listed in `logins`).
    """
    if session.scalar(select(Project.id).where(Project.code == DEMO_PROJECT_CODE)) is not None:
        raise ValueError(
            f"演示项目 {DEMO_PROJECT_CODE}（{DEMO_PROJECT_NAME}）已存在，不能重复创建。 / "
            f"Demo project {DEMO_PROJECT_CODE} ({DEMO_PROJECT_NAME_EN}) already exists; "
            "refusing to create it again."
        )
    rng = random.Random(seed)
    counts: dict[str, int] = {}

    try:
        project = Project(
            code=DEMO_PROJECT_CODE,
            name=DEMO_PROJECT_NAME,
            name_en=DEMO_PROJECT_NAME_EN,
            venue=DEMO_VENUE,
            early_grace_minutes=30,
            walk_in_allowed=True,
        )
        session.add(project)
        session.flush()
        pid = project.id

        # Plan: steps and counters.
        steps = {
            code: Step(
                project_id=pid,
                code=code,
                name_zh=zh,
                name_en=en,
                sort=i,
                ticket_prefix="A",
                default_service_minutes=minutes,
                kind=code,
            )
            for i, (code, zh, en, minutes) in enumerate(STEPS)
        }
        counters = []

        def window(n: int, step: str, area: str) -> None:
            counters.append(
                Counter(
                    project_id=pid,
                    code=f"W{n:02d}",
                    name_zh=f"{n}号窗口",
                    name_en=f"Counter {n}",
                    area=area,
                    steps=[steps[step]],
                )
            )

        for n in range(1, 5):
            window(n, "verify", "A区")
        for n in range(5, 8):
            window(n, "fees", "A区")
        for n in range(8, 11):
            window(n, "sign", "B区")
        for n in range(1, 9):
            counters.append(
                Counter(
                    project_id=pid,
                    code=f"Y{n:02d}",
                    name_zh=f"验房员{n}组",
                    name_en=f"Inspection team {n}",
                    area="验房区",
                    steps=[steps["inspect"]],
                )
            )
        for n in range(11, 13):
            window(n, "keys", "B区")
        session.add_all(steps.values())
        session.add_all(counters)
        counts["steps"] = len(steps)
        counts["counters"] = len(counters)

        # Reference data.
        session.add_all(standard_document_types(pid))
        session.add_all(
            FeeType(project_id=pid, code=c, name_zh=zh, name_en=en) for c, zh, en in FEE_TYPES
        )
        key_types = [
            KeyItemType(project_id=pid, code=c, name_zh=zh, name_en=en)
            for c, zh, en, _, _ in KEY_ITEMS
        ]
        session.add_all(key_types)
        session.add_all(
            StandardResponse(project_id=pid, topic=topic, text=text)
            for topic, text in STANDARD_RESPONSES
        )
        counts["document_types"] = len(DOCUMENT_TYPES)
        counts["fee_types"] = len(FEE_TYPES)
        counts["key_item_types"] = len(KEY_ITEMS)
        counts["standard_responses"] = len(STANDARD_RESPONSES)

        # Buildings and units, in on-site order (building, entrance, floor, room).
        buildings = [
            Building(project_id=pid, code=str(b), name=f"{b}栋", sort=b)
            for b in range(1, BUILDINGS + 1)
        ]
        session.add_all(buildings)
        used_codes: set[str] = set()
        units: list[Unit] = []
        for building in buildings:
            # One layout per position, stacked: the same area on every floor of a building.
            areas = {pos: round(a + rng.uniform(-0.6, 0.6), 2) for pos, a in AREAS.items()}
            for entrance in range(1, ENTRANCES + 1):
                for floor in range(1, FLOORS + 1):
                    for pos in range(1, ROOMS_PER_FLOOR + 1):
                        code = _notice_code(rng)
                        while code in used_codes:
                            code = _notice_code(rng)
                        used_codes.add(code)
                        units.append(
                            Unit(
                                project_id=pid,
                                building=building,
                                entrance=str(entrance),
                                room=f"{floor}{pos:02d}",
                                floor=floor,
                                area_m2=areas[pos],
                                notice_code=code,
                            )
                        )
        session.add_all(units)
        counts["buildings"] = len(buildings)
        counts["units"] = len(units)

        # Owners: one principal per unit, a co-owner for about a quarter.
        phones: set[str] = set()
        n_owners = n_co = 0
        for unit in units:
            female = rng.random() < 0.45
            name = _person_name(rng, female=female)
            principal = Owner(
                project_id=pid, name=name, phone=_phone(rng, phones), id_last4=_id_last4(rng)
            )
            unit.owners.append(UnitOwner(owner=principal, position=0))
            n_owners += 1
            if rng.random() < CO_OWNER_SHARE:
                if rng.random() < 0.35:  # a parent or child: same surname
                    co_name = _person_name(rng, surname=name[0])
                else:  # a spouse: usually a different surname in China
                    co_name = _person_name(rng, female=not female)
                co = Owner(
                    project_id=pid,
                    name=co_name,
                    phone=_phone(rng, phones) if rng.random() < 0.85 else None,
                    id_last4=_id_last4(rng),
                )
                unit.owners.append(UnitOwner(owner=co, position=1))
                n_owners += 1
                n_co += 1
        counts["owners"] = n_owners
        counts["co_owners"] = n_co

        # Appointments: ~2% of units are left without one (walk-ins); the rest fill the
        # slots evenly, building by building, as a real invitation plan does.
        walk_ins = set(rng.sample(range(len(units)), round(len(units) * WALK_IN_SHARE)))
        invited = [u for i, u in enumerate(units) if i not in walk_ins]
        slots = demo_slots(start_day)
        per_slot = math.ceil(len(invited) / len(slots))
        if per_slot > SLOT_CAPACITY:
            raise ValueError(
                f"预约超出时段容量 / too many units for the slots: {per_slot} > {SLOT_CAPACITY}"
            )
        appointments = []
        for i, unit in enumerate(invited):
            day, start, end, batch = slots[i // per_slot]
            appointments.append(
                Appointment(
                    project_id=pid,
                    unit=unit,
                    day=day,
                    slot_start=start,
                    slot_end=end,
                    batch=batch,
                )
            )
        session.add_all(appointments)
        counts["appointments"] = len(appointments)
        counts["walk_ins"] = len(walk_ins)

        # Staff. Hash each distinct password once: real hashers are slow on purpose.
        hashes: dict[str, str] = {}
        existing = set(
            session.scalars(select(Staff.username).where(Staff.username.in_([s[0] for s in STAFF])))
        )
        logins = []
        for username, display_name, role, department in STAFF:
            if username in existing:
                continue
            password = DEMO_PASSWORDS[role]
            if password not in hashes:
                hashes[password] = password_hasher(password)
            session.add(
                Staff(
                    username=username,
                    display_name=display_name,
                    role=role,
                    department=department,
                    password_hash=hashes[password],
                )
            )
            logins.append((username, password, role, display_name))
        counts["staff"] = len(logins)

        # Devices: tokens are random (the device gets a fresh one when it pairs); pairing
        # codes come from the seed so the demo's instructions can print them.
        pairing_codes = {}
        for kind, name, area in DEVICES:
            code = _pairing_code(rng)
            while code in pairing_codes.values():
                code = _pairing_code(rng)
            session.add(
                Device(
                    project_id=pid,
                    kind=kind,
                    name=name,
                    area=area,
                    token_hash=_device_token(),
                    pairing_code=code,
                )
            )
            pairing_codes[name] = code
        counts["devices"] = len(DEVICES)
        seed_display(session, project, rng)

        session.flush()

        # Each unit's key set, waiting at the key counter: one bulk insert.
        key_rows = []
        for unit in units:
            large = (unit.area_m2 or 0) >= 120
            for key_type, (_, _, _, small_qty, large_qty) in zip(key_types, KEY_ITEMS, strict=True):
                key_rows.append(
                    {
                        "unit_id": unit.id,
                        "key_item_type_id": key_type.id,
                        "quantity": large_qty if large else small_qty,
                    }
                )
        session.execute(insert(UnitKeyItem), key_rows)
        counts["unit_key_items"] = len(key_rows)
        counts.update(seed_inspect(session, project, rng))
        counts.update(seed_counter(session, project, rng))
        seed_kiosk(session, project, rng)  # after: its counter locations name floor and building
        # Last: yesterday's finished day uses the reference data seeded above.
        counts["report_day_visits"] = seed_reports(session, project, rng).visits

        from server.demo_admin import seed_admin

        seed_admin(session, project, rng)  # admin stream: whole fake ID numbers
        session.commit()
    except BaseException:
        session.rollback()
        raise

    return DemoInfo(project_id=pid, logins=logins, pairing_codes=pairing_codes, counts=counts)


def demo_logins() -> list[tuple[str, str, str, str]]:
    """The documented demo accounts (username, password, role, description) for the banner."""
    return [
        ("admin", DEMO_PASSWORDS["admin"], "admin", "系统管理员"),
        ("supervisor", DEMO_PASSWORDS["supervisor"], "supervisor", "现场主管"),
        ("staff01", DEMO_PASSWORDS["staff"], "staff", "窗口人员 (staff01–staff12)"),
    ]
