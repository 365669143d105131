"""Demo data for the kiosk and the owner's phone: where each counter is, a help desk with its
printer, and the ID digits the kiosk's "no notice" lookup asks for."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Building, Counter, Owner, Project
from server.services.helpdesk import HELP_DESK_CODE

# Counter code prefix -> (location_zh, location_en) in the sales office (售楼处).
_HALL = {
    "W01": ("售楼处一楼大厅 A区 左侧", "Sales office, ground floor, area A, left"),
    "W05": (
        "售楼处一楼大厅 A区 右侧 收费处",
        "Sales office, ground floor, area A, right (cashier)",
    ),
    "W08": ("售楼处二楼 B区 签约室", "Sales office, 1st floor, area B, signing room"),
    "W11": ("售楼处二楼 B区 钥匙交接处", "Sales office, 1st floor, area B, key desk"),
}


def _hall_location(code: str) -> tuple[str, str] | None:
    n = int(code[1:])
    key = "W01" if n <= 4 else "W05" if n <= 7 else "W08" if n <= 10 else "W11"
    return _HALL[key]


def seed_kiosk(session: Session, project: Project, rng: random.Random) -> None:
    buildings = session.scalars(
        select(Building).where(Building.project_id == project.id).order_by(Building.sort)
    ).all()
    for counter in session.scalars(select(Counter).where(Counter.project_id == project.id)):
        if counter.code.startswith("W"):
            counter.location_zh, counter.location_en = _hall_location(counter.code)
        elif counter.code.startswith("Y") and buildings:
            # Inspection teams meet owners in the lobby of the building they inspect.
            b = buildings[(int(counter.code[1:]) - 1) % len(buildings)]
            counter.location_zh = f"{b.name}一楼大堂（验房集合点）"
            counter.location_en = f"Building {b.code} lobby (inspection meeting point)"
    session.add(
        Counter(
            project_id=project.id,
            code=HELP_DESK_CODE,
            name_zh="服务台",
            name_en="Help desk",
            area="A区",
            location_zh="售楼处一楼大厅 入口右侧",
            location_en="Sales office, ground floor, right of the entrance",
        )
    )
    # The kiosk's "no notice" lookup: the last 6 of the ID number (from the whole number where
    # the import has it; the demo's own owners get plausible digits from the seed).
    for owner in session.scalars(select(Owner).where(Owner.project_id == project.id)):
        if not owner.id_last6:
            if owner.id_number:
                owner.id_last6 = owner.id_number[-6:]
            else:
                check = rng.choice("0123456789X")
                owner.id_last6 = f"{rng.randrange(10**5):05d}{check}"
    session.flush()
