"""Print jobs go out from a process beside the server (server/printing/process.py): a ticket
prints when the server wakes it, the process ends with its server however the server ends,
and writers of different processes queue on one lock instead of failing (server/db.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import select

from server.db import Database, make_engine
from server.models import Printer, PrintJob
from server.printing.fake_printer import FakePrinter
from server.printing.jobs import enqueue
from server.printing.process import PrintProcess, settings_from
from server.printing.receipt import Receipt
from tests.waiting import wait_until


def _queue_ticket(db: Database, project_id: int, printer: FakePrinter, text: str) -> int:
    host, port = printer.address
    with db.session() as s:
        p = s.scalar(select(Printer).where(Printer.port == port))
        if p is None:
            p = Printer(project_id=project_id, name="签到机打印机", host=host, port=port)
            s.add(p)
            s.flush()
        job = enqueue(s, kind="ticket", receipt=Receipt().text(text), printer=p)
        s.commit()
        return job.id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but was not yet reaped by its (dead) parent is gone for our purpose.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_woken_print_process_prints_the_ticket_and_stops_with_the_server(app, venue):
    db = app.extensions["handover_db"]
    # An hour between passes: only the wake-up can make the second ticket print soon.
    settings = {**settings_from(app.config), "PRINT_WORKER_INTERVAL": 3600.0}
    with FakePrinter() as printer:
        first = _queue_ticket(db, venue.project_id, printer, "A001")
        process = PrintProcess(settings).start()
        try:
            assert process.pid != os.getpid()
            assert len(printer.wait_for(1, timeout=20)) == 1  # the pass it makes as it starts
            second = _queue_ticket(db, venue.project_id, printer, "A002")
            process.wake()
            assert len(printer.wait_for(2, timeout=20)) == 2

            def states() -> list[str]:
                with db.session() as s:
                    ids = (first, second)
                    return sorted(s.scalars(select(PrintJob.state).where(PrintJob.id.in_(ids))))

            # Marked sent once the printer has taken the bytes, a moment after they arrive.
            assert wait_until(lambda: states() == ["sent", "sent"]), states()
        finally:
            pid = process.pid
            process.stop()
        assert not _alive(pid)


def test_a_killed_server_leaves_no_print_process_behind(tmp_path, sqlite_url):
    Database(sqlite_url).create_all()
    script = textwrap.dedent(
        f"""
        import sys, time
        from server.printing.process import PrintProcess
        p = PrintProcess({{"DATABASE_URL": {sqlite_url!r}, "TIMEZONE": "Asia/Shanghai",
                          "LOG_LEVEL": "WARNING", "PRINT_WORKER_INTERVAL": 0.2}}).start()
        print(p.pid, flush=True)
        time.sleep(120)
        """
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(server.stdout.readline())
        assert _alive(child)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert wait_until(lambda: not _alive(child)), "the print process outlived its server"
    finally:
        server.kill()


def test_a_writer_in_another_process_queues_for_the_write_lock_instead_of_failing(sqlite_url):
    """SQLite's own wait polls on a timer and gives up after its timeout; a second process
    (the print worker's) would see 'database is locked' or long naps. Here the other process
    allows SQLite only 50 ms, and this one holds the write lock for a second."""
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE marks (who TEXT)")
    writer = textwrap.dedent(
        f"""
        from sqlalchemy import event
        from server.db import make_engine
        engine = make_engine({sqlite_url!r})
        @event.listens_for(engine, "connect")
        def impatient(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA busy_timeout=50")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO marks VALUES ('other process')")
        print("written", flush=True)
        """
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO marks VALUES ('this process')")
        other = subprocess.Popen(
            [sys.executable, "-c", writer],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert other.poll() is None, other.communicate()  # still waiting, not failed
    out, err = other.communicate(timeout=30)
    assert other.returncode == 0, err
    assert out.strip() == "written"
    with engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("SELECT who FROM marks ORDER BY rowid")]
    assert rows == ["this process", "other process"]
    engine.dispose()
