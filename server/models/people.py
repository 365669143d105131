"""Who may ask: staff accounts with roles, and registered devices (kiosks, displays)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
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
