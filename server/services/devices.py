"""Kiosks and displays: registering them, pairing codes, and the tokens they get by pairing.

Only a token's hash is stored. server.auth asks `device_identity` on every device request.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server import clock
from server.actor import Actor
from server.engine import Invalid, NotFound
from server.models import Device

from . import audit

DEVICE_KINDS = ("kiosk", "display", "counter")
# Pairing codes avoid 0/O and 1/I: they are read off one screen and typed on another.
_PAIR_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_pairing_code() -> str:
    return "".join(secrets.choice(_PAIR_ALPHABET) for _ in range(8))


def create_device(
    session: Session, *, project_id: int, kind: str, name: str, area: str | None = None
) -> Device:
    """Registered by an admin; the device gets its token when it opens the pairing link."""
    if kind not in DEVICE_KINDS:
        raise Invalid("bad_device_kind", "Unknown device kind: %(kind)s", kind=kind)
    device = Device(
        project_id=project_id,
        kind=kind,
        name=name,
        area=area,
        token_hash=hash_token(secrets.token_urlsafe(32)),  # unusable until paired
        pairing_code=new_pairing_code(),
    )
    session.add(device)
    return device


def register_device(
    session: Session, *, project_id: int, kind: str, name: str, area: str | None, actor: Actor
) -> Device:
    device = create_device(session, project_id=project_id, kind=kind, name=name, area=area)
    session.flush()
    audit.record(session, actor, "device.create", "device", device.id, kind=kind, name=name)
    session.commit()
    return device


def pair_device(session: Session, code: str) -> tuple[Device, str]:
    """Trades a one-time pairing code for a long-lived token (only its hash is stored)."""
    code = (code or "").strip().upper()
    device = session.scalar(
        select(Device).where(Device.pairing_code == code, Device.revoked.is_(False))
    )
    if device is None or not code:
        raise NotFound(
            "bad_pairing_code", "This pairing code is not valid. Ask an admin for a new one."
        )
    token = secrets.token_urlsafe(32)
    device.token_hash = hash_token(token)
    device.pairing_code = None
    device.last_seen_at = clock.now()
    return device, token


def pair(session: Session, code: str) -> tuple[Device, str]:
    """pair_device, audited and committed: the device's own first act."""
    device, token = pair_device(session, code)
    audit.record(
        session, Actor(device_id=device.id, role=device.kind), "device.pair", "device", device.id
    )
    session.commit()
    return device, token


# Asked before every device request: built once, on the table (plain SQL, no ORM entity), and
# only the columns the actor needs.
_d = Device.__table__.c
_BY_TOKEN = select(_d.id, _d.kind, _d.name, _d.token_hash).where(
    _d.token_hash == bindparam("token_hash"), _d.revoked.is_(False)
)


def device_identity(session: Session, token: str | None):
    """(id, kind, name, token_hash) of the device holding `token`, if paired and not revoked:
    what auth needs, without loading the Device object."""
    if not token:
        return None
    return session.connection().execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()


def new_pairing(session: Session, device: Device, *, actor: Actor) -> None:
    """A new code; the old token stops working once the device pairs again."""
    device.pairing_code = new_pairing_code()
    device.revoked = False
    audit.record(session, actor, "device.repair", "device", device.id)
    session.commit()


def revoke(session: Session, device: Device, *, actor: Actor) -> None:
    device.revoked = True
    device.pairing_code = None
    audit.record(session, actor, "device.revoke", "device", device.id)
    session.commit()
