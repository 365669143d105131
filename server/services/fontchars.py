"""Which characters the screens may show that the committed web font lacks: names from the
database (owners, staff, project, buildings, steps, counters and their locations) and any text
added to the sources since the font was last rebuilt."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import webfont
from server.models import Building, Counter, Owner, Project, Staff, Step


def database_texts(session: Session) -> list[str]:
    columns = (
        Owner.name,
        Staff.display_name,
        Project.name,
        Project.venue,
        Project.address,
        Project.contact_name,
        Building.name,
        Step.name_zh,
        Counter.name_zh,
        Counter.location_zh,
        Counter.area,
    )
    out: list[str] = []
    for column in columns:
        out.extend(t for t in session.scalars(select(column).distinct()) if t)
    return out


def extra_chars(session: Session) -> str:
    source = "".join(webfont.source_chars())
    return webfont.missing_chars(chain(database_texts(session), [source]))
