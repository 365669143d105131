"""Venue time. Everything is stored as naive venue-local time: a handover day is one site in one
time zone, and staff read times off screens and receipts exactly as stored."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

_tz = ZoneInfo("Asia/Shanghai")


def set_timezone(name: str) -> None:
    global _tz
    _tz = ZoneInfo(name)


def now() -> datetime:
    return datetime.now(_tz).replace(tzinfo=None)


def today() -> date:
    return now().date()
