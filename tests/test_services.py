"""Queue services against a real database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from server.engine import DomainError, Forbidden, Invalid, NotFound
from server.models import Appointment, AuditLog, StepTransition, Unit, Visit, VisitStep
from server.services import checkin, queue, snapshots
from server.services.actor import Actor
from server.services.settings import QueueSettings
from tests.conftest import build_venue


@pytest.fixture
def ctx(database):
    with database.session() as s:
        venue = build_venue(s)
    s = database.factory()
    yield s, venue
    s.close()


def at(venue, minutes: int):
    return venue.day + timedelta(minutes=minutes)


def staff(venue) -> Actor:
    return Actor(staff_id=venue.staff["staff"], role="staff")


def counts(s):
    return (
        s.scalar(select(func.count()).select_from(Visit)),
        s.scalar(select(func.count()).select_from(StepTransition)),
        s.scalar(select(func.count()).select_from(VisitStep).where(VisitStep.state != "pending")),
    )


def test_check_in_numbers_tickets_in_order_and_queues_first_step(ctx, events):
    s, v = ctx
    a = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    b = checkin.check_in(s, project_id=v.project_id, code=v.codes[1], actor=staff(v), now=at(v, 2))
    assert (a.ticket_no, b.ticket_no) == ("A001", "A002")
    assert [st.state for st in a.steps] == ["waiting", "pending", "pending"]
    assert a.status_token != b.status_token and len(a.status_token) >= 30
    assert {e.event for e in events} >= {"visit_updated", "queue_changed"}
    assert (
        s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "visit.check_in")
        )
        == 2
    )


def test_check_in_accepts_scanner_url_form_and_refuses_bad_codes(ctx):
    s, v = ctx
    visit = checkin.check_in(
        s,
        project_id=v.project_id,
        code=f"  https://x/notice/{v.codes[0]}\n",
        actor=staff(v),
        now=at(v, 1),
    )
    assert visit.ticket_no == "A001"
    before = counts(s)
    for bad, err in [
        ("", Invalid),
        ("<script>", Invalid),
        ("x" * 200, Invalid),
        ("UNKNOWN123", NotFound),
    ]:
        with pytest.raises(err):
            checkin.check_in(s, project_id=v.project_id, code=bad, actor=staff(v), now=at(v, 2))
        s.rollback()
    assert counts(s) == before


def test_second_check_in_same_day_tells_the_existing_number(ctx):
    s, v = ctx
    checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    with pytest.raises(Invalid) as exc:
        checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 3))
    assert exc.value.code == "already_checked_in" and exc.value.params["ticket"] == "A001"


def test_wrong_day_names_the_appointment(ctx):
    s, v = ctx
    unit = s.scalar(select(Unit).where(Unit.notice_code == v.codes[2]))
    s.execute(Appointment.__table__.delete().where(Appointment.unit_id == unit.id))
    s.add(
        Appointment(
            project_id=v.project_id,
            unit_id=unit.id,
            day=date(2026, 11, 29),
            slot_start=time(14),
            slot_end=time(15),
        )
    )
    s.commit()
    with pytest.raises(Invalid) as exc:
        checkin.check_in(s, project_id=v.project_id, code=v.codes[2], actor=staff(v), now=at(v, 1))
    assert exc.value.code == "wrong_day" and exc.value.params["day"] == "2026-11-29"


def test_ticket_numbers_are_never_reused_after_cancel(ctx):
    s, v = ctx
    a = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    queue.cancel(s, visit_id=a.id, actor=staff(v), reason="业主改期")
    again = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 5)
    )
    assert again.ticket_no == "A002"


def _walk(s, v, visit, counter):
    vs = queue.call_next(s, counter_id=v.counters[counter], actor=staff(v), now=at(v, 10))
    assert vs is not None and vs.visit_id == visit.id
    queue.start(
        s, visit_step_id=vs.id, counter_id=v.counters[counter], actor=staff(v), now=at(v, 11)
    )
    queue.complete(
        s, visit_step_id=vs.id, counter_id=v.counters[counter], actor=staff(v), now=at(v, 16)
    )
    return vs


def test_one_owner_walks_every_step_to_keys_handed_over(ctx, events):
    s, v = ctx
    visit = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1)
    )
    _walk(s, v, visit, "W01")
    assert snapshots.visit_status(s, visit)["current"]["step"]["code"] == "fees"
    _walk(s, v, visit, "W03")
    _walk(s, v, visit, "W04")
    s.refresh(visit)
    assert visit.status == "finished"
    assert s.get(Unit, visit.unit_id).handed_over is True
    history = s.scalars(
        select(StepTransition.action)
        .where(StepTransition.visit_id == visit.id)
        .order_by(StepTransition.id)
    ).all()
    assert history == ["enqueue", "call", "start", "complete"] * 3
    called = [e for e in events if e.event == "ticket_called"]
    assert [c.payload["counter"]["name_zh"] for c in called] == ["1号窗口", "3号窗口", "4号窗口"]


def test_call_next_order_priority_then_fairness_then_checkin(ctx):
    s, v = ctx
    n1 = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    n2 = checkin.check_in(s, project_id=v.project_id, code=v.codes[1], actor=staff(v), now=at(v, 2))
    old = checkin.check_in(
        s,
        project_id=v.project_id,
        code=v.codes[2],
        actor=staff(v),
        now=at(v, 3),
        priority_class="elderly",
    )
    called = [
        queue.call_next(s, counter_id=v.counters[c], actor=staff(v), now=at(v, 5)).visit_id
        for c in ("W01", "W02", "W09")
    ]
    assert called == [old.id, n1.id, n2.id]


def test_counter_only_calls_the_steps_it_serves(ctx):
    s, v = ctx
    checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    assert (
        queue.call_next(s, counter_id=v.counters["W03"], actor=staff(v), now=at(v, 2)) is None
    )  # fees only
    vs = queue.call_next(
        s, counter_id=v.counters["W09"], actor=staff(v), now=at(v, 2)
    )  # verify+fees
    assert vs is not None


def test_complete_at_a_counter_not_serving_the_step_is_refused_and_changes_nothing(ctx):
    s, v = ctx
    checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 2))
    before = counts(s)
    with pytest.raises(Forbidden):
        queue.complete(
            s, visit_step_id=vs.id, counter_id=v.counters["W03"], actor=staff(v), now=at(v, 3)
        )
    s.rollback()
    assert counts(s) == before
    assert s.get(VisitStep, vs.id).state == "called"


def test_busy_counter_must_finish_first(ctx):
    s, v = ctx
    for i in range(2):
        checkin.check_in(s, project_id=v.project_id, code=v.codes[i], actor=staff(v), now=at(v, i))
    queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 3))
    with pytest.raises(Invalid) as exc:
        queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 4))
    assert exc.value.code == "counter_busy" and exc.value.params["ticket"] == "A001"


def test_no_show_requeues_at_the_end_then_goes_out_under_policy_out(ctx):
    s, v = ctx
    first = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1)
    )
    second = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[1], actor=staff(v), now=at(v, 2)
    )
    policy = QueueSettings(max_recalls=1, no_show_policy="out")
    vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 3))
    queue.no_show(
        s,
        visit_step_id=vs.id,
        counter_id=v.counters["W01"],
        actor=staff(v),
        settings=policy,
        now=at(v, 4),
    )
    assert s.get(VisitStep, vs.id).state == "waiting"
    nxt = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 5))
    assert nxt.visit_id == second.id  # the no-show went to the end
    queue.complete(
        s, visit_step_id=nxt.id, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 6)
    )
    vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 7))
    assert vs.visit_id == first.id
    queue.recall(s, visit_step_id=vs.id, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 8))
    queue.no_show(
        s,
        visit_step_id=vs.id,
        counter_id=v.counters["W01"],
        actor=staff(v),
        settings=policy,
        now=at(v, 9),
    )
    assert s.get(VisitStep, vs.id).state == "no_show"
    assert s.get(Visit, first.id).status == "out"


def test_hold_then_release_keeps_the_original_place(ctx):
    s, v = ctx
    a = checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    b = checkin.check_in(s, project_id=v.project_id, code=v.codes[1], actor=staff(v), now=at(v, 2))
    vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 3))
    queue.start(s, visit_step_id=vs.id, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 3))
    queue.hold(
        s,
        visit_step_id=vs.id,
        counter_id=v.counters["W01"],
        actor=staff(v),
        reason="回车上取身份证",
        now=at(v, 4),
    )
    queue.release(s, visit_step_id=vs.id, actor=staff(v), now=at(v, 10))
    assert (
        queue.call_next(s, counter_id=v.counters["W02"], actor=staff(v), now=at(v, 11)).visit_id
        == a.id
    )
    assert (
        queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 11)).visit_id
        == b.id
    )


def test_transfer_inspect_first_then_back(ctx):
    s, v = ctx
    visit = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1)
    )
    queue.transfer(
        s, visit_id=visit.id, to_step="fees", actor=staff(v), reason="先缴费", now=at(v, 2)
    )
    assert [st.state for st in visit.steps] == ["pending", "waiting", "pending"]
    _walk(s, v, visit, "W03")
    assert snapshots.visit_status(s, visit)["current"]["step"]["code"] == "verify"
    _walk(s, v, visit, "W01")
    _walk(s, v, visit, "W04")
    s.refresh(visit)
    assert visit.status == "finished"


def test_skip_needs_a_reason_and_moves_on(ctx):
    s, v = ctx
    visit = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1)
    )
    with pytest.raises(Invalid):
        queue.skip(s, visit_id=visit.id, step_code="verify", actor=staff(v), reason="  ")
    s.rollback()
    queue.skip(s, visit_id=visit.id, step_code="verify", actor=staff(v), reason="资料已预审")
    assert snapshots.visit_status(s, visit)["current"]["step"]["code"] == "fees"
    reason = s.scalar(select(StepTransition.reason).where(StepTransition.action == "skip"))
    assert reason == "资料已预审"


def test_illegal_moves_change_nothing(ctx):
    s, v = ctx
    visit = checkin.check_in(
        s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1)
    )
    vs = _walk(s, v, visit, "W01")
    before = counts(s)
    for fn in (queue.start, queue.complete, queue.recall):
        with pytest.raises(DomainError):
            fn(s, visit_step_id=vs.id, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 30))
        s.rollback()
    with pytest.raises(NotFound):
        queue.start(s, visit_step_id=999999, counter_id=v.counters["W01"], actor=staff(v))
    s.rollback()
    assert counts(s) == before
    assert s.get(VisitStep, vs.id).state == "done"


def test_ticket_called_by_another_counter_is_not_yours(ctx):
    s, v = ctx
    checkin.check_in(s, project_id=v.project_id, code=v.codes[0], actor=staff(v), now=at(v, 1))
    vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 2))
    with pytest.raises(Forbidden) as exc:
        queue.start(s, visit_step_id=vs.id, counter_id=v.counters["W02"], actor=staff(v))
    assert exc.value.code == "not_your_ticket"


def test_wait_estimate_uses_measured_service_times_and_open_counters(ctx):
    s, v = ctx
    visits = [
        checkin.check_in(s, project_id=v.project_id, code=v.codes[i], actor=staff(v), now=at(v, 0))
        for i in range(8)
    ]
    # Three services of 10 minutes each at W01 (plan says 5).
    for i in range(3):
        vs = queue.call_next(s, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 10 * i))
        queue.start(
            s, visit_step_id=vs.id, counter_id=v.counters["W01"], actor=staff(v), now=at(v, 10 * i)
        )
        queue.complete(
            s,
            visit_step_id=vs.id,
            counter_id=v.counters["W01"],
            actor=staff(v),
            now=at(v, 10 * i + 10),
        )
    last = snapshots.visit_status(s, visits[-1])["current"]
    assert last["people_ahead"] == 4
    # 4 ahead x 10 min / 3 open counters serving verify (W01, W02, W09)
    assert last["estimated_wait"] == round(4 * 10 / 3)
