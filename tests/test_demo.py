import re
from collections import Counter as Tally
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from server.db import Database
from server.demo import DemoInfo, build_demo
from server.models import (
    Appointment,
    Building,
    Counter,
    Device,
    Owner,
    Project,
    Staff,
    Step,
    Unit,
    UnitKeyItem,
    UnitOwner,
)

START = date(2026, 6, 6)
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def fake_hash(password: str) -> str:
    return "plain$" + password


def make_db(tmp_path, name="d.db") -> Database:
    db = Database(f"sqlite:///{tmp_path}/{name}")
    db.create_all()
    return db


def build(tmp_path, name="d.db", seed=2026):
    db = make_db(tmp_path, name)
    with db.session() as s:
        info = build_demo(s, start_day=START, seed=seed, password_hasher=fake_hash)
    return db, info


def test_counts_steps_and_counters(tmp_path):
    db, info = build(tmp_path)
    assert isinstance(info, DemoInfo)
    with db.session() as s:
        project = s.get(Project, info.project_id)
        assert project.name == "翠湖天地·二期"
        assert project.walk_in_allowed and project.early_grace_minutes == 30
        assert s.scalar(select(func.count(Building.id))) >= 2
        n_units = s.scalar(select(func.count(Unit.id)))
        assert n_units >= 600
        assert info.counts["units"] == n_units
        assert s.scalar(select(func.count(Counter.id))) >= 12
        steps = s.scalars(select(Step).order_by(Step.sort)).all()
        assert [st.code for st in steps] == ["verify", "fees", "sign", "inspect", "keys"]
        assert [st.name_zh for st in steps] == ["资料审核", "收费确认", "签约", "验房", "钥匙交接"]
        assert {st.ticket_prefix for st in steps} == {"A"}
        # every step is served by at least one counter
        for st in steps:
            assert any(st in c.steps for c in s.scalars(select(Counter)))
        # every unit has its key set and a principal owner
        assert s.scalar(select(func.count(func.distinct(UnitKeyItem.unit_id)))) == n_units
        principals = s.scalar(select(func.count(UnitOwner.id)).where(UnitOwner.position == 0))
        assert principals == n_units
        co = s.scalar(select(func.count(UnitOwner.id)).where(UnitOwner.position == 1))
        assert 0.15 * n_units < co < 0.35 * n_units
        # logins and devices
        roles = {role for _, _, role, _ in info.logins}
        assert roles == {"admin", "supervisor", "staff"}
        assert s.scalar(select(func.count(Staff.id))) == len(info.logins)
        assert set(info.pairing_codes) == {"签到机1", "签到机2", "大厅屏幕", "验房区屏幕"}
        for device in s.scalars(select(Device)):
            assert info.pairing_codes[device.name] == device.pairing_code
            assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", device.pairing_code)
            assert len(device.token_hash) == 64


def test_slots_capacity_days_and_walk_ins(tmp_path):
    db, _ = build(tmp_path)
    with db.session() as s:
        appts = s.scalars(select(Appointment)).all()
        n_units = s.scalar(select(func.count(Unit.id)))
        per_slot = Tally((a.day, a.slot_start) for a in appts)
        assert max(per_slot.values()) <= 60
        # The day before START already happened (server/demo_reports.py: the report's demo).
        assert {a.day for a in appts} == {
            START - timedelta(days=1),
            START,
            START + timedelta(days=1),
        }
        for day in (START, START + timedelta(days=1)):
            starts = [a.slot_start for a in appts if a.day == day]
            assert any(t < time(12) for t in starts)
            assert any(t >= time(13) for t in starts)
        for a in appts:
            assert a.slot_end > a.slot_start
            assert a.batch and a.slot_start.strftime("%H:%M") in a.batch
        # at most one appointment per unit; ~2% walk-ins
        per_unit = Tally(a.unit_id for a in appts)
        assert max(per_unit.values()) == 1
        missing = n_units - len(per_unit)
        assert 1 <= missing <= 0.04 * n_units


def test_notice_codes_names_and_phones(tmp_path):
    db, _ = build(tmp_path)
    with db.session() as s:
        codes = s.scalars(select(Unit.notice_code)).all()
        assert len(codes) == len(set(codes))
        assert all(CODE.match(c) and len(c) >= 16 for c in codes)
        owners = s.scalars(select(Owner)).all()
        for o in owners:
            assert CJK.match(o.name), o.name
            assert 2 <= len(o.name) <= 3
            assert o.id_last4 is None or re.fullmatch(r"\d{3}[\dX]", o.id_last4)
        phones = [o.phone for o in owners if o.phone]
        assert len(phones) == len(set(phones))
        for o in owners:
            if o.phone:
                assert re.fullmatch(r"1\d{10}", o.phone)
                assert re.fullmatch(r"1\d{2}\*{4}\d{4}", o.masked_phone)
                assert o.masked_phone == o.phone[:3] + "****" + o.phone[-4:]


def test_deterministic_for_a_seed(tmp_path):
    db1, info1 = build(tmp_path, "a.db")
    db2, info2 = build(tmp_path, "b.db")
    db3, _ = build(tmp_path, "c.db", seed=7)

    def snapshot(db):
        with db.session() as s:
            units = s.execute(select(Unit.room, Unit.entrance, Unit.notice_code).order_by(Unit.id))
            owners = s.scalars(select(Owner.name).order_by(Owner.id))
            return list(units), list(owners)

    assert snapshot(db1) == snapshot(db2)
    assert info1.pairing_codes == info2.pairing_codes
    assert info1.counts == info2.counts
    assert snapshot(db1)[0] != snapshot(db3)[0]


def test_second_build_refuses(tmp_path):
    db, _ = build(tmp_path)
    with db.session() as s, pytest.raises(ValueError, match="already exists"):
        build_demo(s, start_day=START, password_hasher=fake_hash)
    with db.session() as s:
        assert s.scalar(select(func.count(Project.id))) == 1


def test_demo_unit_can_check_in(tmp_path):
    checkin = pytest.importorskip("server.services.checkin")
    from server.services.actor import Actor

    db, info = build(tmp_path)
    with db.session() as s:
        unit = s.scalars(
            select(Unit)
            .join(Appointment, Appointment.unit_id == Unit.id)
            .where(Appointment.day == START, Appointment.slot_start == time(9, 0))
            .order_by(Unit.id)
        ).first()
        visit = checkin.check_in(
            s,
            project_id=info.project_id,
            code=unit.notice_code,
            actor=Actor(role="kiosk", name="签到机1"),
            now=datetime.combine(START, time(9, 5)),
        )
        assert visit.ticket_no == "A001"
        assert visit.appointment_id is not None
