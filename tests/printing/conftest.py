"""Fixtures for the printing tests: sample receipt data, a database with printers, fake printers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from server.db import Database
from server.models import Printer, Project
from server.printing.fake_printer import FakePrinter
from server.printing.receipts import (
    DailyTallyData,
    DefectLine,
    DefectListData,
    KeyItem,
    KeyReceiptData,
    MeterReading,
    TallyRow,
    TicketData,
)

T0 = datetime(2026, 11, 27, 9, 12)
STATUS_URL = "http://192.168.1.10:5000/s/Zx8kQ2mPa7LrT0vWbN3cYhJ4"


@pytest.fixture
def ticket_data() -> TicketData:
    return TicketData(
        project_name="锦绣花园二期",
        ticket_no="A023",
        unit_label="3栋2单元1201",
        checked_in_at=T0,
        status_url=STATUS_URL,
        steps=["资料审核", "收费确认", "签约", "验房", "钥匙交接"],
        estimated_wait_min=25,
        people_ahead=6,
    )


@pytest.fixture
def key_data() -> KeyReceiptData:
    return KeyReceiptData(
        project_name="锦绣花园二期",
        unit_label="3栋2单元1201",
        items=[KeyItem("入户门钥匙", 3), KeyItem("门禁卡", 2), KeyItem("信报箱钥匙", 2)],
        meters=[
            MeterReading("water", "00012.3"),
            MeterReading("electricity", "000045.6"),
            MeterReading("gas", "0003.2"),
        ],
        handed_at=datetime(2026, 11, 27, 11, 40),
        staff_name="李娜",
        receiver_name="王建国",
    )


@pytest.fixture
def defect_data() -> DefectListData:
    return DefectListData(
        project_name="锦绣花园二期",
        unit_label="3栋2单元1201",
        defects=[DefectLine("主卧", "墙面", "空鼓约20cm"), DefectLine("卫生间", "地漏", "排水慢")],
        recorded_at=datetime(2026, 11, 27, 10, 55),
        staff_name="赵工",
        result="带问题接收",
    )


@pytest.fixture
def tally_data() -> DailyTallyData:
    return DailyTallyData(
        project_name="锦绣花园二期",
        day=date(2026, 11, 27),
        rows=[
            TallyRow("签到", 312),
            TallyRow("完成交付", 287),
            TallyRow("拒收", 4),
            TallyRow("物业费合计", Decimal("1234567.8")),
        ],
        printed_at=datetime(2026, 11, 27, 18, 30),
    )


@pytest.fixture
def db(tmp_path):
    database = Database("sqlite:///" + str(tmp_path / "t.db"))
    database.create_all()
    with database.session() as s:
        s.add(Project(code="p", name="测试项目"))
        s.commit()
    yield database
    database.dispose()


@pytest.fixture
def fake_printer():
    fp = FakePrinter(port=0).start()
    yield fp
    fp.stop()


@pytest.fixture
def fake_printer_2():
    fp = FakePrinter(port=0).start()
    yield fp
    fp.stop()


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def add_printer():
    return _add_printer


def _add_printer(db: Database, fake: FakePrinter, name: str = "kiosk-1", **kw) -> int:
    with db.session() as s:
        p = Printer(
            project_id=1,
            name=name,
            connection="network",
            host=fake.host,
            port=fake.port,
            paper_width_mm=kw.pop("paper_width_mm", 58),
            mode=kw.pop("mode", "native"),
            **kw,
        )
        s.add(p)
        s.commit()
        return p.id
