"""Ticket numbers: prefix + three digits (A001..A999), then four digits rather than reuse."""

from __future__ import annotations

import re

from .errors import Invalid

_TICKET = re.compile(r"^([A-Z]{1,4})(\d{3,4})$")


def format_ticket(prefix: str, seq: int) -> str:
    if not prefix.isalpha() or not prefix.isupper():
        raise Invalid("bad_prefix", "Ticket prefix must be capital letters.")
    if seq < 1:
        raise Invalid("bad_sequence", "Ticket sequence starts at 1.")
    return f"{prefix}{seq:03d}"


def parse_ticket(text: str) -> tuple[str, int]:
    m = _TICKET.match(text.strip().upper())
    if not m:
        raise Invalid("bad_ticket", "Not a ticket number: %(text)s", text=text[:20])
    return m.group(1), int(m.group(2))
