"""An inspection step, two inspection teams and the demo's rooms/checklist/categories on top of
the small test venue; a helper that brings a visit to an inspector's tablet."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from PIL import Image
from sqlalchemy import select

from server.demo_inspect import seed_inspect
from server.models import Counter, KnownIssue, Project, Step, Unit
from server.services import checkin, inspection, queue
from server.services.actor import Actor


def add_inspection(session, venue) -> dict[str, int]:
    step = Step(
        project_id=venue.project_id,
        code="inspect",
        name_zh="验房",
        name_en="Inspection",
        sort=5,
        kind="inspect",
        default_service_minutes=45,
    )
    session.add(step)
    session.flush()
    ids = {"step": step.id}
    for n in (1, 2):
        c = Counter(
            project_id=venue.project_id,
            code=f"Y0{n}",
            name_zh=f"验房员{n}组",
            name_en=f"Inspection team {n}",
        )
        c.steps = [step]
        session.add(c)
        session.flush()
        ids[f"Y0{n}"] = c.id
    seed_inspect(session, session.get(Project, venue.project_id), random.Random(7))
    unit = session.scalar(select(Unit).where(Unit.notice_code == venue.codes[0]))
    ki = KnownIssue(
        project_id=venue.project_id,
        unit_id=unit.id,
        room_code="bathroom",
        description="卫生间下水管根部有渗水痕迹",
        source="第二轮内部模拟验收",
    )
    session.add(ki)
    session.commit()
    ids["known_issue"] = ki.id
    return ids


def to_inspection(session, venue, ids, *, code_index=0, counter="Y01", now: datetime | None = None):
    """Checks a unit in, sends it to inspection, calls it at `counter` and starts the walk."""
    now = now or venue.day + timedelta(minutes=code_index + 1)
    actor = Actor(staff_id=venue.staff["staff"], role="staff")
    visit = checkin.check_in(
        session, project_id=venue.project_id, code=venue.codes[code_index], actor=actor, now=now
    )
    queue.transfer(session, visit_id=visit.id, to_step="inspect", actor=actor, now=now)
    vs = queue.call_next(session, counter_id=ids[counter], actor=actor, now=now)
    assert vs is not None and vs.visit_id == visit.id
    inspection.take_walk(
        session,
        counter=session.get(Counter, ids[counter]),
        visit_step_id=vs.id,
        actor=actor,
        now=now,
    )
    return visit


def jpeg(color=(180, 120, 90), size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png(size=(300, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (255, 255, 255, 0)).save(out, "PNG")
    return out.getvalue()
