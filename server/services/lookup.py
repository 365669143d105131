"""Finding the unit an owner checks in for, and what the kiosk shows before they confirm.

Two ways in: the signed code of the handover notice (scanner or camera), or "no notice":
building / entrance / room picked on screen plus the last 4 digits of a phone number or the last
6 of an ID number of one of the unit's owners. The second way is rate-limited per kiosk (and per
staff member at the help desk): a streak of wrong digits locks the manual lookup for a while, so
nobody can walk the kiosk through the owner list. Every attempt is in the audit log, which is
also where the streak is counted (so several server processes share it and a restart keeps it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from server import clock
from server.engine import DomainError, Invalid, NotFound
from server.models import Appointment, AuditLog, Building, Project, Unit, Visit

from . import audit, notice_codes
from .actor import Actor

MAX_WRONG = 5  # wrong digits in a row before the manual lookup locks
LOCK_MINUTES = 10
CONFIRM_SECONDS = 300  # from "this is me" on screen to the confirming tap

LOOKUP_FAILED = "kiosk.lookup_failed"
LOOKUP_OK = "kiosk.lookup_ok"
PARTY_ROLES = ("owner", "co_owner", "agent")
PRIORITY_NEEDS = ("elderly", "disabled", "pregnant")


class Locked(DomainError):
    status = 429


# --- the code on the notice -------------------------------------------------------------------


# Built once: every check-in asks these (a statement built per request costs more CPU than
# running it).
_UNIT_BY_CODE = (
    select(Unit)
    .where(Unit.project_id == bindparam("project_id"), Unit.notice_code == bindparam("code"))
    .options(joinedload(Unit.building))  # the ticket names the unit: 3栋2单元1201
)
_TODAYS_VISIT = select(Visit).where(
    Visit.unit_id == bindparam("unit_id"),
    Visit.day == bindparam("day"),
    Visit.status.in_(("active", "finished")),
)


def unit_for_code(session: Session, project: Project, code: str, secret: str | None) -> Unit:
    """A signed code is checked and must be this project's; a tampered one is refused outright
    (never looked up as a plain code). Plain codes are `Unit.notice_code` of an import."""
    if notice_codes.looks_signed(code):
        signed = notice_codes.verify(secret, code) if secret else None
        if signed is None:
            raise Invalid(
                "forged_code",
                "This QR code is not a valid handover notice. Please ask a staff member.",
            )
        if signed.project_code != project.code:
            raise Invalid(
                "other_project",
                "This handover notice is for another project. Please check the notice or ask a staff member.",
            )
        unit = session.get(Unit, signed.unit_id, options=[joinedload(Unit.building)])
        if unit is None or unit.project_id != project.id:
            raise NotFound(
                "unknown_code",
                "This code is not on our list for this project. Please ask a staff member for help.",
            )
        return unit
    unit = session.scalar(_UNIT_BY_CODE, {"project_id": project.id, "code": code})
    if unit is None:
        raise NotFound(
            "unknown_code",
            "This code is not on our list for this project. Please ask a staff member for help.",
        )
    return unit


# --- no notice: pickers plus digits -----------------------------------------------------------


def unit_pickers(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Buildings -> entrances -> floors -> rooms, for the on-screen pickers (no free text)."""
    rows = session.execute(
        select(Building.id, Building.code, Building.name, Unit.entrance, Unit.floor, Unit.room)
        .join(Unit, Unit.building_id == Building.id)
        .where(Building.project_id == project_id)
        .order_by(Building.sort, Building.id, Unit.entrance, Unit.floor, Unit.room)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for bid, code, name, entrance, floor, room in rows:
        b = out.setdefault(bid, {"id": bid, "code": code, "name": name, "entrances": {}})
        b["entrances"].setdefault(entrance, {}).setdefault(floor, []).append(room)
    return [
        {
            **b,
            "entrances": [
                {
                    "entrance": e,
                    "floors": [{"floor": f, "rooms": rooms} for f, rooms in floors.items()],
                }
                for e, floors in b["entrances"].items()
            ],
        }
        for b in out.values()
    ]


def _actor_filter(actor: Actor):
    if actor.device_id is not None:
        return AuditLog.device_id == actor.device_id
    return AuditLog.staff_id == actor.staff_id


def locked_until(session: Session, actor: Actor, now: datetime | None = None) -> datetime | None:
    """When the manual lookup opens again for this kiosk (None: open now)."""
    now = now or clock.now()
    rows = session.execute(
        select(AuditLog.action, AuditLog.at)
        .where(
            _actor_filter(actor),
            AuditLog.action.in_((LOOKUP_FAILED, LOOKUP_OK)),
            AuditLog.at >= now - timedelta(minutes=LOCK_MINUTES),
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(MAX_WRONG)
    ).all()
    if len(rows) < MAX_WRONG or any(action != LOOKUP_FAILED for action, _ in rows):
        return None
    until = rows[0][1] + timedelta(minutes=LOCK_MINUTES)
    return until if until > now else None


def _raise_if_locked(session: Session, actor: Actor) -> None:
    until = locked_until(session, actor)
    if until is not None:
        minutes = max(1, round((until - clock.now()).total_seconds() / 60))
        raise Locked(
            "lookup_locked",
            "Too many wrong numbers on this kiosk. Lookup without a notice is paused for %(minutes)s min; please ask a staff member.",
            minutes=minutes,
        )


def _digits_match(unit: Unit, digits: str) -> bool:
    for link in unit.owners:
        owner = link.owner
        if len(digits) == 4 and owner.phone and owner.phone[-4:] == digits:
            return True
        if len(digits) == 6:
            last6 = owner.id_last6 or (owner.id_number or "")[-6:]
            if last6 and hmac.compare_digest(last6.upper(), digits.upper()):
                return True
    return False


def manual_lookup(
    session: Session,
    *,
    project_id: int,
    building_id: int,
    entrance: str,
    room: str,
    digits: str,
    actor: Actor,
) -> Unit:
    """The unit, when the digits belong to one of its owners. A wrong answer is the same
    whether the unit exists or not, and is committed to the audit log before it is raised."""
    _raise_if_locked(session, actor)
    digits = (digits or "").strip()
    unit = session.scalar(
        select(Unit).where(
            Unit.project_id == project_id,
            Unit.building_id == building_id,
            Unit.entrance == entrance,
            Unit.room == room,
        )
    )
    if unit is None or len(digits) not in (4, 6) or not _digits_match(unit, digits):
        audit.record(session, actor, LOOKUP_FAILED, "unit", unit.id if unit else None, room=room)
        session.commit()
        _raise_if_locked(session, actor)
        raise Invalid(
            "lookup_no_match",
            "These numbers do not match this unit. Check the unit, or enter the last 4 digits of the phone number or the last 6 of the ID number of an owner.",
        )
    audit.record(session, actor, LOOKUP_OK, "unit", unit.id)
    session.commit()
    return unit


# --- what the owner sees before confirming ------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """The outcome a check-in would have now: on time, walk-in, or already checked in."""

    appointment: Appointment | None
    walk_in: bool
    visit: Visit | None  # already checked in today


def todays_visit(session: Session, unit: Unit, day) -> Visit | None:
    return session.scalar(_TODAYS_VISIT, {"unit_id": unit.id, "day": day})


def refuse_handed_over(unit: Unit) -> None:
    if unit.handed_over:
        raise Invalid("already_handed_over", "This unit has already been handed over.")


def arrival(session: Session, project: Project, unit: Unit, now: datetime) -> Arrival:
    """Raises the answer the owner must read (wrong day, no appointment, handed over)."""
    refuse_handed_over(unit)
    visit = todays_visit(session, unit, now.date())
    if visit is not None:
        return Arrival(visit.appointment, visit.walk_in, visit)
    return booked(project, unit.appointments, now)


def booked(project: Project, appointments, now: datetime) -> Arrival:
    """The outcome for a unit not checked in today, from its appointments (objects, or rows
    with id, day, slot_start and slot_end)."""
    appointments = sorted(appointments, key=lambda a: (a.day, a.slot_start))
    today = [a for a in appointments if a.day == now.date()]
    if today:
        return Arrival(today[0], False, None)
    upcoming = [a for a in appointments if a.day > now.date()]
    if upcoming:
        a = upcoming[0]
        raise Invalid(
            "wrong_day",
            "Your appointment is on %(day)s, %(start)s–%(end)s. Please come back then.",
            day=a.day.isoformat(),
            start=a.slot_start.strftime("%H:%M"),
            end=a.slot_end.strftime("%H:%M"),
        )
    if not project.walk_in_allowed:
        raise Invalid(
            "no_appointment",
            "There is no appointment for this unit today. Please go to the help desk: staff will arrange a time.",
        )
    return Arrival(None, True, None)


def preview(session: Session, project: Project, unit: Unit, now: datetime) -> dict[str, Any]:
    """Who the owner checks in as: masked name, unit, slot; nothing else personal."""
    found = arrival(session, project, unit, now)
    owner = unit.owners[0].owner if unit.owners else None
    appt = found.appointment
    return {
        "unit_id": unit.id,
        "unit": unit.label,
        "unit_en": unit.label_en,
        "owner": owner.masked_name if owner else None,
        "slot": None
        if appt is None
        else {
            "day": appt.day.isoformat(),
            "start": appt.slot_start.strftime("%H:%M"),
            "end": appt.slot_end.strftime("%H:%M"),
        },
        "walk_in": found.walk_in,
        "checked_in": found.visit.ticket_no if found.visit else None,
    }


# --- the confirm token: "this is me" and the confirming tap are two requests ---------------------


def _confirm_mac(secret: str, payload: str) -> str:
    key = hmac.new(secret.encode(), b"handover-kiosk-confirm-v1", hashlib.sha256).digest()
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def _who(actor: Actor) -> str:
    return f"d{actor.device_id}" if actor.device_id is not None else f"s{actor.staff_id}"


def confirm_token(secret: str, unit_id: int, actor: Actor, now_epoch: float | None = None) -> str:
    """Lets this kiosk (only) check the unit in within a few minutes, without scanning again
    and without the digits being sent twice."""
    expires = int((now_epoch or time.time()) + CONFIRM_SECONDS)
    payload = f"{unit_id}.{expires}.{_who(actor)}"
    return f"{unit_id}.{expires}.{_confirm_mac(secret, payload)}"


def read_confirm_token(
    secret: str, token: str, actor: Actor, now_epoch: float | None = None
) -> int:
    parts = (token or "").split(".")
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
        unit_id, expires = int(parts[0]), int(parts[1])
        good = hmac.compare_digest(
            parts[2], _confirm_mac(secret, f"{unit_id}.{expires}.{_who(actor)}")
        )
        if good and expires >= (now_epoch or time.time()):
            return unit_id
    raise Invalid("confirm_expired", "This took too long. Please scan or look up again.")
