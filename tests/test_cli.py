"""The commands a newcomer runs: `handover demo`, `init-db`, `create-admin`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from server.cli import main
from server.models import Printer, Staff, Unit
from tests.conftest import CsrfClient


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("HANDOVER_DATABASE_URL", raising=False)
    return tmp_path / "instance"


def test_demo_builds_the_venue_and_prints_urls_and_logins(instance):
    result = CliRunner().invoke(main, ["demo", "--no-run", "--port", "5099"])
    assert result.exit_code == 0, result.output
    out = result.output
    for url in ("/admin/", "/kiosk/", "/counter/", "/display/"):
        assert f"http://127.0.0.1:5099{url}" in out
    assert "handover-admin" in out and "staff01" in out
    assert re.search(r"/pair/[A-Z2-9]{8}", out)
    engine = create_engine(f"sqlite:///{instance / 'handover.db'}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Unit.__table__)) >= 600
        assert conn.scalar(select(func.count()).select_from(Printer.__table__)) >= 1
    engine.dispose()
    assert (instance / "secret_key").stat().st_size >= 32

    again = CliRunner().invoke(main, ["demo", "--no-run"])
    assert again.exit_code == 0 and "已存在" in again.output  # a second run keeps the venue


def test_admin_home_offers_demo_codes_that_check_in(instance):
    assert CliRunner().invoke(main, ["demo", "--no-run"]).exit_code == 0
    from server.app import create_app

    app = create_app({"PRINT_WORKER": False})
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert (
        client.post(
            "/api/login", json={"username": "staff01", "password": "handover-staff"}
        ).status_code
        == 200
    )
    page = client.get("/admin/").get_data(as_text=True)
    codes = re.findall(r"<code>(HD1\.[A-Za-z0-9_.-]{16,})</code>", page)  # signed codes
    assert codes, "the demo overview lists codes to try"
    r = client.post("/api/checkin", json={"code": codes[0]})
    assert r.status_code == 201 and r.get_json()["ticket_no"] == "A001"
    app.extensions["handover_db"].dispose()


def test_init_db_and_create_admin(instance):
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"]).exit_code == 0
    ok = runner.invoke(
        main, ["create-admin", "--username", "li", "--password", "s3cret-pass", "--name", "李经理"]
    )
    assert ok.exit_code == 0, ok.output
    weak = runner.invoke(main, ["create-admin", "--username", "wang", "--password", "short"])
    assert weak.exit_code != 0 and "8" in weak.output
    engine = create_engine(f"sqlite:///{instance / 'handover.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(Staff.__table__.c.username, Staff.__table__.c.role)).all() == [
            ("li", "admin")
        ]
    engine.dispose()
