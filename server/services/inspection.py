"""Inspection (验房): the walk through the unit and the acceptance form it produces.

The inspector's tablet downloads `walk_data` while on the venue's WiFi, records everything in
the unit with no network, and uploads it later. So every write here:
- is idempotent by `client_id` (made on the tablet): a retried upload returns the row it
  already created, never a second one;
- never updates or deletes evidence: a changed answer is a new row superseding the current one;
- is kept even when the visit changed meanwhile (cancelled, taken over, moved to another
  counter): the row is stored and flagged (InspectionSyncIssue) for a supervisor, and the
  answer carries a clear message instead of the upload being refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Action, Forbidden, Invalid, NotFound, State
from server.i18n import translate
from server.models import (
    ChecklistItem,
    Counter,
    Defect,
    DefectCategory,
    DefectPhoto,
    FollowUpCase,
    InspectionCheck,
    InspectionResult,
    InspectionRoom,
    InspectionSyncIssue,
    KnownIssue,
    KnownIssueCheck,
    Staff,
    StoredFile,
    UnitType,
    Visit,
    VisitStep,
)
from server.printing.receipts import place_words as receipt_place_words
from server.services import privacy

from . import audit, events, files
from .actor import Actor
from .transitions import move

OUTCOMES = ("accepted", "accepted_with_defects", "refused")
CHECK_RESULTS = ("ok", "defect", "na")
SEVERITIES = ("minor", "major", "critical")
KNOWN_RESULTS = ("fixed", "still_open")
OPEN = ("called", "serving", "held")

# Why an upload needs a supervisor's look (InspectionSyncIssue.code) -> message id.
ATTENTION = {
    "visit_not_active": "This visit was closed while the tablet was offline (%(status)s). "
    "What you recorded is kept for the supervisor to resolve.",
    "taken_over": "This counter was taken over by %(name)s while the tablet was offline. "
    "What you recorded is kept for the supervisor to resolve.",
    "other_counter": "This visit was moved to another counter while the tablet was offline. "
    "What you recorded is kept for the supervisor to resolve.",
    "step_not_open": "The inspection of this visit is %(state)s. "
    "What you recorded is kept for the supervisor to resolve.",
}
ATTENTION_KEPT = "What you recorded is kept for the supervisor to resolve."
STATUS_WORDS = {
    "cancelled": "cancelled",
    "out": "out",
    "finished": "finished",
    "refused": "refused",
}


@dataclass(frozen=True)
class Attention:
    code: str
    message: str
    params: dict[str, Any]

    def as_dict(self, locale: str) -> dict[str, Any]:
        params = {
            k: translate(v, locale) if isinstance(v, str) else v for k, v in self.params.items()
        }
        return {"code": self.code, "message": translate(self.message, locale, params or None)}


@dataclass
class Saved:
    """What an upload produced: the row (new or the one a retry finds) and any attention."""

    row: Any
    created: bool
    attention: Attention | None = None


# ---- reading ---------------------------------------------------------------------------------


def inspect_visit_step(session: Session, visit: Visit) -> VisitStep | None:
    """The visit's step of kind `inspect` (None if the project has no inspection step)."""
    return next((s for s in visit.steps if s.step.kind == "inspect"), None)


def _names(obj) -> dict[str, str]:
    return {"name_zh": obj.name_zh, "name_en": obj.name_en}


def rooms(session: Session, project_id: int) -> list[InspectionRoom]:
    return list(
        session.scalars(
            select(InspectionRoom)
            .where(InspectionRoom.project_id == project_id)
            .order_by(InspectionRoom.sort, InspectionRoom.id)
        )
    )


def checklist(session: Session, project_id: int) -> list[ChecklistItem]:
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.project_id == project_id)
            .order_by(ChecklistItem.sort, ChecklistItem.id)
        )
    )


def items_for_room(items: Iterable[ChecklistItem], room_code: str) -> list[ChecklistItem]:
    return [i for i in items if not i.room_codes or room_code in i.room_codes]


def category_tree(session: Session, project_id: int) -> list[dict[str, Any]]:
    cats = session.scalars(
        select(DefectCategory)
        .where(DefectCategory.project_id == project_id)
        .order_by(DefectCategory.sort, DefectCategory.id)
    ).all()
    nodes = {c.id: {"id": c.id, "code": c.code, **_names(c), "children": []} for c in cats}
    roots = []
    for c in cats:
        (nodes[c.parent_id]["children"] if c.parent_id in nodes else roots).append(nodes[c.id])
    return roots


def known_issues(session: Session, unit_id: int) -> list[KnownIssue]:
    return list(
        session.scalars(
            select(KnownIssue).where(KnownIssue.unit_id == unit_id).order_by(KnownIssue.id)
        )
    )


def floor_plan(session: Session, unit) -> StoredFile | None:
    if unit.unit_type_id is None:
        return None
    ut = session.get(UnitType, unit.unit_type_id)
    if ut is None or ut.floor_plan_file_id is None:
        return None
    return session.get(StoredFile, ut.floor_plan_file_id)


def _current(rows: Iterable, key) -> dict:
    """The newest row per key that nothing supersedes (rows in id order)."""
    rows = list(rows)
    superseded = {r.supersedes_id for r in rows if r.supersedes_id}
    out: dict = {}
    for r in rows:
        if r.id not in superseded:
            out[key(r)] = r
    return out


def current_checks(session: Session, visit_id: int) -> dict[tuple[str, str], InspectionCheck]:
    rows = session.scalars(
        select(InspectionCheck)
        .where(InspectionCheck.visit_id == visit_id)
        .order_by(InspectionCheck.id)
    )
    return _current(rows, lambda r: (r.room_code, r.item_code))


def current_defects(session: Session, visit_id: int) -> list[Defect]:
    rows = session.scalars(select(Defect).where(Defect.visit_id == visit_id).order_by(Defect.id))
    # A defect's identity is its chain of corrections: key each row by its first ancestor.
    rows = list(rows)
    by_id = {r.id: r for r in rows}

    def root(r: Defect) -> int:
        while r.supersedes_id and r.supersedes_id in by_id:
            r = by_id[r.supersedes_id]
        return r.id

    return [d for d in _current(rows, root).values() if not d.voided]


def current_known_checks(session: Session, visit_id: int) -> dict[int, KnownIssueCheck]:
    rows = session.scalars(
        select(KnownIssueCheck)
        .where(KnownIssueCheck.visit_id == visit_id)
        .order_by(KnownIssueCheck.id)
    )
    return _current(rows, lambda r: r.known_issue_id)


def current_result(session: Session, visit_id: int) -> InspectionResult | None:
    rows = session.scalars(
        select(InspectionResult)
        .where(InspectionResult.visit_id == visit_id)
        .order_by(InspectionResult.id)
    )
    return _current(rows, lambda r: "result").get("result")


def missing(session: Session, visit: Visit) -> list[str]:
    """What still blocks completing the inspect step (message ids, English)."""
    result = current_result(session, visit.id)
    out = []
    if result is None:
        out.append("The inspection has no outcome yet.")
    elif result.signature_file_id is None:
        out.append("The owner has not signed the acceptance form.")
    if (
        result is not None
        and result.outcome == "accepted_with_defects"
        and not current_defects(session, visit.id)
    ):
        out.append("Accepted with defects, but no defect is recorded.")
    return out


def position_words(x: float | None, y: float | None, locale: str = "zh_CN") -> str | None:
    """Where a pin sits on the plan in words a rectification worker can use: 平面图左上."""
    if x is None or y is None:
        return None
    col = 0 if x < 1 / 3 else (1 if x < 2 / 3 else 2)
    row = 0 if y < 1 / 3 else (1 if y < 2 / 3 else 2)
    if locale.startswith("en"):
        names = [
            ["top left", "top centre", "top right"],
            ["left", "centre", "right"],
            ["bottom left", "bottom centre", "bottom right"],
        ]
        return f"plan {names[row][col]}"
    names = [["左上", "上部", "右上"], ["左侧", "中部", "右侧"], ["左下", "下部", "右下"]]
    return f"平面图{names[row][col]}"


def place_words(room_name: str, x: float | None, y: float | None, locale: str = "zh_CN") -> str:
    """Room and pin position in the defect list's words ("主卧 · 平面图左上"): the receipt,
    the daily report and its PDF say where a defect is the same way."""
    return receipt_place_words(room_name, position_words(x, y, locale))


def _masked_owners(visit: Visit) -> list[dict[str, Any]]:
    return [
        {"name": uo.owner.masked_name, "phone": uo.owner.masked_phone, "position": uo.position}
        for uo in visit.unit.owners
    ]


def _file_url(f: StoredFile | None) -> str | None:
    return f"/api/inspect/files/{f.id}" if f else None


def walk_data(session: Session, visit: Visit, counter: Counter) -> dict[str, Any]:
    """Everything the tablet needs to inspect this visit's unit with no network."""
    vs = inspect_visit_step(session, visit)
    if vs is None:
        raise Invalid("no_inspect_step", "This visit has no inspection step.")
    unit = visit.unit
    all_items = checklist(session, visit.project_id)
    plan = floor_plan(session, unit)
    return {
        "visit": {
            "id": visit.id,
            "ticket_no": visit.ticket_no,
            "status": visit.status,
            "party_role": visit.party_role,
            "agent_name": visit.agent_name,
            "visit_step_id": vs.id,
            "state": vs.state,
        },
        "counter": {"id": counter.id, "code": counter.code, **_names(counter)},
        "unit": {
            "id": unit.id,
            "label": unit.label,
            "label_en": unit.label_en,
            "area_m2": unit.area_m2,
            "unit_type": unit.unit_type.name if unit.unit_type else None,
        },
        "owners": _masked_owners(visit),
        "rooms": [
            {
                "code": r.code,
                **_names(r),
                "items": [i.code for i in items_for_room(all_items, r.code)],
            }
            for r in rooms(session, visit.project_id)
        ],
        "items": [{"code": i.code, **_names(i)} for i in all_items],
        "categories": category_tree(session, visit.project_id),
        "known_issues": [
            {
                "id": k.id,
                "room_code": k.room_code,
                "category_id": k.category_id,
                "description": k.description,
                "source": k.source,
                "status": k.status,
            }
            for k in known_issues(session, unit.id)
        ],
        "floor_plan": None
        if plan is None
        else {"url": _file_url(plan), "width": plan.width, "height": plan.height},
        "recorded": recorded(session, visit),
        "missing": missing(session, visit),
    }


def recorded(session: Session, visit: Visit) -> dict[str, Any]:
    """What the server already holds for the visit (the current answers)."""
    result = current_result(session, visit.id)
    return {
        "checks": [
            {"client_id": c.client_id, "room": c.room_code, "item": c.item_code, "result": c.result}
            for c in current_checks(session, visit.id).values()
        ],
        "defects": [
            {
                "id": d.id,
                "client_id": d.client_id,
                "room": d.room,
                "item": d.item,
                "category_id": d.category_id,
                "description": d.description,
                "severity": d.severity,
                "pin_x": d.pin_x,
                "pin_y": d.pin_y,
                "photos": [_file_url(p.file) for p in d.photos],
            }
            for d in current_defects(session, visit.id)
        ],
        "known_issues": [
            {"known_issue_id": k.known_issue_id, "result": k.result, "client_id": k.client_id}
            for k in current_known_checks(session, visit.id).values()
        ],
        "result": None
        if result is None
        else {
            "client_id": result.client_id,
            "outcome": result.outcome,
            "reason": result.reason,
            "promised_date": result.promised_date.isoformat() if result.promised_date else None,
            "signer_name": privacy.mask_name(result.signer_name),
            "signed": result.signature_file_id is not None,
        },
    }


# ---- who may write --------------------------------------------------------------------------


def attention_for(
    session: Session, visit: Visit, counter_id: int, actor: Actor
) -> Attention | None:
    """None while the walk still belongs to this counter; else why the upload needs a look."""
    vs = inspect_visit_step(session, visit)
    if visit.status == "refused" and vs is not None and vs.counter_id == counter_id:
        return None  # refused by this very walk: its remaining uploads belong to it
    if visit.status != "active":
        word = STATUS_WORDS.get(visit.status, visit.status)
        return Attention("visit_not_active", ATTENTION["visit_not_active"], {"status": word})
    counter = session.get(Counter, counter_id)
    if counter is not None and counter.staff_id and counter.staff_id != actor.staff_id:
        holder = session.get(Staff, counter.staff_id)
        name = holder.display_name if holder else "-"
        return Attention("taken_over", ATTENTION["taken_over"], {"name": name})
    if vs is None or vs.counter_id != counter_id:
        return Attention("other_counter", ATTENTION["other_counter"], {})
    if vs.state not in OPEN:
        from server.engine.states import state_word

        return Attention(
            "step_not_open", ATTENTION["step_not_open"], {"state": state_word(vs.state)}
        )
    return None


def _visit(session: Session, visit_id: int, project_id: int | None = None) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None or (project_id is not None and visit.project_id != project_id):
        raise NotFound("unknown_visit", "Unknown visit.")
    return visit


def _client_id(client_id: str) -> str:
    client_id = (client_id or "").strip()
    if not 8 <= len(client_id) <= 40:
        raise Invalid("bad_client_id", "Invalid record id from the tablet.")
    return client_id


def _flag(
    session: Session,
    attention: Attention | None,
    *,
    visit: Visit,
    counter_id: int,
    actor: Actor,
    entity: str,
    row,
) -> None:
    if attention is None:
        return
    session.add(
        InspectionSyncIssue(
            visit_id=visit.id,
            counter_id=counter_id,
            staff_id=actor.staff_id,
            entity=entity,
            entity_id=row.id,
            client_id=row.client_id,
            code=attention.code,
        )
    )
    audit.record(
        session,
        actor,
        "inspection.sync_issue",
        entity,
        row.id,
        visit_id=visit.id,
        code=attention.code,
    )


def _existing(session: Session, model, client_id: str, visit: Visit):
    row = session.scalar(select(model).where(model.client_id == client_id))
    if row is not None and row.visit_id != visit.id:
        raise Invalid("client_id_reused", "This record id belongs to another visit.")
    return row


def _flag_of(session: Session, client_id: str) -> Attention | None:
    issue = session.scalar(
        select(InspectionSyncIssue).where(InspectionSyncIssue.client_id == client_id)
    )
    if issue is None:
        return None
    return Attention(issue.code, ATTENTION_KEPT, {})


def _recorded_at(value: datetime | None, now: datetime) -> datetime:
    # The tablet's clock is trusted only within reason: never in the future.
    if value is None:
        return now
    if value.tzinfo is not None:  # the tablet sends UTC; the venue stores local time
        value = value.astimezone(clock._tz)
    return min(value.replace(tzinfo=None), now)


# ---- writing ---------------------------------------------------------------------------------


def record_check(
    session: Session,
    *,
    visit_id: int,
    counter_id: int,
    client_id: str,
    room_code: str,
    item_code: str,
    result: str,
    actor: Actor,
    recorded_at: datetime | None = None,
    project_id: int | None = None,
    now: datetime | None = None,
) -> Saved:
    now = now or clock.now()
    client_id = _client_id(client_id)
    visit = _visit(session, visit_id, project_id)
    found = _existing(session, InspectionCheck, client_id, visit)
    if found is not None:
        return Saved(found, False, _flag_of(session, client_id))
    if result not in CHECK_RESULTS:
        raise Invalid("bad_check_result", "Unknown check result.")
    _require_room_item(session, visit.project_id, room_code, item_code)
    attention = attention_for(session, visit, counter_id, actor)
    before = current_checks(session, visit.id).get((room_code, item_code))
    row = InspectionCheck(
        visit_id=visit.id,
        room_code=room_code,
        item_code=item_code,
        result=result,
        staff_id=actor.staff_id,
        supersedes_id=before.id if before else None,
        correction_reason="changed during the walk" if before else None,
        client_id=client_id,
        recorded_at=_recorded_at(recorded_at, now),
    )
    session.add(row)
    session.flush()
    _flag(
        session, attention, visit=visit, counter_id=counter_id, actor=actor, entity="check", row=row
    )
    session.commit()
    return Saved(row, True, attention)


def _require_room_item(session: Session, project_id: int, room_code: str, item_code: str) -> None:
    room = session.scalar(
        select(InspectionRoom.id).where(
            InspectionRoom.project_id == project_id, InspectionRoom.code == room_code
        )
    )
    item = session.scalar(
        select(ChecklistItem.id).where(
            ChecklistItem.project_id == project_id, ChecklistItem.code == item_code
        )
    )
    if room is None or item is None:
        raise Invalid("unknown_room_or_item", "Unknown room or check item.")


def store_photo(
    session: Session,
    instance_path: str | Path,
    data: bytes,
    *,
    kind: str,
    client_id: str,
    actor: Actor,
) -> StoredFile:
    """A defect photo or the owner's signature, uploaded before the record that uses it."""
    if kind not in ("photo", "signature"):
        raise Invalid("bad_file_kind", "Unknown kind of file.")
    stored = files.store_image(
        session, instance_path, data, kind=kind, actor=actor, client_id=_client_id(client_id)
    )
    session.commit()
    return stored


def _files_by_client_ids(
    session: Session, client_ids: Iterable[str], kind: str
) -> list[StoredFile]:
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        return []
    found = {
        f.client_id: f
        for f in session.scalars(select(StoredFile).where(StoredFile.client_id.in_(ids)))
    }
    missing_ids = [i for i in ids if i not in found or found[i].kind != kind]
    if missing_ids:
        raise Invalid("file_not_uploaded", "A photo or signature has not been uploaded yet.")
    return [found[i] for i in ids]


def record_defect(
    session: Session,
    *,
    visit_id: int,
    counter_id: int,
    client_id: str,
    room: str,
    item: str,
    description: str,
    actor: Actor,
    category_id: int | None = None,
    severity: str = "minor",
    pin_x: float | None = None,
    pin_y: float | None = None,
    photo_client_ids: Iterable[str] = (),
    known_issue_id: int | None = None,
    supersedes_client_id: str | None = None,
    correction_reason: str | None = None,
    voided: bool = False,
    recorded_at: datetime | None = None,
    project_id: int | None = None,
    now: datetime | None = None,
) -> Saved:
    now = now or clock.now()
    client_id = _client_id(client_id)
    visit = _visit(session, visit_id, project_id)
    found = _existing(session, Defect, client_id, visit)
    if found is not None:
        return Saved(found, False, _flag_of(session, client_id))
    description = (description or "").strip()
    if not description and not voided:
        raise Invalid("description_required", "Please describe the defect.")
    if severity not in SEVERITIES:
        raise Invalid("bad_severity", "Unknown severity.")
    _require_room_item(session, visit.project_id, room, item)
    category = None
    if category_id is not None:
        category = session.get(DefectCategory, category_id)
        if category is None or category.project_id != visit.project_id:
            raise Invalid("unknown_category", "Unknown defect category.")
    if (pin_x is None) != (pin_y is None):
        raise Invalid("bad_pin", "A pin needs both x and y.")
    if pin_x is not None and not (0 <= pin_x <= 1 and 0 <= pin_y <= 1):
        raise Invalid("bad_pin", "A pin must lie on the floor plan.")
    if known_issue_id is not None:
        ki = session.get(KnownIssue, known_issue_id)
        if ki is None or ki.unit_id != visit.unit_id:
            raise Invalid("unknown_known_issue", "Unknown known issue.")
    supersedes = None
    if supersedes_client_id:
        supersedes = session.scalar(select(Defect).where(Defect.client_id == supersedes_client_id))
        if supersedes is None or supersedes.visit_id != visit.id:
            raise Invalid("unknown_defect", "The defect to correct is not on the server yet.")
        if session.scalar(select(Defect.id).where(Defect.supersedes_id == supersedes.id)):
            raise Invalid("already_corrected", "This defect was already corrected.")
    photos = _files_by_client_ids(session, photo_client_ids, "photo")
    attention = attention_for(session, visit, counter_id, actor)
    row = Defect(
        visit_id=visit.id,
        unit_id=visit.unit_id,
        room=room,
        item=item,
        category=category.code if category else None,
        category_id=category.id if category else None,
        description=description,
        severity=severity,
        pin_x=pin_x,
        pin_y=pin_y,
        known_issue_id=known_issue_id,
        staff_id=actor.staff_id,
        voided=voided,
        supersedes_id=supersedes.id if supersedes else None,
        correction_reason=(correction_reason or ("voided" if voided else "corrected")).strip()
        if supersedes
        else None,
        client_id=client_id,
        recorded_at=_recorded_at(recorded_at, now),
    )
    session.add(row)
    session.flush()
    for f in photos:
        session.add(DefectPhoto(defect_id=row.id, file_id=f.id))
    _flag(
        session,
        attention,
        visit=visit,
        counter_id=counter_id,
        actor=actor,
        entity="defect",
        row=row,
    )
    session.commit()
    return Saved(row, True, attention)


def confirm_known_issue(
    session: Session,
    *,
    visit_id: int,
    counter_id: int,
    client_id: str,
    known_issue_id: int,
    result: str,
    actor: Actor,
    note: str | None = None,
    project_id: int | None = None,
) -> Saved:
    client_id = _client_id(client_id)
    visit = _visit(session, visit_id, project_id)
    found = _existing(session, KnownIssueCheck, client_id, visit)
    if found is not None:
        return Saved(found, False, _flag_of(session, client_id))
    if result not in KNOWN_RESULTS:
        raise Invalid("bad_known_result", "Unknown answer for a known issue.")
    ki = session.get(KnownIssue, known_issue_id)
    if ki is None or ki.unit_id != visit.unit_id:
        raise Invalid("unknown_known_issue", "Unknown known issue.")
    attention = attention_for(session, visit, counter_id, actor)
    before = current_known_checks(session, visit.id).get(ki.id)
    row = KnownIssueCheck(
        visit_id=visit.id,
        known_issue_id=ki.id,
        result=result,
        note=(note or "").strip() or None,
        staff_id=actor.staff_id,
        supersedes_id=before.id if before else None,
        correction_reason="changed during the walk" if before else None,
        client_id=client_id,
    )
    session.add(row)
    session.flush()
    _flag(
        session,
        attention,
        visit=visit,
        counter_id=counter_id,
        actor=actor,
        entity="known_issue",
        row=row,
    )
    session.commit()
    return Saved(row, True, attention)


def record_outcome(
    session: Session,
    *,
    visit_id: int,
    counter_id: int,
    client_id: str,
    outcome: str,
    actor: Actor,
    reason: str | None = None,
    promised_date: date | None = None,
    signer_name: str | None = None,
    signature_client_id: str | None = None,
    recorded_at: datetime | None = None,
    project_id: int | None = None,
    printer_locale: str = "zh_CN",
    now: datetime | None = None,
) -> Saved:
    """The acceptance form's outcome with the owner's signature. A refusal ends the visit's
    handover (it leaves every queue) and opens a follow-up case; the defect list prints."""
    now = now or clock.now()
    client_id = _client_id(client_id)
    visit = _visit(session, visit_id, project_id)
    found = _existing(session, InspectionResult, client_id, visit)
    if found is not None:
        return Saved(found, False, _flag_of(session, client_id))
    if outcome not in OUTCOMES:
        raise Invalid("bad_outcome", "Unknown outcome.")
    reason = (reason or "").strip() or None
    if outcome == "refused" and not reason:
        raise Invalid("refusal_reason_required", "Please give the owner's reasons for refusing.")
    if outcome == "accepted_with_defects" and promised_date is None:
        raise Invalid("promised_date_required", "Please give the promised rectification date.")
    signature = None
    if signature_client_id:
        signature = _files_by_client_ids(session, [signature_client_id], "signature")[0]
    attention = attention_for(session, visit, counter_id, actor)
    before = current_result(session, visit.id)
    if before is not None and before.outcome == "refused" and attention is None:
        raise Invalid("already_refused", "The owner refused this unit; the visit has ended.")
    row = InspectionResult(
        visit_id=visit.id,
        outcome=outcome,
        reason=reason,
        promised_date=promised_date if outcome == "accepted_with_defects" else None,
        signer_name=(signer_name or "").strip() or None,
        signature_file_id=signature.id if signature else None,
        staff_id=actor.staff_id,
        counter_id=counter_id,
        supersedes_id=before.id if before else None,
        correction_reason="changed during the walk" if before else None,
        client_id=client_id,
        recorded_at=_recorded_at(recorded_at, now),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "inspection.outcome",
        "inspection_result",
        row.id,
        visit_id=visit.id,
        outcome=outcome,
    )
    _flag(
        session,
        attention,
        visit=visit,
        counter_id=counter_id,
        actor=actor,
        entity="result",
        row=row,
    )
    if attention is None:
        if outcome == "refused":
            _refuse(session, visit, actor, counter_id, reason or "", now)
        _queue_defect_list(session, visit, row, counter_id, printer_locale)
    session.commit()
    if attention is None and outcome == "refused":
        events.visit_changed(session, visit.id)  # it left the queue: boards and phones
    return Saved(row, True, attention)


def _refuse(
    session: Session, visit: Visit, actor: Actor, counter_id: int, reason: str, now: datetime
) -> None:
    """Like a cancel, but recorded as the owner's refusal, with a case to follow up."""
    why = f"拒收：{reason}"
    for vs in visit.steps:
        if vs.state in ("pending", *OPEN, "waiting"):
            move(session, vs, Action.CANCEL, actor, now, counter_id=vs.counter_id, reason=why)
    visit.status = "refused"
    visit.cancel_reason = why
    visit.finished_at = now
    visit.current_step_id = None
    session.add(
        FollowUpCase(
            project_id=visit.project_id,
            unit_id=visit.unit_id,
            visit_id=visit.id,
            kind="refused",
            reason=reason,
            department="engineering",
            status="open",
            opened_on=now.date(),
        )
    )
    audit.record(session, actor, "visit.refused", "visit", visit.id, reason=reason)


def _queue_defect_list(
    session: Session, visit: Visit, result: InspectionResult, counter_id: int, locale: str
) -> None:
    from server.printing import jobs as print_jobs

    printer = print_jobs.printer_for(session, counter_id=counter_id)
    if printer is None:
        return
    from .inspection_print import defect_list_for

    print_jobs.enqueue(
        session,
        kind="defect_list",
        receipt=defect_list_for(session, visit, result, locale),
        printer=printer,
        counter_id=counter_id,
        visit_id=visit.id,
    )


# ---- for the supervisor ----------------------------------------------------------------------


def _issue_dict(issue: InspectionSyncIssue, visit: Visit) -> dict[str, Any]:
    return {
        "id": issue.id,
        "visit_id": visit.id,
        "ticket_no": visit.ticket_no,
        "unit": visit.unit.label,
        "entity": issue.entity,
        "entity_id": issue.entity_id,
        "code": issue.code,
        "counter_id": issue.counter_id,
        "created_at": issue.created_at.isoformat(timespec="seconds"),
    }


def open_sync_issues(session: Session, project_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(InspectionSyncIssue, Visit)
        .join(Visit, Visit.id == InspectionSyncIssue.visit_id)
        .where(Visit.project_id == project_id, InspectionSyncIssue.resolved_at.is_(None))
        .order_by(InspectionSyncIssue.id)
    ).all()
    return [_issue_dict(issue, visit) for issue, visit in rows]


def resolved_sync_issues(session: Session, project_id: int, limit: int = 20) -> list[dict]:
    """The last resolved records, newest first, with who resolved them, when and how."""
    rows = session.execute(
        select(InspectionSyncIssue, Visit, Staff.display_name)
        .join(Visit, Visit.id == InspectionSyncIssue.visit_id)
        .outerjoin(Staff, Staff.id == InspectionSyncIssue.resolved_by_id)
        .where(Visit.project_id == project_id, InspectionSyncIssue.resolved_at.is_not(None))
        .order_by(InspectionSyncIssue.resolved_at.desc(), InspectionSyncIssue.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            **_issue_dict(issue, visit),
            "resolved_at": issue.resolved_at.isoformat(timespec="seconds"),
            "resolved_by": name or "",
            "resolution": issue.resolution or "",
        }
        for issue, visit, name in rows
    ]


def resolve_sync_issue(
    session: Session,
    issue_id: int,
    *,
    actor: Actor,
    resolution: str,
    now: datetime | None = None,
    project_id: int | None = None,
) -> InspectionSyncIssue:
    if not actor.role or actor.role not in ("supervisor", "admin"):
        raise Forbidden("forbidden", "You are not allowed to do this.")
    resolution = (resolution or "").strip()
    if not resolution:
        raise Invalid("reason_required", "Please give a reason.")
    issue = session.get(InspectionSyncIssue, issue_id)
    if issue is None or (
        project_id is not None and session.get(Visit, issue.visit_id).project_id != project_id
    ):
        raise NotFound("unknown_sync_issue", "Unknown record to resolve.")
    if issue.resolved_at is not None:
        raise Invalid("already_resolved", "This record was already resolved.")
    issue.resolved_at = now or clock.now()
    issue.resolved_by_id = actor.staff_id
    issue.resolution = resolution
    audit.record(
        session, actor, "inspection.sync_issue_resolved", "inspection_sync_issue", issue.id
    )
    session.commit()
    return issue


def take_walk(
    session: Session, *, counter: Counter, visit_step_id: int, actor: Actor, now=None
) -> Visit:
    """The inspector starts the walk for the ticket their counter called (called -> serving)."""
    now = now or clock.now()
    vs = session.get(VisitStep, visit_step_id)
    if vs is None or vs.visit.project_id != counter.project_id:
        raise NotFound("unknown_ticket", "Unknown ticket.")
    if vs.counter_id != counter.id:
        raise Forbidden("not_your_ticket", "This ticket was called by another counter.")
    if vs.step.kind != "inspect":
        raise Invalid("not_an_inspection", "This ticket is not at an inspection step.")
    if vs.state == State.CALLED.value:
        move(session, vs, Action.START, actor, now, counter_id=counter.id)
        vs.started_at = now
        vs.staff_id = actor.staff_id
        session.commit()
        events.visit_changed(session, vs.visit_id)
    elif vs.state not in OPEN:
        from server.engine.states import state_word

        raise Invalid(
            "step_not_open",
            "Not possible now: this ticket is %(state)s.",
            state=state_word(vs.state),
        )
    return vs.visit


def set_floor_plan(
    session: Session,
    instance_path: str | Path,
    *,
    project_id: int,
    unit_type_id: int,
    data: bytes,
    actor: Actor,
    page: int = 1,
    commit: bool = True,
) -> UnitType:
    """A new plan for a unit type (the old file stays: pins already placed keep their image).
    `data` is a picture, or a PDF whose `page` (1-based) is rendered to a PNG first."""
    ut = session.get(UnitType, unit_type_id)
    if ut is None or ut.project_id != project_id:
        raise NotFound("unknown_unit_type", "Unknown unit type.")
    stored = store_floor_plan_file(session, instance_path, data, page=page, actor=actor)
    before = ut.floor_plan_file_id
    ut.floor_plan_file_id = stored.id
    audit.record(
        session,
        actor,
        "unit_type.floor_plan",
        "unit_type",
        ut.id,
        file_id=stored.id,
        before=before,
        **({"pdf_page": page} if files.is_pdf(data) else {}),
    )
    if commit:
        session.commit()
    return ut


def store_floor_plan_file(
    session: Session, instance_path: str | Path, data: bytes, *, page: int, actor: Actor
) -> StoredFile:
    """Checks and stores a floor plan (picture or PDF page) as a PNG; flushes, never commits."""
    if files.is_pdf(data):
        data = files.pdf_page_png(data, page)
    return files.store_image(session, instance_path, data, kind="floor_plan", actor=actor)
