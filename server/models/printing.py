"""Printers as configuration, and print jobs as durable rows (queued -> sent | failed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt

CONNECTION_KINDS = ("network", "usb", "serial", "file", "preview")
PRINT_MODES = ("native", "raster")
PAPER_WIDTHS = (58, 80)
JOB_KINDS = ("ticket", "key_receipt", "defect_list", "daily_tally", "test")
# sending: claimed by one worker, bytes on their way. A job found "sending" after a crash is
# not resent automatically: it becomes unsure ("may not have printed") for staff to check and
# reprint (server/printing/recovery.py).
UNSURE = "unsure"
JOB_STATES = ("queued", "sending", "sent", "failed", UNSURE)


class Printer(CreatedAt, Base):
    __tablename__ = "printers"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    connection: Mapped[str] = mapped_column(String(20), default="network")
    host: Mapped[str | None] = mapped_column(String(100))
    port: Mapped[int | None] = mapped_column(default=9100)
    usb_vendor_id: Mapped[int | None]
    usb_product_id: Mapped[int | None]
    serial_device: Mapped[str | None] = mapped_column(String(100))
    serial_baudrate: Mapped[int | None] = mapped_column(default=9600)
    file_path: Mapped[str | None] = mapped_column(String(255))
    paper_width_mm: Mapped[int] = mapped_column(default=80)
    mode: Mapped[str] = mapped_column(String(10), default="native")
    profile: Mapped[str] = mapped_column(String(40), default="default")
    native_qr: Mapped[bool] = mapped_column(default=False)
    # Where it stands: a kiosk's own printer, or a counter's. Jobs from there go here.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # ok | paper_low | paper_out | offline | unknown, as the worker or the admin last saw it.
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_status_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class PrintJob(CreatedAt, Base):
    __tablename__ = "print_jobs"
    __table_args__ = (
        # The worker reads exactly this: due jobs in creation order.
        Index("ix_print_jobs_due", "state", "next_attempt_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Receipt.to_dict(): re-rendered at send time, so a job can go to a printer of another
    # width or mode when staff redirect it.
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    source_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    source_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    # A reprint is a new job pointing at the one it repeats: the original stays as evidence.
    reprint_of_id: Mapped[int | None] = mapped_column(ForeignKey("print_jobs.id"))

    printer: Mapped[Printer | None] = relationship()
