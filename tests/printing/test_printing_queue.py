"""The durable print queue: enqueue inside the caller's transaction, worker delivery exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from server.models import Printer, PrintJob
from server.printing import jobs
from server.printing.receipt import Receipt
from server.printing.receipts import ticket_receipt
from server.printing.render_escpos import RenderTarget, render_escpos
from server.printing.worker import BACKOFF_CAP, backoff, run_once

T0 = datetime(2026, 11, 27, 9, 12)


def _job(db, job_id) -> PrintJob:
    with db.session() as s:
        return s.get(PrintJob, job_id)


def _enqueue(db, receipt, **kw) -> int:
    with db.session() as s:
        job = jobs.enqueue(s, kind="ticket", receipt=receipt, now=T0, **kw)
        s.commit()
        return job.id


def test_enqueue_does_not_commit(add_printer, db, ticket_data, fake_printer):
    pid = add_printer(db, fake_printer)
    with db.session() as s:
        jobs.enqueue(s, kind="ticket", receipt=ticket_receipt(ticket_data), printer=pid)
        s.rollback()
    with db.session() as s:
        assert s.scalars(select(PrintJob)).all() == []


def test_printer_for_device_then_counter(add_printer, db, fake_printer):
    from server.models import Counter

    with db.session() as s:
        s.add(Counter(project_id=1, code="W01", name_zh="1号窗口", name_en="Counter 1"))
        s.commit()
    pid = add_printer(db, fake_printer, counter_id=1)
    add_printer(db, fake_printer, name="off", counter_id=1, enabled=False)
    with db.session() as s:
        assert jobs.printer_for(s, counter_id=1).id == pid
        assert jobs.printer_for(s, device_id=99) is None
        job = jobs.enqueue(s, kind="key_receipt", receipt=Receipt(), counter_id=1)
        assert job.printer_id == pid


def test_offline_then_back_delivered_exactly_once(add_printer, db, ticket_data, fake_printer):
    pid = add_printer(db, fake_printer, mode="native", paper_width_mm=58)
    receipt = ticket_receipt(ticket_data)
    job_id = _enqueue(db, receipt, printer=pid)
    expected = render_escpos(receipt, RenderTarget(58, "native"))

    fake_printer.set_offline(True)
    now = T0
    for n in range(1, 4):
        result = run_once(db.factory, now, timeout=0.5)
        assert result.waiting == [job_id] and not result.sent
        job = _job(db, job_id)
        assert job.state == "queued" and job.attempts == n and job.last_error
        assert job.next_attempt_at == now + backoff(n)
        # Not due yet: nothing happens before the backoff has passed.
        assert run_once(db.factory, now + backoff(n) - timedelta(milliseconds=1)).waiting == []
        now = job.next_attempt_at

    fake_printer.set_offline(False)
    result = run_once(db.factory, now, timeout=2)
    assert result.sent == [job_id]
    for later in range(1, 5):  # further passes must not print it again
        assert run_once(db.factory, now + timedelta(minutes=later)).sent == []
    assert fake_printer.wait_for(1) == [expected]
    assert len(fake_printer.wait_for(2, timeout=0.3)) == 1
    job = _job(db, job_id)
    assert job.state == "sent" and job.sent_at == now
    with db.session() as s:
        assert s.get(Printer, pid).last_status == "ok"


def test_paper_out_keeps_job_queued(add_printer, db, ticket_data, fake_printer):
    pid = add_printer(db, fake_printer)
    job_id = _enqueue(db, ticket_receipt(ticket_data), printer=pid)
    fake_printer.set_paper_out()
    now = T0
    for _ in range(3):
        run_once(db.factory, now, timeout=2)
        now += timedelta(seconds=BACKOFF_CAP)
    job = _job(db, job_id)
    assert job.state == "queued" and "缺纸" in job.last_error
    assert fake_printer.received == []
    with db.session() as s:
        assert s.get(Printer, pid).last_status == "paper_out"
    fake_printer.set_paper_out(False)
    assert run_once(db.factory, now, timeout=2).sent == [job_id]
    assert len(fake_printer.wait_for(1)) == 1


def test_jobs_print_in_order_and_each_once(add_printer, db, ticket_data, fake_printer):
    pid = add_printer(db, fake_printer, mode="raster", paper_width_mm=80)
    ids = []
    for no in ("A001", "A002", "A003"):
        ticket_data.ticket_no = no
        ids.append(_enqueue(db, ticket_receipt(ticket_data), printer=pid))
    assert run_once(db.factory, T0, timeout=2).sent == ids
    got = fake_printer.wait_for(3)
    assert len(got) == 3
    assert run_once(db.factory, T0 + timedelta(minutes=1)).sent == []


def test_reprint_redirects_queued_job(add_printer, db, ticket_data, fake_printer, fake_printer_2):
    p1 = add_printer(db, fake_printer, name="dead")
    p2 = add_printer(db, fake_printer_2, name="spare", mode="raster", paper_width_mm=80)
    receipt = ticket_receipt(ticket_data)
    job_id = _enqueue(db, receipt, printer=p1)
    fake_printer.set_offline(True)
    run_once(db.factory, T0, timeout=0.5)
    with db.session() as s:
        moved = jobs.reprint(s, job_id, printer_id=p2, now=T0)
        s.commit()
        assert moved.id == job_id
    assert run_once(db.factory, T0, timeout=2).sent == [job_id]
    assert fake_printer_2.wait_for(1) == [render_escpos(receipt, RenderTarget(80, "raster"))]
    fake_printer.set_offline(False)
    assert run_once(db.factory, T0 + timedelta(minutes=5), timeout=2).sent == []
    assert fake_printer.received == []


def test_reprint_of_sent_job_is_a_new_job(add_printer, db, ticket_data, fake_printer):
    pid = add_printer(db, fake_printer)
    job_id = _enqueue(db, ticket_receipt(ticket_data), printer=pid)
    run_once(db.factory, T0, timeout=2)
    with db.session() as s:
        again = jobs.reprint(s, job_id, now=T0)
        s.commit()
        assert again.id != job_id and again.reprint_of_id == job_id
    assert run_once(db.factory, T0, timeout=2).sent == [again.id]
    assert len(fake_printer.wait_for(2)) == 2
    assert _job(db, job_id).state == "sent"


def test_job_without_printer_waits_for_assignment(add_printer, db, ticket_data, fake_printer):
    from server.models import Device

    with db.session() as s:
        s.add(Device(project_id=1, kind="kiosk", name="K1", token_hash="x" * 64))
        s.commit()
    job_id = _enqueue(db, ticket_receipt(ticket_data), device_id=1)
    assert run_once(db.factory, T0).waiting == [job_id]
    add_printer(db, fake_printer, device_id=1)
    assert run_once(db.factory, T0 + timedelta(seconds=2), timeout=2).sent == [job_id]


def test_claim_is_exclusive(add_printer, db, ticket_data, fake_printer):
    """Two workers racing over the same due jobs: each job printed once."""
    import threading

    pid = add_printer(db, fake_printer)
    ids = [_enqueue(db, ticket_receipt(ticket_data), printer=pid) for _ in range(5)]
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(run_once(db.factory, T0, timeout=2)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = sorted(i for r in results for i in r.sent)
    assert sent == ids
    assert len(fake_printer.wait_for(5)) == 5
    assert len(fake_printer.wait_for(6, timeout=0.3)) == 5
