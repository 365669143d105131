"""Signed handover-notice codes: what the QR code on an owner's notice carries.

`HD1.<project code>.<unit id>.<mac>`: the MAC is HMAC-SHA256 over the project and unit with a
key derived from the instance secret, cut to 128 bits. Nobody can guess or forge a code, a
tampered one fails the check, and a code from another project (or another server) is refused
with an answer that says so. Nothing is stored: the code is recomputed when notices are printed.

Codes of an imported `Unit.notice_code` (notices printed by the developer's own system before
the day) are still looked up as they are: see `server.services.lookup.unit_for_code`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "HD1"
_SIGNED = re.compile(r"^HD1\.([A-Za-z0-9_-]{1,40})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class NoticeCode:
    project_code: str
    unit_id: int


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    # A key of its own: a notice MAC can never be mistaken for a session signature.
    return hmac.new(raw, b"handover-notice-code-v1", hashlib.sha256).digest()


def _mac(secret: str | bytes, project_code: str, unit_id: int) -> str:
    digest = hmac.new(_key(secret), f"{project_code}:{unit_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def sign(secret: str | bytes, project_code: str, unit_id: int) -> str:
    return f"{PREFIX}.{project_code}.{unit_id}.{_mac(secret, project_code, unit_id)}"


def looks_signed(code: str) -> bool:
    return code.startswith(PREFIX + ".")


def verify(secret: str | bytes, code: str) -> NoticeCode | None:
    """The project and unit of a genuine code; None for anything tampered or malformed."""
    m = _SIGNED.match(code)
    if not m:
        return None
    project_code, unit_id, mac = m.group(1), int(m.group(2)), m.group(3)
    if not hmac.compare_digest(mac, _mac(secret, project_code, unit_id)):
        return None
    return NoticeCode(project_code, unit_id)
