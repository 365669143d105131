"""The inspection's printouts as data: the defect list receipt (stage 5's `defect_list`), with
each defect's room and where its pin sits on the floor plan, in words."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server import clock
from server.models import InspectionResult, Project, Staff, Visit
from server.printing.receipt import Receipt
from server.printing.receipts import DefectLine, DefectListData, defect_list_receipt

from . import inspection

OUTCOME_WORDS = {
    "zh_CN": {"accepted": "接收", "accepted_with_defects": "带问题接收", "refused": "拒收"},
    "en": {
        "accepted": "Accepted",
        "accepted_with_defects": "Accepted with defects",
        "refused": "Refused",
    },
}


def outcome_word(outcome: str, locale: str = "zh_CN") -> str:
    return OUTCOME_WORDS["en" if locale.startswith("en") else "zh_CN"].get(outcome, outcome)


def names(session: Session, project_id: int, locale: str) -> tuple[dict, dict]:
    """Room and check item names by code, in the locale."""
    en = locale.startswith("en")
    rooms = {
        r.code: (r.name_en if en else r.name_zh) for r in inspection.rooms(session, project_id)
    }
    items = {
        i.code: (i.name_en if en else i.name_zh) for i in inspection.checklist(session, project_id)
    }
    return rooms, items


def defect_list_for(
    session: Session, visit: Visit, result: InspectionResult | None, locale: str = "zh_CN"
) -> Receipt:
    rooms, items = names(session, visit.project_id, locale)
    project = session.get(Project, visit.project_id)
    staff = session.get(Staff, result.staff_id) if result and result.staff_id else None
    en = locale.startswith("en")
    lines = [
        DefectLine(
            room=rooms.get(d.room, d.room),
            item=items.get(d.item, d.item),
            description=d.description,
            where=inspection.position_words(d.pin_x, d.pin_y, locale),
        )
        for d in inspection.current_defects(session, visit.id)
    ]
    data = DefectListData(
        project_name=(project.name_en or project.name) if en else project.name,
        unit_label=visit.unit.label_en if en else visit.unit.label,
        defects=lines,
        recorded_at=result.created_at if result else clock.now(),
        staff_name=staff.display_name if staff else "-",
        result=outcome_word(result.outcome, locale) if result else None,
        ticket_no=visit.ticket_no,
    )
    return defect_list_receipt(data, "en" if en else "zh_CN")
