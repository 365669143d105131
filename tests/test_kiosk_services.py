"""Kiosk check-in outcomes against a real database (SQLite always, PostgreSQL when configured):
signed notice codes, the "no notice" lookup and its lock, the same ticket again, walk-ins,
priority requests that staff confirm, the help desk's printer, the status link's day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from server import clock
from server.engine import DomainError, Forbidden, Invalid
from server.models import (
    Appointment,
    AuditLog,
    Building,
    Counter,
    Device,
    Owner,
    Printer,
    PrintJob,
    Project,
    Unit,
    UnitOwner,
    Visit,
    VisitStep,
)
from server.printing.receipts import TicketData, ticket_receipt
from server.services import (
    checkin,
    kiosk_checkin,
    lookup,
    notice_codes,
    priority,
    snapshots,
    status_links,
)
from server.services.actor import Actor
from tests.conftest import build_venue

SECRET = "test-instance-secret"


@pytest.fixture
def ctx(database, events):
    with database.session() as s:
        venue = build_venue(s, units=8, day=datetime.combine(clock.today(), time(9, 0)))
        kiosk = Device(
            project_id=venue.project_id, kind="kiosk", name="签到机", token_hash="k" * 64
        )
        s.add(kiosk)
        s.flush()
        s.add(Printer(project_id=venue.project_id, name="签到机打印机", device_id=kiosk.id))
        s.commit()
        kiosk_id = kiosk.id
    s = database.factory()
    yield s, venue, Actor(device_id=kiosk_id, role="kiosk", name="签到机")
    s.close()


def project(s, v) -> Project:
    return s.get(Project, v.project_id)


def unit_of(s, v, i: int) -> Unit:
    return s.scalar(select(Unit).where(Unit.notice_code == v.codes[i]))


def signed(s, v, i: int) -> str:
    return notice_codes.sign(SECRET, "T1", unit_of(s, v, i).id)


def staff(v) -> Actor:
    return Actor(staff_id=v.staff["staff"], role="staff")


def n_visits(s) -> int:
    return s.scalar(select(func.count()).select_from(Visit))


def url(token: str) -> str:
    return f"http://kiosk.test/s/{token}"


def test_signed_code_checks_in_and_carries_project_and_unit(ctx):
    s, v, kiosk = ctx
    code = signed(s, v, 0)
    assert (
        code.startswith("HD1.T1.")
        and notice_codes.verify(SECRET, code).unit_id == unit_of(s, v, 0).id
    )
    visit = checkin.check_in(s, project_id=v.project_id, code=code, actor=kiosk, secret=SECRET)
    assert visit.ticket_no == "A001" and visit.unit_id == unit_of(s, v, 0).id
    assert not visit.walk_in and visit.party_role == "owner"
    assert s.scalar(select(AuditLog).where(AuditLog.action == "visit.check_in")) is not None


@pytest.mark.parametrize("tamper", ["unit", "mac", "secret"])
def test_tampered_or_foreign_signed_codes_are_refused(ctx, tamper):
    s, v, kiosk = ctx
    code = signed(s, v, 0)
    prefix, proj, unit_id, mac = code.split(".")
    bad = {
        "unit": f"{prefix}.{proj}.{int(unit_id) + 1}.{mac}",  # the neighbour's unit, same MAC
        "mac": f"{prefix}.{proj}.{unit_id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        "secret": notice_codes.sign("another server's secret", "T1", int(unit_id)),
    }[tamper]
    with pytest.raises(Invalid) as exc:
        checkin.check_in(s, project_id=v.project_id, code=bad, actor=kiosk, secret=SECRET)
    assert exc.value.code == "forged_code"
    s.rollback()
    assert n_visits(s) == 0


def test_code_of_another_project_says_so(ctx):
    s, v, kiosk = ctx
    other = notice_codes.sign(SECRET, "OTHER9", unit_of(s, v, 0).id)
    with pytest.raises(Invalid) as exc:
        checkin.check_in(s, project_id=v.project_id, code=other, actor=kiosk, secret=SECRET)
    assert exc.value.code == "other_project"


def test_other_day_names_the_appointment_and_no_visit_is_made(ctx):
    s, v, _kiosk = ctx
    unit = unit_of(s, v, 1)
    appt = s.scalar(select(Appointment).where(Appointment.unit_id == unit.id))
    appt.day = clock.today() + timedelta(days=2)
    s.commit()
    with pytest.raises(Invalid) as exc:
        lookup.preview(s, project(s, v), unit, clock.now())
    assert exc.value.code == "wrong_day"
    assert exc.value.params["day"] == appt.day.isoformat()
    assert n_visits(s) == 0


def test_already_checked_in_gets_the_same_ticket_and_one_reprint(ctx):
    s, v, kiosk = ctx
    unit_id = unit_of(s, v, 0).id
    first = kiosk_checkin.check_in_or_reprint(
        s, project_id=v.project_id, unit_id=unit_id, actor=kiosk, status_url=url
    )
    again = kiosk_checkin.check_in_or_reprint(
        s, project_id=v.project_id, unit_id=unit_id, actor=kiosk, status_url=url
    )
    third = kiosk_checkin.check_in_or_reprint(
        s, project_id=v.project_id, unit_id=unit_id, actor=kiosk, status_url=url
    )
    assert (first.again, again.again, third.again) == (False, True, True)
    assert first.visit.id == again.visit.id == third.visit.id and n_visits(s) == 1
    assert again.visit.ticket_no == "A001"
    # The original ticket, then one reprint; a third scan within a minute prints nothing more.
    jobs = s.scalars(select(PrintJob).where(PrintJob.visit_id == first.visit.id)).all()
    assert len(jobs) == 2
    assert (
        s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "visit.ticket_again")
        )
        == 2
    )
    # The next owner still gets the next number: nothing was used up.
    nxt = kiosk_checkin.check_in_or_reprint(
        s, project_id=v.project_id, unit_id=unit_of(s, v, 1).id, actor=kiosk, status_url=url
    )
    assert nxt.visit.ticket_no == "A002"


@pytest.mark.parametrize("allowed", [True, False])
def test_walk_in_follows_the_project_policy_and_is_marked(ctx, allowed):
    s, v, kiosk = ctx
    unit = unit_of(s, v, 2)
    for appt in s.scalars(select(Appointment).where(Appointment.unit_id == unit.id)):
        s.delete(appt)
    project(s, v).walk_in_allowed = allowed
    s.commit()
    if not allowed:
        with pytest.raises(Invalid) as exc:
            checkin.check_in(s, project_id=v.project_id, unit_id=unit.id, actor=kiosk)
        assert exc.value.code == "no_appointment" and "help desk" in exc.value.message
        s.rollback()
        assert n_visits(s) == 0
        return
    assert lookup.preview(s, project(s, v), unit, clock.now())["walk_in"] is True
    visit = checkin.check_in(s, project_id=v.project_id, unit_id=unit.id, actor=kiosk)
    assert visit.walk_in is True and visit.appointment_id is None
    on_time = checkin.check_in(s, project_id=v.project_id, unit_id=unit_of(s, v, 3).id, actor=kiosk)
    assert on_time.walk_in is False


def test_kiosk_cannot_set_priority_but_asks_and_staff_confirm(ctx):
    s, v, kiosk = ctx
    with pytest.raises(Forbidden) as exc:
        checkin.check_in(
            s, project_id=v.project_id, code=v.codes[0], actor=kiosk, priority_class="vip"
        )
    assert exc.value.code == "priority_by_device"
    s.rollback()
    assert n_visits(s) == 0

    ahead = checkin.check_in(s, project_id=v.project_id, code=v.codes[1], actor=kiosk)
    asked = checkin.check_in(
        s,
        project_id=v.project_id,
        code=v.codes[0],
        actor=kiosk,
        priority_requested="elderly",
        party_role="agent",
    )
    assert (asked.priority_class, asked.priority_requested, asked.party_role) == (
        "normal",
        "elderly",
        "agent",
    )
    first = asked.steps[0]
    assert snapshots.people_ahead(s, first) == 1  # a request alone moves nobody
    assert [r["ticket_no"] for r in priority.pending(s, v.project_id)] == [asked.ticket_no]

    with pytest.raises(Forbidden):
        priority.decide(s, project_id=v.project_id, visit_id=asked.id, actor=kiosk, accept=True)
    priority.decide(s, project_id=v.project_id, visit_id=asked.id, actor=staff(v), accept=True)
    s.expire_all()
    asked = s.get(Visit, asked.id)
    assert asked.priority_class == "elderly" and asked.priority_requested is None
    assert snapshots.people_ahead(s, asked.steps[0]) == 0
    assert snapshots.people_ahead(s, s.get(Visit, ahead.id).steps[0]) == 1
    assert priority.pending(s, v.project_id) == []
    assert s.scalar(select(AuditLog).where(AuditLog.action == "visit.priority_confirmed"))


def test_declined_request_keeps_the_queue_order(ctx):
    s, v, kiosk = ctx
    checkin.check_in(s, project_id=v.project_id, code=v.codes[1], actor=kiosk)
    asked = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=kiosk, priority_requested="pregnant"
    )
    priority.decide(s, project_id=v.project_id, visit_id=asked.id, actor=staff(v), accept=False)
    s.expire_all()
    asked = s.get(Visit, asked.id)
    assert asked.priority_class == "normal" and asked.priority_requested is None
    assert snapshots.people_ahead(s, asked.steps[0]) == 1


def test_manual_lookup_by_phone_or_id_digits(ctx):
    s, v, kiosk = ctx
    unit = unit_of(s, v, 5)
    owner = unit.owners[0].owner
    owner.id_number = "11010519491231002X"
    s.commit()
    where = {"building_id": unit.building_id, "entrance": unit.entrance, "room": unit.room}
    found = lookup.manual_lookup(
        s, project_id=v.project_id, digits=owner.phone[-4:], actor=kiosk, **where
    )
    assert found.id == unit.id
    found = lookup.manual_lookup(s, project_id=v.project_id, digits="31002x", actor=kiosk, **where)
    assert found.id == unit.id
    preview = lookup.preview(s, project(s, v), found, clock.now())
    assert preview["owner"] == owner.masked_name and owner.name not in str(preview)
    assert preview["slot"] == {"day": clock.today().isoformat(), "start": "09:00", "end": "10:00"}
    pickers = lookup.unit_pickers(s, v.project_id)
    rooms = [r for f in pickers[0]["entrances"][0]["floors"] for r in f["rooms"]]
    assert unit.room in rooms and len(rooms) == 8


def test_wrong_digit_streak_locks_the_manual_lookup_of_that_kiosk(ctx, monkeypatch):
    s, v, kiosk = ctx
    unit = unit_of(s, v, 4)
    owner_phone = unit.owners[0].owner.phone
    where = {"building_id": unit.building_id, "entrance": unit.entrance, "room": unit.room}
    for i in range(lookup.MAX_WRONG - 1):
        with pytest.raises(Invalid) as exc:
            lookup.manual_lookup(
                s, project_id=v.project_id, digits=f"9{i:03d}", actor=kiosk, **where
            )
        assert exc.value.code == "lookup_no_match"
    # A room that does not exist answers exactly like wrong digits (nothing to enumerate).
    with pytest.raises(DomainError) as exc:
        lookup.manual_lookup(
            s,
            project_id=v.project_id,
            building_id=unit.building_id,
            entrance="9",
            room="9999",
            digits="1234",
            actor=kiosk,
        )
    assert exc.value.code == "lookup_locked" and exc.value.status == 429
    assert exc.value.params["minutes"] == lookup.LOCK_MINUTES
    # Locked: even the right digits are refused now, on this kiosk only.
    with pytest.raises(lookup.Locked):
        lookup.manual_lookup(
            s, project_id=v.project_id, digits=owner_phone[-4:], actor=kiosk, **where
        )
    found = lookup.manual_lookup(
        s, project_id=v.project_id, digits=owner_phone[-4:], actor=staff(v), **where
    )
    assert found.id == unit.id
    # Every attempt is in the audit log.
    assert (
        s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == lookup.LOOKUP_FAILED, AuditLog.device_id == kiosk.device_id)
        )
        == lookup.MAX_WRONG
    )
    # After the lock time the kiosk may try again.
    later = clock.now() + timedelta(minutes=lookup.LOCK_MINUTES + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert lookup.locked_until(s, kiosk) is None
    found = lookup.manual_lookup(
        s, project_id=v.project_id, digits=owner_phone[-4:], actor=kiosk, **where
    )
    assert found.id == unit.id


def test_a_right_answer_ends_the_streak(ctx):
    s, v, kiosk = ctx
    unit = unit_of(s, v, 4)
    where = {"building_id": unit.building_id, "entrance": unit.entrance, "room": unit.room}
    right = unit.owners[0].owner.phone[-4:]
    for _ in range(2):
        for i in range(lookup.MAX_WRONG - 1):
            with pytest.raises(Invalid):
                lookup.manual_lookup(
                    s, project_id=v.project_id, digits=f"9{i:03d}", actor=kiosk, **where
                )
        lookup.manual_lookup(s, project_id=v.project_id, digits=right, actor=kiosk, **where)


def test_confirm_token_is_bound_to_the_kiosk_and_expires():
    kiosk = Actor(device_id=3, role="kiosk")
    token = lookup.confirm_token(SECRET, 7, kiosk, now_epoch=1000)
    assert lookup.read_confirm_token(SECRET, token, kiosk, now_epoch=1100) == 7
    other = Actor(device_id=kiosk.device_id + 1, role="kiosk")
    for who, at in ((other, 1100), (kiosk, 1000 + lookup.CONFIRM_SECONDS + 1)):
        with pytest.raises(Invalid):
            lookup.read_confirm_token(SECRET, token, who, now_epoch=at)
    with pytest.raises(Invalid):
        lookup.read_confirm_token(SECRET, token.replace("7.", "8.", 1), kiosk, now_epoch=1100)


def test_help_desk_check_in_prints_on_the_help_desk_printer(ctx):
    s, v, _kiosk = ctx
    desk = Counter(project_id=v.project_id, code="HELP", name_zh="服务台", name_en="Help desk")
    s.add(desk)
    s.flush()
    s.add(Printer(project_id=v.project_id, name="服务台打印机", counter_id=desk.id))
    s.commit()
    visit = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), status_url=url
    )
    job = s.scalar(select(PrintJob).where(PrintJob.visit_id == visit.id))
    assert job is not None and job.printer.counter_id == desk.id and job.kind == "ticket"


def test_status_link_works_on_the_visit_day_only(ctx):
    s, v, kiosk = ctx
    visit = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=kiosk)
    token = visit.status_token
    assert status_links.visit_for_token(s, token).id == visit.id
    assert status_links.visit_for_token(s, token, clock.today() + timedelta(days=1)) is None
    assert status_links.visit_for_token(s, "x" * 30) is None


def test_status_says_where_the_called_counter_is(ctx):
    s, v, kiosk = ctx
    from server.services import queue

    visit = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=kiosk)
    counter = s.get(Counter, v.counters["W01"])
    counter.location_zh, counter.location_en = "售楼处一楼大厅 A区", "Sales office, area A"
    s.commit()
    queue.call_next(s, counter_id=counter.id, actor=staff(v))
    s.expire_all()
    status = snapshots.visit_status(s, s.get(Visit, visit.id))
    assert status["current"]["state"] == "called"
    assert status["current"]["counter"]["location_zh"] == "售楼处一楼大厅 A区"
    assert "phone" not in str(status) and s.get(Visit, visit.id).owner.name not in str(status)


@pytest.mark.parametrize("locale,text", [("zh_CN", "即将轮到您"), ("en", "Very soon")])
def test_printed_ticket_never_says_zero_minutes(locale, text):
    data = TicketData(
        project_name="测试花园",
        ticket_no="A001",
        unit_label="1栋1单元101",
        checked_in_at=datetime(2026, 11, 27, 9, 0),
        status_url="http://x/s/abc",
        steps=["资料审核"],
        estimated_wait_min=0,
        people_ahead=0,
    )
    lines = str(ticket_receipt(data, locale))
    assert text in lines and "0 分钟" not in lines and "0 min" not in lines


def test_units_of_other_projects_are_not_checked_in_by_id(ctx):
    s, v, kiosk = ctx
    other = Project(code="T2", name="别的项目")
    s.add(other)
    s.flush()
    b = Building(project_id=other.id, code="1", name="1栋")
    s.add(b)
    s.flush()
    u = Unit(
        project_id=other.id, building_id=b.id, entrance="1", room="101", notice_code="OTHERP0001"
    )
    s.add(u)
    s.flush()
    o = Owner(project_id=other.id, name="李四", phone="13900001111")
    s.add(o)
    s.flush()
    s.add(UnitOwner(unit_id=u.id, owner_id=o.id))
    s.commit()
    with pytest.raises(DomainError):
        kiosk_checkin.check_in_or_reprint(
            s, project_id=v.project_id, unit_id=u.id, actor=kiosk, status_url=url
        )
    assert s.scalar(select(func.count()).select_from(VisitStep)) == 0
