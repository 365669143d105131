from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server import clock
from server.models import AuditLog

from .actor import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    **data: Any,
) -> None:
    session.add(AuditLog(**values(actor, action, entity, entity_id, **data)))


def values(actor: Actor, action: str, entity: str, entity_id: int | None, **data: Any) -> dict:
    """The columns of one audit row (for a caller that inserts it itself)."""
    return {
        "at": clock.now(),
        "staff_id": actor.staff_id,
        "device_id": actor.device_id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "data": {k: v for k, v in data.items() if v is not None} or None,
    }
