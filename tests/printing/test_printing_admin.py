"""The admin printers page: list with health, test page, queue, reprint/redirect."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import Printer, PrintJob
from server.printing.worker import run_once

PASSWORD = "correct-horse-1"  # tests/conftest.py build_venue()


@pytest.fixture
def admin_client(app, venue):
    from admin.printing import bp

    if "admin_printing" not in app.blueprints:
        app.register_blueprint(bp)
    c = app.test_client()
    r = c.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200
    return c


def _db(app):
    return app.extensions["handover_db"]


def test_page_needs_login(app, venue):
    from admin.printing import bp

    if "admin_printing" not in app.blueprints:
        app.register_blueprint(bp)
    r = app.test_client().get("/admin/printers")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_add_check_test_print_and_redirect(app, admin_client, fake_printer, fake_printer_2):
    r = admin_client.get("/admin/printers")
    assert r.status_code == 200 and "打印机" in r.get_data(as_text=True)

    for name, fake in (("1号窗口", fake_printer), ("备用", fake_printer_2)):
        r = admin_client.post(
            "/admin/printers",
            data={
                "name": name,
                "connection": "network",
                "host": fake.host,
                "port": str(fake.port),
                "paper_width_mm": "58",
                "mode": "native",
            },
        )
        assert r.status_code == 302
    with _db(app).session() as s:
        p1, p2 = s.scalars(select(Printer).order_by(Printer.id)).all()

    assert admin_client.post(f"/admin/printers/{p1.id}/check").status_code == 302
    page = admin_client.get("/admin/printers").get_data(as_text=True)
    assert "正常" in page

    fake_printer.set_offline(True)
    assert admin_client.post(f"/admin/printers/{p1.id}/test").status_code == 302
    run_once(_db(app).factory, timeout=0.5)
    page = admin_client.get("/admin/printers").get_data(as_text=True)
    assert "离线" in page and "排队中" in page and "测试页" in page

    with _db(app).session() as s:
        job = s.scalars(select(PrintJob)).one()
    r = admin_client.post(f"/admin/print-jobs/{job.id}/reprint", data={"printer_id": str(p2.id)})
    assert r.status_code == 302
    assert run_once(_db(app).factory, timeout=2).sent == [job.id]
    assert len(fake_printer_2.wait_for(1)) == 1

    r = admin_client.get(f"/admin/print-jobs/{job.id}/preview.png")
    assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n"

    en = admin_client.get("/admin/printers?lang=en").get_data(as_text=True)
    assert "Print queue" in en and "Printed" in en
