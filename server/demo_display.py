"""Demo data for the display boards: the inspection area's board shows only inspection calls,
and the supervisor has put a notice on every board."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Device, Notice, Project

INSPECTION_BOARD = "验房区屏幕"
NOTICES = (
    (
        "验房的业主请在验房区等候，验房员将叫号带您前往房屋。",
        "Owners for inspection: please wait in the inspection area; an inspector will call you.",
    ),
    (
        "请保管好随身物品，带好身份证原件和购房合同。",
        "Please keep your belongings with you and have your ID card and contract ready.",
    ),
)


def seed_display(session: Session, project: Project, rng: random.Random) -> None:
    session.flush()
    board = session.scalar(
        select(Device).where(Device.project_id == project.id, Device.name == INSPECTION_BOARD)
    )
    if board is not None:
        board.settings = {"steps": ["inspect"], "areas": [], "voice_en": False}
    session.add_all(
        Notice(project_id=project.id, text_zh=zh, text_en=en, active=True) for zh, en in NOTICES
    )
