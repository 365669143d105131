"""A ticket caught in `sending` by a crash is resolved at start-up, never silently later
(issue 7, finding 6): the printer is asked how it is, the job is marked "may not have printed"
and shows on the counter and the admin printers page at once; one click reprints it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.models import Printer, PrintJob
from server.printing import worker
from server.printing.fake_printer import FakePrinter
from server.printing.receipt import Receipt
from tests.conftest import login


def _stuck_job(app, venue, printer: FakePrinter, connection: str = "network") -> int:
    """What a SIGKILL mid-send leaves: a claimed job in `sending`, nothing marks it sent."""
    host, port = printer.address
    with app.extensions["handover_db"].session() as s:
        p = Printer(
            project_id=venue.project_id,
            name="1号窗口打印机",
            connection=connection,
            host=host,
            port=port,
            counter_id=venue.counters["W01"],
        )
        s.add(p)
        s.flush()
        job = PrintJob(
            printer_id=p.id,
            kind="ticket",
            payload=Receipt().text("A001", size="huge").to_dict(),
            state="sending",
            attempts=1,
            claimed_at=clock.now() - timedelta(seconds=2),
            source_counter_id=venue.counters["W01"],
        )
        s.add(job)
        s.commit()
        return job.id


def test_a_job_interrupted_while_sending_is_shown_at_start_up(app, venue):
    db = app.extensions["handover_db"]
    with FakePrinter() as printer:
        printer.set_paper_low()
        job_id = _stuck_job(app, venue, printer)
        app.config["PRINT_WORKER"] = True
        app.config["PRINT_WORKER_INTERVAL"] = 3600.0  # only the start-up pass matters here
        started = worker.init_app(app)  # what a (re)started server process does first
        try:
            with db.session() as s:
                job = s.get(PrintJob, job_id)
                printer_row = s.get(Printer, job.printer_id)
                assert job.state == "unsure"
                assert "可能未打印" in job.last_error
                # The printer was asked (DLE EOT), and what it said is kept for staff.
                assert printer_row.last_status == "paper_low"
                assert "paper_low" in job.last_error
            assert printer.status_queries > 0
            assert printer.received == []  # not resent blindly: it may have printed

            staff = app.test_client()
            login(staff, "supervisor")
            counter = staff.get(f"/api/counters/{venue.counters['W01']}").get_json()
            problem = next(p for p in counter["print_problems"] if p["id"] == job_id)
            assert problem["state"] == "unsure"
            page = staff.get("/admin/printers").get_data(as_text=True)
            assert "可能未打印" in page

            # Staff checked with the owner: one click prints it, once.
            r = staff.post(f"/api/counters/{venue.counters['W01']}/print-jobs/{job_id}/reprint")
            assert r.status_code == 200, r.get_json()
            worker.run_once(db.factory)
            assert len(printer.wait_for(1)) == 1
            counter = staff.get(f"/api/counters/{venue.counters['W01']}").get_json()
            assert [p for p in counter["print_problems"] if p["id"] == job_id] == []
        finally:
            started.stop()


def test_a_preview_printer_simply_sends_it_again(app, venue):
    db = app.extensions["handover_db"]
    with FakePrinter() as printer:
        job_id = _stuck_job(app, venue, printer, connection="preview")
    worker.run_once(db.factory, now=clock.now() + timedelta(minutes=2))
    with db.session() as s:
        assert s.get(PrintJob, job_id).state == "sent"


def test_a_claim_older_than_any_send_is_resolved_by_the_running_worker(app, venue):
    """Another process died mid-send: the living worker sees it within a minute, not five."""
    db = app.extensions["handover_db"]
    with FakePrinter() as printer:
        job_id = _stuck_job(app, venue, printer)
        worker.run_once(db.factory, now=clock.now() + timedelta(seconds=5))
        with db.session() as s:
            assert s.scalar(select(PrintJob.state).where(PrintJob.id == job_id)) == "sending"
        worker.run_once(db.factory, now=clock.now() + timedelta(seconds=70))
        with db.session() as s:
            assert s.scalar(select(PrintJob.state).where(PrintJob.id == job_id)) == "unsure"
        assert printer.received == []
