"""The help desk (服务台): staff check owners in there, and the ticket prints on its printer.

A kiosk prints on its own printer. A staff member checking someone in prints on the printer
of the counter they hold, or else on the help desk's: the counter coded `HELP`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Counter

from .actor import Actor

HELP_DESK_CODE = "HELP"


def printing_counter(session: Session, actor: Actor, project_id: int) -> int | None:
    if actor.device_id is not None or actor.staff_id is None:
        return None
    held = session.scalar(
        select(Counter.id)
        .where(Counter.project_id == project_id, Counter.staff_id == actor.staff_id)
        .limit(1)
    )
    if held is not None:
        return held
    return session.scalar(
        select(Counter.id).where(Counter.project_id == project_id, Counter.code == HELP_DESK_CODE)
    )
