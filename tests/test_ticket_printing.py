"""A kiosk check-in prints its ticket through the durable queue; no printer never blocks it."""

from __future__ import annotations

from sqlalchemy import select

from server import auth
from server.models import Printer, PrintJob
from server.printing import worker
from server.printing.fake_printer import FakePrinter


def _paired_kiosk(app, venue):
    with app.extensions["handover_db"].session() as s:
        device = auth.create_device(s, project_id=venue.project_id, kind="kiosk", name="签到机1")
        s.commit()
        code, device_id = device.pairing_code, device.id
    client = app.test_client()
    assert client.get(f"/pair/{code}").status_code == 302
    return client, device_id


def test_kiosk_check_in_prints_the_ticket_on_its_printer(app, venue):
    client, device_id = _paired_kiosk(app, venue)
    db = app.extensions["handover_db"]
    with FakePrinter() as printer:
        host, port = printer.address
        with db.session() as s:
            s.add(
                Printer(
                    project_id=venue.project_id,
                    name="签到机1打印机",
                    connection="network",
                    host=host,
                    port=port,
                    paper_width_mm=80,
                    mode="native",
                    device_id=device_id,
                )
            )
            s.commit()
        r = client.post("/api/checkin", json={"code": venue.codes[0]})
        assert r.status_code == 201
        ticket = r.get_json()["ticket_no"]
        with db.session() as s:
            job = s.scalar(select(PrintJob))
            assert (job.kind, job.state, job.visit_id) == (
                "ticket",
                "queued",
                r.get_json()["visit_id"],
            )
        worker.run_once(db.factory)
        received = b"".join(printer.wait_for(1))
        with db.session() as s:
            assert s.scalar(select(PrintJob.state)) == "sent"
    assert ticket.encode("gb18030") in received
    assert "1栋1单元101".encode("gb18030") in received


def test_kiosk_without_printer_still_checks_in(app, venue):
    client, _ = _paired_kiosk(app, venue)
    r = client.post("/api/checkin", json={"code": venue.codes[1]})
    assert r.status_code == 201 and r.get_json()["ticket_no"] == "A001"
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(PrintJob)) is None


def test_offline_printer_does_not_block_check_in_and_prints_when_back(app, venue):
    client, device_id = _paired_kiosk(app, venue)
    db = app.extensions["handover_db"]
    with FakePrinter() as printer:
        printer.set_offline()
        host, port = printer.address
        with db.session() as s:
            s.add(
                Printer(
                    project_id=venue.project_id,
                    name="P",
                    connection="network",
                    host=host,
                    port=port,
                    device_id=device_id,
                    mode="raster",
                    paper_width_mm=58,
                )
            )
            s.commit()
        assert client.post("/api/checkin", json={"code": venue.codes[2]}).status_code == 201
        worker.run_once(db.factory, timeout=0.5)
        with db.session() as s:
            job = s.scalar(select(PrintJob))
            assert job.state in ("queued", "failed") and job.attempts >= 1
            later = job.next_attempt_at
        printer.set_offline(False)
        worker.run_once(db.factory, now=later, timeout=1.0)
        assert printer.wait_for(1)
        with db.session() as s:
            assert s.scalar(select(PrintJob.state)) == "sent"


def test_counter_sees_an_unprinted_receipt_and_prints_it_again(app, venue):
    from datetime import datetime

    from server.printing import jobs
    from server.printing.receipts import KeyItem, KeyReceiptData, key_receipt
    from tests.conftest import login

    db = app.extensions["handover_db"]
    keys_counter, other = venue.counters["W04"], venue.counters["W01"]
    client = app.test_client()
    login(client, "staff")
    with FakePrinter() as printer:
        printer.set_paper_out()
        host, port = printer.address
        with db.session() as s:
            p = Printer(
                project_id=venue.project_id,
                name="钥匙窗口打印机",
                connection="network",
                host=host,
                port=port,
                counter_id=keys_counter,
                mode="native",
                paper_width_mm=58,
            )
            s.add(p)
            s.flush()
            receipt = key_receipt(
                KeyReceiptData(
                    project_name="测试花园",
                    unit_label="1栋1单元101",
                    items=[KeyItem("入户门钥匙", 3)],
                    meters=[],
                    handed_at=datetime(2026, 11, 27, 10, 0),
                    staff_name="测试staff",
                )
            )
            job = jobs.enqueue(
                s, kind="key_receipt", receipt=receipt, printer=p, counter_id=keys_counter
            )
            s.commit()
            job_id = job.id
        worker.run_once(db.factory, timeout=0.5)
        problems = client.get(f"/api/counters/{keys_counter}").get_json()["print_problems"]
        assert [(j["id"], j["printer"]) for j in problems] == [(job_id, "钥匙窗口打印机")]
        assert client.get(f"/api/counters/{other}").get_json()["print_problems"] == []
        refused = client.post(f"/api/counters/{other}/print-jobs/{job_id}/reprint")
        assert refused.status_code == 404

        printer.set_paper_out(False)
        answer = client.post(f"/api/counters/{keys_counter}/print-jobs/{job_id}/reprint")
        assert answer.status_code == 200
        worker.run_once(db.factory, timeout=1.0)
        assert "入户门钥匙".encode("gb18030") in b"".join(printer.wait_for(1))
        assert client.get(f"/api/counters/{keys_counter}").get_json()["print_problems"] == []
