"""What a step still needs before it can be completed, by the step's kind.

    MISSING[kind](session, visit_step) -> list of things missing (each {"code", "text"})

A step whose panel lists anything missing cannot be completed, unless a supervisor overrides
with a reason (server.services.queue.complete logs it). Each panel module registers its own
check with `register`; the inspection's check (outcome and signature from the tablet) is
adapted here from `inspection.missing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from server.models import VisitStep

Missing = list[dict[str, Any]]
Check = Callable[[Session, VisitStep], Missing]

MISSING: dict[str, Check] = {}


def register(kind: str, check: Check) -> None:
    MISSING[kind] = check


def missing(session: Session, vs: VisitStep) -> Missing:
    _load_panels()
    check = MISSING.get(vs.step.kind or "generic")
    return check(session, vs) if check else []


def _load_panels() -> None:
    # Importing a panel module registers its check (kept lazy: no import cycle with queue).
    from . import fees, key_handover, signing, verification  # noqa: F401

    if "inspect" not in MISSING:
        register("inspect", _inspection_missing)


def _inspection_missing(session: Session, vs: VisitStep) -> Missing:
    """The acceptance form's outcome and the owner's signature (recorded on the tablet)."""
    from server.i18n import translate

    from . import inspection

    return [
        {"code": "inspection", "text_zh": translate(m, "zh_CN"), "text_en": m}
        for m in inspection.missing(session, vs.visit)
    ]
