"""Registering kiosks and displays; they get their token later by pairing (server.auth)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server import auth
from server.models import Device

from . import audit
from .actor import Actor


def register_device(
    session: Session, *, project_id: int, kind: str, name: str, area: str | None, actor: Actor
) -> Device:
    device = auth.create_device(session, project_id=project_id, kind=kind, name=name, area=area)
    session.flush()
    audit.record(session, actor, "device.create", "device", device.id, kind=kind, name=name)
    session.commit()
    return device
