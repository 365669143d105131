"""Demo owners get whole (fake, but well-formed) ID numbers: 18 digits with a valid check
digit, so the admin's masked views, the detail page and a re-import of exported data behave
as with real data."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.models import Owner, Project
from server.services.imports.rows import id_check_digit

# Districts near a typical development (Guangzhou, Foshan, Shenzhen) and a few from afar.
REGIONS = (
    "440106",
    "440105",
    "440111",
    "440604",
    "440606",
    "440305",
    "440304",
    "430104",
    "360102",
    "450103",
    "510107",
    "420106",
)


def fake_id_number(rng: random.Random) -> str:
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 46))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def seed_admin(session: Session, project: Project, rng: random.Random) -> None:
    used: set[str] = set()
    rows = []
    for owner_id in session.scalars(select(Owner.id).where(Owner.project_id == project.id)):
        number = fake_id_number(rng)
        while number in used:
            number = fake_id_number(rng)
        used.add(number)
        rows.append(
            {"id": owner_id, "id_number": number, "id_last4": number[-4:], "id_last6": number[-6:]}
        )
    if rows:
        session.execute(update(Owner), rows)
