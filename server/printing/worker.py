"""Sends queued print jobs. run_once() is one deterministic pass (tests drive it with their own
clock); PrintWorker runs it in a background thread of the app.

Delivery: a job is claimed with one conditional UPDATE (queued|failed -> sending) before any
byte leaves, and marked sent right after the printer took the bytes (in the same transaction
that claims the next job of that printer). Two
workers (threads or processes) never send the same job. No database transaction is held while
talking to a printer, so a slow printer never blocks a check-in (SQLite has one writer).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server import clock
from server.config import several_workers
from server.db import reading, writing
from server.models.printing import Printer, PrintJob

from .adapters import (
    DEFAULT_TIMEOUT,
    Health,
    PrinterConfig,
    PrinterUnavailable,
    check_health,
    send_bytes,
)
from .process import FifoWaker, PrintProcess, settings_from, wake_path
from .receipt import Receipt
from .recovery import resolve_interrupted, stale_cutoff
from .render_escpos import render_escpos

log = logging.getLogger(__name__)

BACKOFF_CAP = 60.0  # seconds: a printer back from a paper change prints within a minute
MAX_SEND_FAILURES = 20  # sending errors (not offline/paper-out waits) before staff must act
STATUS_REFRESH = timedelta(seconds=30)  # a healthy printer's "checked at" is this fresh
SessionFactory = Callable[[], Session]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_CAP, 2.0 ** max(0, attempts - 1)))


@dataclass
class RunResult:
    sent: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # printer offline / out of paper / none
    failed: list[int] = field(default_factory=list)
    health: dict[int, Health] = field(default_factory=dict)
    # printer id -> (last_status, last_status_at) as stored before this pass
    known_status: dict[int, tuple[str | None, datetime | None]] = field(default_factory=dict)


def run_once(
    session_factory: SessionFactory,
    now: datetime | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = 100,
) -> RunResult:
    now = now or clock.now()
    result = RunResult()
    # A claim far older than a send can take belongs to a sender that died: the receipt may
    # or may not have printed, so staff are told at once (recovery.py), not resent blindly.
    resolve_interrupted(session_factory, now=now, claimed_before=stale_cutoff(now, timeout))
    groups = _due_jobs(session_factory, now, limit, result)
    if not groups:
        return result
    if len(groups) == 1:
        ((cfg, ids),) = groups.items()
        _run_printer(session_factory, cfg, ids, now, timeout, result)
    else:
        # One unreachable printer's connect timeout must not hold up the others.
        with ThreadPoolExecutor(max_workers=min(8, len(groups))) as pool:
            for cfg, ids in groups.items():
                pool.submit(_run_printer, session_factory, cfg, ids, now, timeout, result)
    return result


def _due_jobs(
    session_factory: SessionFactory, now: datetime, limit: int, result: RunResult
) -> dict[PrinterConfig, list[int]]:
    with session_factory() as s:
        # Looking takes no write lock (SQLite): a pass that finds nothing to do costs the
        # check-ins nothing.
        reading(s)
        jobs = s.scalars(
            select(PrintJob)
            .where(
                PrintJob.state.in_(("queued", "failed")),
                PrintJob.next_attempt_at.is_not(None),
                PrintJob.next_attempt_at <= now,
            )
            .order_by(PrintJob.id)
            .limit(limit)
        ).all()
        if not jobs:
            s.rollback()
            return {}
        writing(s)  # ends the read; what follows starts from a fresh snapshot
        groups: dict[PrinterConfig, list[int]] = {}
        printers: dict[int, Printer | None] = {}
        for job in jobs:
            printer = _printer_of(s, job, printers)
            if printer is None or not printer.enabled:
                why = (
                    "no printer assigned / 未分配打印机"
                    if printer is None
                    else "printer disabled / 打印机已停用"
                )
                _wait(job, now, why)
                result.waiting.append(job.id)
                continue
            cfg = PrinterConfig.from_model(printer)
            groups.setdefault(cfg, []).append(job.id)
            result.known_status[cfg.id or 0] = (printer.last_status, printer.last_status_at)
        s.commit()
    return groups


def _printer_of(s: Session, job: PrintJob, cache: dict[int, Printer | None]) -> Printer | None:
    if job.printer_id is None:
        # Enqueued before any printer was assigned to its kiosk/counter: look again.
        from .jobs import printer_for

        found = printer_for(s, device_id=job.source_device_id, counter_id=job.source_counter_id)
        if found is None:
            return None
        job.printer_id = found.id
    if job.printer_id not in cache:
        cache[job.printer_id] = s.get(Printer, job.printer_id)
    return cache[job.printer_id]


def _wait(job: PrintJob, now: datetime, why: str) -> None:
    """Keep the job queued and look again later: nothing is lost while a printer is away."""
    job.attempts += 1
    job.last_error = why
    job.next_attempt_at = now + backoff(job.attempts)


def _run_printer(
    session_factory: SessionFactory,
    cfg: PrinterConfig,
    job_ids: list[int],
    now: datetime,
    timeout: float,
    result: RunResult,
) -> None:
    try:
        health = check_health(cfg, timeout)
        result.health[cfg.id or 0] = health
        last_status, last_at = result.known_status.get(cfg.id or 0, (None, None))
        # The printer's status row is rewritten when it changes or has not been for a while,
        # not on every pass: during a burst each write would queue behind the check-ins.
        if (
            not health.can_print
            or health.status != last_status
            or last_at is None
            or now - last_at >= STATUS_REFRESH
        ):
            with session_factory() as s:
                s.execute(
                    update(Printer)
                    .where(Printer.id == cfg.id)
                    .values(last_status=health.status, last_status_at=now, last_error=health.detail)
                )
                if not health.can_print:
                    for job in s.scalars(select(PrintJob).where(PrintJob.id.in_(job_ids))):
                        _wait(job, now, health.detail or health.status)
                        result.waiting.append(job.id)
                s.commit()
        if not health.can_print:
            return
        done: tuple[int, int, str | None] | None = None  # the job just sent, to be marked
        for job_id in job_ids:
            claimed = _mark_and_claim(session_factory, cfg, done, job_id, now, result)
            done = None
            if claimed is None:
                continue  # another worker has it, or staff redirected it meanwhile
            payload, attempts = claimed
            error, keep_going = _send(cfg, job_id, payload, timeout)
            done = (job_id, attempts, error)
            if not keep_going:
                break  # the printer went away mid-pass: its other jobs wait for the next pass
        if done is not None:
            _mark_and_claim(session_factory, cfg, done, None, now, result)
    except Exception:
        log.exception("print worker: printer %s", cfg.name)


def _send(
    cfg: PrinterConfig, job_id: int, payload: dict, timeout: float
) -> tuple[str | None, bool]:
    """Render (here, in the worker: never on a request) and send. (error, keep going)."""
    try:
        send_bytes(cfg, render_escpos(Receipt.from_dict(payload), cfg.target), timeout)
    except PrinterUnavailable as e:
        return f"{e}", False
    except Exception as e:  # a receipt that cannot be rendered (font missing, bad payload)
        log.exception("print job %s could not be rendered", job_id)
        return f"{type(e).__name__}: {e}", True
    return None, True


def _mark_and_claim(
    session_factory: SessionFactory,
    cfg: PrinterConfig,
    done: tuple[int, int, str | None] | None,
    job_id: int | None,
    now: datetime,
    result: RunResult,
) -> tuple[dict, int] | None:
    """One transaction: mark the job just sent (sent, or failed to retry later) and claim the
    next one (queued|failed -> sending) before any of its bytes leave. Two workers never send
    the same job; a burst of tickets costs one commit per ticket, not two."""
    with session_factory() as s:
        if done is not None:
            sent_id, attempts, error = done
            if error is None:
                values: dict = {"state": "sent", "sent_at": now, "last_error": None}
                result.sent.append(sent_id)
            else:
                retry = now + backoff(attempts) if attempts < MAX_SEND_FAILURES else None
                values = {"state": "failed", "last_error": error[:2000], "next_attempt_at": retry}
                result.failed.append(sent_id)
            s.execute(
                update(PrintJob)
                .where(PrintJob.id == sent_id, PrintJob.state == "sending")
                .values(**values)
            )
        claimed = None
        if job_id is not None:
            claimed = s.execute(
                update(PrintJob)
                .where(
                    PrintJob.id == job_id,
                    PrintJob.state.in_(("queued", "failed")),
                    or_(PrintJob.printer_id == cfg.id, PrintJob.printer_id.is_(None)),
                )
                .values(state="sending", claimed_at=now, attempts=PrintJob.attempts + 1)
                .returning(PrintJob.payload, PrintJob.attempts)
            ).first()
        s.commit()
    return (claimed[0], claimed[1]) if claimed is not None else None


def probe(session: Session, printer: Printer, timeout: float = DEFAULT_TIMEOUT) -> Health:
    """Check one printer now and store its status (admin page). Not committed."""
    health = check_health(PrinterConfig.from_model(printer), timeout)
    printer.last_status = health.status
    printer.last_status_at = clock.now()
    printer.last_error = health.detail
    return health


class PrintWorker(threading.Thread):
    """The app's background sender. wake() after a commit makes a ticket print at once."""

    def __init__(self, session_factory: SessionFactory, interval: float = 1.0):
        super().__init__(name="print-worker", daemon=True)
        self.session_factory = session_factory
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                run_once(self.session_factory)
            except Exception:
                log.exception("print worker pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def start_worker(session_factory: SessionFactory, interval: float = 1.0) -> PrintWorker:
    worker = PrintWorker(session_factory, interval)
    worker.start()
    return worker


# --- app integration ---------------------------------------------------------------------------

EXTENSION = "print_worker"


def init_app(app) -> PrintWorker | PrintProcess | FifoWaker | None:
    """Start this server process's sender (skipped when PRINT_WORKER is false, e.g. in tests
    that drive run_once themselves): a process of its own (process.py) where the platform can
    pass it a pipe, else a thread. With several serving processes one of them runs it and the
    others get a FifoWaker to wake it (claims are atomic all the same)."""
    if not app.config.get("PRINT_WORKER", True):
        return None
    db = app.extensions["handover_db"]
    # Before sending anything: jobs a killed process left in `sending` are resolved now.
    # With several server processes another one may be mid-send, so only older claims then.
    many = bool(app.config.get("SOCKETIO_MESSAGE_QUEUE"))
    try:
        now = clock.now()
        resolve_interrupted(db.factory, now=now, claimed_before=stale_cutoff(now) if many else now)
    except Exception:
        log.exception("print recovery at start-up failed")
    if os.name == "posix" and app.config.get("PRINT_PROCESS", True):
        settings = settings_from(app.config)
        if several_workers(app.config):
            # One sender for all serving processes: a printer takes one connection at a time,
            # and two senders racing for the same jobs spent their passes on lost claims
            # (saturated benchmark: tickets' p95 0.6-1.0 s with one, 3.1-3.7 s with two).
            fifo = wake_path(app.instance_path)
            if not _sender_lock(app.instance_path):
                app.extensions[EXTENSION] = FifoWaker(fifo)
                return app.extensions[EXTENSION]
            settings["WAKE_FIFO"] = str(fifo)
        worker: PrintWorker | PrintProcess = PrintProcess(settings).start()
    else:
        worker = start_worker(db.factory, float(app.config.get("PRINT_WORKER_INTERVAL", 1.0)))
    app.extensions[EXTENSION] = worker
    return worker


_held: list[int] = []  # the sender lock's file, open for as long as this process runs


def _sender_lock(instance_path: str) -> bool:
    """Whether this serving process runs the print process: the first to lock the file does;
    the kernel frees the lock when that process ends, and the one gunicorn starts in its
    place takes it."""
    import fcntl

    fd = os.open(os.path.join(instance_path, "print-sender.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held.append(fd)
    return True


def wake() -> None:
    """Call after committing a job: the ticket prints now rather than at the next poll."""
    from flask import current_app, has_app_context

    if has_app_context():
        worker = current_app.extensions.get(EXTENSION)
        if worker is not None:
            worker.wake()
