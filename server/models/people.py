"""Who may ask: staff accounts with roles, and registered devices (kiosks, displays)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt

ROLES = ("admin", "supervisor", "staff")
DEVICE_KINDS = ("kiosk", "display", "counter")


class Staff(CreatedAt, Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    department: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Failed logins in a row and until when the account is locked (brute-force limit).
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class Device(CreatedAt, Base):
    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60))
    # Only a hash is stored: a leaked database does not let anyone impersonate a kiosk.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Short code the admin shows; typed or opened once on the device to pair it.
    pairing_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    area: Mapped[str | None] = mapped_column(String(40))
    revoked: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Per-device settings, e.g. a display's filter: {"steps": ["inspect"], "areas": ["验房区"]}.
    settings: Mapped[dict | None] = mapped_column(JSON)


class StaffSession(CreatedAt, Base):
    """A staff login, held server-side: the cookie carries only a random id whose hash is here,
    so logout, revocation and password changes end it at once."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
