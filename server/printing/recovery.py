"""Print jobs caught in `sending` when a server process died (SIGKILL, power cut).

The owner already has a ticket number on screen; whether the paper came out is not known.
ESC/POS's real-time status (DLE EOT) tells whether the printer is online and has paper, not
whether one particular receipt came out, so resending could print it twice and not resending
could leave the owner without paper. The job is therefore marked `unsure` ("may not have
printed / 可能未打印") at once, with the printer's state as it answers now, and shows in the
counter's print problems and on the admin printers page, where one click reprints it.
A printer that puts nothing on paper (the "preview" connection) is simply sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server import clock
from server.db import reading
from server.models.printing import UNSURE, Printer, PrintJob

from .adapters import DEFAULT_TIMEOUT, PrinterConfig, check_health

log = logging.getLogger(__name__)

UNSURE_MESSAGE = "interrupted while sending: may not have printed / 发送时服务中断，可能未打印，请向业主核实后重打"


def resolve_interrupted(
    session_factory: Callable[[], Session],
    *,
    now: datetime | None = None,
    claimed_before: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[int]:
    """Resolve every job in `sending` claimed before `claimed_before` (default: now, i.e. all
    of them: at start-up no sender of this process is running). Returns the unsure job ids."""
    now = now or clock.now()
    cutoff = claimed_before or now
    with session_factory() as s:
        reading(s)  # every worker pass looks: that must not take SQLite's write lock
        jobs = s.execute(
            select(PrintJob.id, PrintJob.printer_id).where(
                PrintJob.state == "sending", PrintJob.claimed_at <= cutoff
            )
        ).all()
        configs = {
            p.id: PrinterConfig.from_model(p)
            for p in s.scalars(
                select(Printer).where(Printer.id.in_({pid for _id, pid in jobs if pid}))
            )
        }
        s.rollback()
    if not jobs:
        return []
    # Ask each printer once, outside any transaction (a dead printer takes `timeout`).
    health = {pid: check_health(cfg, timeout) for pid, cfg in configs.items()}
    unsure: list[int] = []
    with session_factory() as s:
        for job_id, printer_id in jobs:
            cfg = configs.get(printer_id)
            state = health.get(printer_id)
            if cfg is not None and cfg.connection == "preview":
                values = {"state": "queued", "next_attempt_at": now, "last_error": None}
            else:
                now_says = f" — {state.status}: {state.detail or ''}".rstrip(": ") if state else ""
                values = {
                    "state": UNSURE,
                    "next_attempt_at": None,
                    "last_error": (UNSURE_MESSAGE + now_says)[:2000],
                }
                unsure.append(job_id)
            s.execute(
                update(PrintJob)
                .where(PrintJob.id == job_id, PrintJob.state == "sending")
                .values(**values)
            )
        for pid, h in health.items():
            s.execute(
                update(Printer)
                .where(Printer.id == pid)
                .values(last_status=h.status, last_status_at=now, last_error=h.detail)
            )
        s.commit()
    if unsure:
        log.warning("print jobs interrupted while sending, may not have printed: %s", unsure)
    return unsure


def stale_cutoff(now: datetime, timeout: float = DEFAULT_TIMEOUT) -> datetime:
    """A claim older than any send takes (a long receipt to a slow printer blocks the writes
    while its buffer drains) belongs to a sender that died in another process."""
    return now - timedelta(seconds=max(60.0, 20 * timeout))
