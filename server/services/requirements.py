"""What a step still needs before it can be completed, by the step's kind.

    MISSING[kind](session, visit_step) -> list of things missing (each {"code", "text"})

A step whose panel lists anything missing cannot be completed, unless a supervisor overrides
with a reason (server.services.queue.complete logs it). Each panel module registers its own
check with `register`; the inspection stream plugs its `inspect` kind in here at merge:

    from server.services import inspection
    register("inspect", inspection.missing)
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

    # The inspection stream registers "inspect" here (inspection.missing(session, visit)).
    try:
        from . import inspection  # type: ignore[attr-defined]
    except ImportError:
        return
    check = getattr(inspection, "missing", None)
    if check is not None and "inspect" not in MISSING:
        register("inspect", lambda session, vs: check(session, vs.visit))
