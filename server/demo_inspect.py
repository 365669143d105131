"""The demo's inspection setup: rooms, the acceptance form's checklist, the defect category
tree, four unit types (户型) with floor plans drawn by Pillow, and known issues left from the
second internal mock acceptance (第二轮内部模拟验收) for a share of the units.

Floor plans are files: `seed_floor_plans` stores them under the instance folder and is called
by `handover demo` (which knows the folder); `seed_inspect` needs only the database.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    ChecklistItem,
    DefectCategory,
    InspectionRoom,
    KnownIssue,
    Project,
    Unit,
    UnitType,
)
from server.printing.fonts import find_cjk_font
from server.services import files
from server.services.actor import SYSTEM

ROOMS = (
    ("living", "客厅", "Living room"),
    ("dining", "餐厅", "Dining room"),
    ("master", "主卧", "Master bedroom"),
    ("second", "次卧", "Second bedroom"),
    ("kitchen", "厨房", "Kitchen"),
    ("bathroom", "卫生间", "Bathroom"),
    ("balcony", "阳台", "Balcony"),
)

WET = ["kitchen", "bathroom", "balcony"]
# (code, zh, en, rooms or None for every room)
CHECKLIST = (
    ("wall", "墙面", "Walls", None),
    ("floor", "地面", "Floor", None),
    ("ceiling", "顶棚", "Ceiling", None),
    ("doors_windows", "门窗", "Doors and windows", None),
    ("plumbing", "给排水", "Water and drainage", WET),
    ("electrical", "电气", "Electrical", None),
    ("fixtures", "五金洁具", "Fittings and sanitary ware", ["kitchen", "bathroom"]),
    ("waterproof", "防水", "Waterproofing", ["bathroom", "balcony"]),
    ("gas", "燃气", "Gas", ["kitchen"]),
)

# (code, zh, en, [(code, zh, en)])
CATEGORIES = (
    (
        "civil",
        "土建",
        "Civil works",
        [
            ("hollow", "空鼓", "Hollow plaster"),
            ("crack", "裂缝", "Crack"),
            ("uneven", "不平整", "Uneven surface"),
            ("leak", "渗漏", "Leak"),
        ],
    ),
    (
        "install",
        "安装",
        "Installation",
        [
            ("drain", "排水不畅", "Slow drain"),
            ("socket", "插座/开关", "Socket or switch"),
            ("pipe", "管道", "Pipes"),
        ],
    ),
    (
        "finish",
        "装饰",
        "Finishing",
        [
            ("paint", "涂料污染", "Paint stains"),
            ("tile", "瓷砖破损", "Damaged tiles"),
            ("hardware", "五金松动", "Loose hardware"),
            ("scratch", "划痕", "Scratches"),
        ],
    ),
)

# (code, name, area, top row, bottom row): rows are (label, width in m); the top row faces
# south and has the balcony in front of the living room.
LAYOUTS = (
    (
        "A",
        "A户型 四室两厅一卫",
        143.0,
        [("主卧", 4.6), ("客厅", 6.0), ("次卧", 4.4)],
        [("书房", 3.6), ("卫生间", 2.6), ("餐厅", 5.0), ("厨房", 3.8)],
    ),
    (
        "B",
        "B户型 三室两厅两卫",
        128.0,
        [("主卧", 4.4), ("客厅", 5.6), ("次卧", 4.0)],
        [("次卧", 3.4), ("卫生间", 2.4), ("餐厅", 4.4), ("厨房", 3.8)],
    ),
    (
        "C",
        "C户型 三室两厅一卫",
        105.0,
        [("主卧", 4.0), ("客厅", 5.0), ("次卧", 3.4)],
        [("卫生间", 2.4), ("餐厅", 4.0), ("厨房", 3.0), ("次卧", 3.0)],
    ),
    (
        "D",
        "D户型 两室两厅一卫",
        89.0,
        [("主卧", 3.8), ("客厅", 4.6), ("次卧", 3.0)],
        [("卫生间", 2.3), ("餐厅", 4.3), ("厨房", 2.8), ("储物间", 2.0)],
    ),
)
TOP_DEPTH, CORRIDOR, BOTTOM_DEPTH, BALCONY = 5.2, 1.3, 3.8, 1.5
PX = 60  # pixels per metre
MARGIN = 70

KNOWN_ISSUE_SHARE = 0.18
KNOWN_ISSUE_SOURCE = "第二轮内部模拟验收"
# (room, category code, description)
KNOWN_ISSUES = (
    ("living", "crack", "客厅东墙踢脚线上方发丝裂缝约40cm"),
    ("master", "hollow", "主卧飘窗台面空鼓"),
    ("bathroom", "leak", "卫生间下水管根部有渗水痕迹"),
    ("kitchen", "tile", "厨房墙砖一块缺角"),
    ("balcony", "drain", "阳台地漏排水较慢"),
    ("second", "paint", "次卧顶棚涂料污染"),
    ("dining", "uneven", "餐厅地面找平层局部不平"),
    ("living", "socket", "客厅电视墙插座面板松动"),
    ("master", "hardware", "主卧房门合页松动、关门异响"),
    ("kitchen", "pipe", "厨房给水管阀门滴水"),
)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font().path), size)


def draw_floor_plan(
    title: str,
    area_m2: float,
    top: Sequence[tuple[str, float]],
    bottom: Sequence[tuple[str, float]],
) -> bytes:
    """A simple but real-looking plan: walls, doors, windows, labelled rooms with areas."""
    width_m = max(sum(w for _, w in top), sum(w for _, w in bottom))
    height_m = BALCONY + TOP_DEPTH + CORRIDOR + BOTTOM_DEPTH
    w = int(width_m * PX) + 2 * MARGIN
    h = int(height_m * PX) + 2 * MARGIN + 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    wall = (45, 45, 50)
    label_font, small, title_font = _font(26), _font(18), _font(24)

    def box(x0: float, y0: float, x1: float, y1: float, fill: str | None = None, width: int = 8):
        d.rectangle(
            [MARGIN + x0 * PX, MARGIN + y0 * PX, MARGIN + x1 * PX, MARGIN + y1 * PX],
            outline=wall,
            width=width,
            fill=fill,
        )

    def label(name: str, x0: float, y0: float, x1: float, y1: float, area: float | None = None):
        cx, cy = MARGIN + (x0 + x1) / 2 * PX, MARGIN + (y0 + y1) / 2 * PX
        d.text(
            (cx, cy - (12 if area else 0)), name, font=label_font, fill=(30, 30, 30), anchor="mm"
        )
        if area:
            d.text((cx, cy + 20), f"{area:.1f}㎡", font=small, fill=(110, 110, 110), anchor="mm")

    fills = {"卫生间": "#e8f1f8", "厨房": "#f4efe4", "阳台": "#eef5ea"}
    y_top = BALCONY
    y_cor = y_top + TOP_DEPTH
    y_bot = y_cor + CORRIDOR
    # Corridor first so the rooms' walls are drawn over it.
    box(0, y_cor, width_m, y_bot, fill="#f7f7f7", width=4)
    x = 0.0
    for name, rw in top:
        if name == "客厅":  # balcony in front of the living room, with a sliding door
            box(x, 0, x + rw, y_top, fill=fills["阳台"], width=5)
            label("阳台", x, 0, x + rw, y_top)
        box(x, y_top, x + rw, y_cor, fill=fills.get(name))
        label(name, x, y_top, x + rw, y_cor, rw * TOP_DEPTH)
        _door(d, MARGIN + (x + rw / 2) * PX, MARGIN + y_cor * PX, up=True)
        _window(
            d,
            MARGIN + (x + 0.6) * PX,
            MARGIN + (x + rw - 0.6) * PX,
            MARGIN + (0 if name == "客厅" else y_top) * PX,
        )
        x += rw
    x = 0.0
    for name, rw in bottom:
        box(x, y_bot, x + rw, y_bot + BOTTOM_DEPTH, fill=fills.get(name))
        label(name, x, y_bot, x + rw, y_bot + BOTTOM_DEPTH, rw * BOTTOM_DEPTH)
        if name != "餐厅":
            _door(d, MARGIN + (x + rw / 2) * PX, MARGIN + y_bot * PX, up=False)
        _window(
            d,
            MARGIN + (x + 0.5) * PX,
            MARGIN + (x + rw - 0.5) * PX,
            MARGIN + (y_bot + BOTTOM_DEPTH) * PX,
        )
        x += rw
    # Entrance door at the corridor's east end.
    ex = MARGIN + width_m * PX
    d.line(
        [ex, MARGIN + (y_cor + 0.2) * PX, ex, MARGIN + (y_bot - 0.2) * PX], fill="white", width=10
    )
    d.text(
        (ex + 8, MARGIN + (y_cor + CORRIDOR / 2) * PX), "入户", font=small, fill=wall, anchor="lm"
    )
    # North arrow and title.
    nx, ny = w - MARGIN // 2 - 10, MARGIN // 2 + 6
    d.polygon([(nx, ny - 22), (nx - 9, ny + 8), (nx + 9, ny + 8)], fill=wall)
    d.text((nx, ny + 22), "北", font=small, fill=wall, anchor="mm")
    d.text(
        (MARGIN, h - MARGIN // 2 - 20),
        f"{title}　建筑面积约{area_m2:.0f}㎡",
        font=title_font,
        fill=(30, 30, 30),
        anchor="lm",
    )
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _door(d: ImageDraw.ImageDraw, cx: float, y: float, *, up: bool) -> None:
    half = 0.45 * PX
    d.line([cx - half, y, cx + half, y], fill="white", width=10)
    r = 2 * half
    box = [cx - half - r, y - r, cx - half + r, y + r]
    if up:
        d.arc(box, 270, 360, fill=(120, 120, 120), width=2)
        d.line([cx - half, y, cx - half, y - r], fill=(120, 120, 120), width=2)
    else:
        d.arc(box, 0, 90, fill=(120, 120, 120), width=2)
        d.line([cx - half, y, cx - half, y + r], fill=(120, 120, 120), width=2)


def _window(d: ImageDraw.ImageDraw, x0: float, x1: float, y: float) -> None:
    if x1 <= x0:
        return
    d.rectangle([x0, y - 5, x1, y + 5], fill="white", outline=(90, 140, 190), width=2)
    d.line([x0, y, x1, y], fill=(90, 140, 190), width=2)


def seed_inspect(session: Session, project: Project, rng: random.Random) -> dict[str, int]:
    """Rooms, checklist, categories, unit types per room position, known issues. Flushes."""
    pid = project.id
    session.add_all(
        InspectionRoom(project_id=pid, code=c, name_zh=zh, name_en=en, sort=i)
        for i, (c, zh, en) in enumerate(ROOMS)
    )
    session.add_all(
        ChecklistItem(project_id=pid, code=c, name_zh=zh, name_en=en, room_codes=rooms, sort=i)
        for i, (c, zh, en, rooms) in enumerate(CHECKLIST)
    )
    by_code: dict[str, DefectCategory] = {}
    for i, (code, zh, en, children) in enumerate(CATEGORIES):
        parent = DefectCategory(project_id=pid, code=code, name_zh=zh, name_en=en, sort=i)
        session.add(parent)
        session.flush()
        for j, (ccode, czh, cen) in enumerate(children):
            child = DefectCategory(
                project_id=pid, parent_id=parent.id, code=ccode, name_zh=czh, name_en=cen, sort=j
            )
            session.add(child)
            by_code[ccode] = child
    types = [
        UnitType(project_id=pid, code=code, name=name, area_m2=area)
        for code, name, area, _, _ in LAYOUTS
    ]
    session.add_all(types)
    session.flush()
    units = session.scalars(select(Unit).where(Unit.project_id == pid).order_by(Unit.id)).all()
    n_issues = 0
    for unit in units:
        position = int(unit.room[-2:])  # 1201 -> 01: the same layout is stacked floor by floor
        unit.unit_type_id = types[(position - 1) % len(types)].id
        if rng.random() < KNOWN_ISSUE_SHARE:
            for room, cat, text in rng.sample(KNOWN_ISSUES, rng.choice((1, 1, 2))):
                session.add(
                    KnownIssue(
                        project_id=pid,
                        unit_id=unit.id,
                        room_code=room,
                        category_id=by_code[cat].id,
                        description=text,
                        source=KNOWN_ISSUE_SOURCE,
                        status="open",
                    )
                )
                n_issues += 1
    session.flush()
    return {
        "inspection_rooms": len(ROOMS),
        "checklist_items": len(CHECKLIST),
        "unit_types": len(types),
        "known_issues": n_issues,
    }


def seed_floor_plans(session: Session, project_id: int, instance_path: str | Path) -> int:
    """Draws and stores a plan for every unit type without one; commits. Returns how many."""
    layouts = {code: (name, area, top, bottom) for code, name, area, top, bottom in LAYOUTS}
    n = 0
    for ut in session.scalars(
        select(UnitType).where(
            UnitType.project_id == project_id, UnitType.floor_plan_file_id.is_(None)
        )
    ):
        if ut.code not in layouts:
            continue
        name, area, top, bottom = layouts[ut.code]
        png = draw_floor_plan(name, area, top, bottom)
        stored = files.store_image(session, instance_path, png, kind="floor_plan", actor=SYSTEM)
        ut.floor_plan_file_id = stored.id
        n += 1
    session.commit()
    return n


def add_inspection_printers(session: Session, project_id: int, port: int) -> int:
    """Each demo inspection team prints its defect lists on the demo's fake printer (80 mm)."""
    from server.models import Counter, Printer, Step, counter_steps

    teams = session.scalars(
        select(Counter)
        .join(counter_steps, counter_steps.c.counter_id == Counter.id)
        .join(Step, Step.id == counter_steps.c.step_id)
        .where(Counter.project_id == project_id, Step.kind == "inspect")
    ).all()
    for counter in teams:
        session.add(
            Printer(
                project_id=project_id,
                name=f"{counter.name_zh}打印机",
                connection="network",
                host="127.0.0.1",
                port=port,
                paper_width_mm=80,
                mode="native",
                counter_id=counter.id,
            )
        )
    session.commit()
    return len(teams)
