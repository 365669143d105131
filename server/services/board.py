"""The display board's read model and who hears which call.

A board (a display device) may carry a filter in `Device.settings` (set by an admin):
`{"steps": ["inspect"], "areas": ["验房区"], "voice_en": false}`. A call reaches a board when
its step is among the board's steps (if any) and its counter's area among the board's areas (if
any). The server sends a board only the calls it shows, so a filtered board never announces
another area's numbers.

Rooms: every board joins `display` (waiting counts, notices, progress); calls go to
`board:all` (boards without a filter, and staff looking at the board) and to
`board:device:<id>` for each filtered board whose filter matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, distinct, func, select
from sqlalchemy.orm import Session

from server import clock
from server import realtime as rt
from server.engine import Invalid, NotFound
from server.models import Appointment, Device, Project, Step, Visit

from . import audit, board_notices, snapshots
from .actor import Actor

ALL_CALLS = "board:all"
BOARD_PROGRESS = rt.BOARD_PROGRESS  # handed over / appointed today
BOARD_SETTINGS = "board_settings"  # this board's filter changed: reconnect for the new one
RECENT_LIMIT = 30  # more than any screen fits; the board cuts to what it can show


def device_room(device_id: int) -> str:
    return f"board:device:{device_id}"


@dataclass(frozen=True)
class BoardFilter:
    steps: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    voice_en: bool = False
    device_id: int | None = None

    @classmethod
    def from_settings(cls, settings: dict | None, device_id: int | None = None) -> BoardFilter:
        s = settings or {}
        return cls(
            steps=tuple(str(x) for x in s.get("steps") or ()),
            areas=tuple(str(x) for x in s.get("areas") or ()),
            voice_en=bool(s.get("voice_en")),
            device_id=device_id,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.steps or self.areas)

    def matches(self, step_code: str, area: str | None) -> bool:
        return (not self.steps or step_code in self.steps) and (
            not self.areas or (area or "") in self.areas
        )

    def as_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "areas": list(self.areas), "voice_en": self.voice_en}


@dataclass
class BoardView:
    """What a connecting board needs: its rooms and its filter."""

    rooms: list[str] = field(default_factory=list)
    filter: BoardFilter = field(default_factory=BoardFilter)


def view_for(session: Session, device_id: int | None) -> BoardView:
    device = session.get(Device, device_id) if device_id is not None else None
    flt = BoardFilter.from_settings(device.settings if device else None, device_id)
    if flt.filtered:
        return BoardView([rt.DISPLAY, device_room(device_id)], flt)
    return BoardView([rt.DISPLAY, ALL_CALLS], flt)


def progress(session: Session, project_id: int, day: date) -> dict[str, int]:
    """Units handed over today (their visit finished) and units appointed for today."""
    handed = session.scalar(
        select(func.count(distinct(Visit.unit_id))).where(
            Visit.project_id == project_id, Visit.day == day, Visit.status == "finished"
        )
    )
    appointed = session.scalar(
        select(func.count(distinct(Appointment.unit_id))).where(
            Appointment.project_id == project_id, Appointment.day == day
        )
    )
    return {"handed_over": handed or 0, "appointed": appointed or 0}


def board_snapshot(
    session: Session, project_id: int, flt: BoardFilter, day: date | None = None
) -> dict[str, Any]:
    """The full board on (re)connect: only the calls and steps this board shows."""
    day = day or clock.today()
    project = session.get(Project, project_id)
    queue = snapshots.queue_state(session, project_id, day)
    steps = queue["steps"]
    if flt.steps:
        steps = [s for s in steps if s["code"] in flt.steps]
    calls = [
        c
        for c in snapshots.recent_calls(
            session, project_id, day, limit=RECENT_LIMIT * (3 if flt.filtered else 1)
        )
        if flt.matches(c["step"]["code"], c["counter"]["area"])
    ][:RECENT_LIMIT]
    return {
        "view": "display",
        "project": {"name": project.name, "name_en": project.name_en},
        "now": clock.now().isoformat(timespec="seconds"),
        "day": day.isoformat(),
        "device_id": flt.device_id,
        "filter": flt.as_dict(),
        "steps": steps,
        "counters": queue["counters"],
        "calls": calls,
        "progress": progress(session, project_id, day),
        "notices": board_notices.active_notices(session, project_id),
    }


# Read on every call: built once (a statement memoizes its cache key), plain rows.
_FILTERED_BOARDS = select(Device.id, Device.settings).where(
    Device.project_id == bindparam("project_id"),
    Device.kind == "display",
    Device.revoked.is_(False),
    Device.settings.is_not(None),
)


def call_rooms(session: Session, project_id: int, call: dict[str, Any]) -> list[str]:
    """The boards that show this call: unfiltered ones, and filtered ones that match it."""
    step_code, area = call["step"]["code"], call["counter"]["area"]
    rooms = [ALL_CALLS]
    params = {"project_id": project_id}
    devices = session.connection().execute(_FILTERED_BOARDS, params).all()
    for device_id, settings in devices:
        flt = BoardFilter.from_settings(settings)
        if flt.filtered and flt.matches(step_code, area):
            rooms.append(device_room(device_id))
    return rooms


def visit_changed(session: Session, visit: Visit) -> None:
    """A finished visit moves the day's progress; the boards show it at once."""
    if visit.status == "finished":
        rt.publish(
            session, BOARD_PROGRESS, progress(session, visit.project_id, visit.day), [rt.DISPLAY]
        )


def set_board_filter(
    session: Session,
    *,
    project_id: int,
    device_id: int,
    steps: list[str],
    areas: list[str],
    voice_en: bool,
    actor: Actor,
) -> Device:
    """Admin sets which calls one display shows; the board reconnects and shows only those."""
    device = session.get(Device, device_id)
    if device is None or device.project_id != project_id or device.kind != "display":
        raise NotFound("no_display", "This display does not exist.")
    known = set(session.scalars(select(Step.code).where(Step.project_id == project_id)))
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise Invalid("bad_step", "Unknown step: %(step)s", step=unknown[0])
    flt = BoardFilter(
        steps=tuple(dict.fromkeys(steps)),
        areas=tuple(dict.fromkeys(a.strip() for a in areas if a.strip())),
        voice_en=voice_en,
    )
    device.settings = {**(device.settings or {}), **flt.as_dict()}
    audit.record(session, actor, "board.filter", "device", device.id, **flt.as_dict())
    rt.publish(session, BOARD_SETTINGS, {"device_id": device.id}, [device_room(device.id)])
    rt.publish(session, BOARD_SETTINGS, {"device_id": device.id}, [ALL_CALLS])
    session.commit()
    return device
