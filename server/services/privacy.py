"""Owners' personal data: phone and ID numbers are shown masked unless the role needs them
(an admin on the owner's detail page); every full view and every export that holds them is
audited."""

from __future__ import annotations

from server.services.actor import Actor


def mask_phone(phone: str | None) -> str:
    p = phone or ""
    return f"{p[:3]}****{p[-4:]}" if len(p) >= 7 else ("****" if p else "")


def mask_name(name: str | None) -> str:
    """张*明: who signed, as a counter panel shows it (the full name stays on the record)."""
    n = name or ""
    if len(n) <= 1:
        return n
    if len(n) == 2:
        return n[0] + "*"
    return n[0] + "*" * (len(n) - 2) + n[-1]


def mask_id(id_number: str | None) -> str:
    v = id_number or ""
    if not v:
        return ""
    if len(v) <= 6:
        return "*" * len(v)
    return f"{v[:3]}{'*' * (len(v) - 7)}{v[-4:]}"


def may_see_full(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role == "admin"
