"""The pure queue engine: state machine, numbering, ordering, waits, routing."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from server.engine import (
    Action,
    IllegalTransition,
    Invalid,
    State,
    apply,
    estimated_wait_minutes,
    fair_queue_time,
    format_ticket,
    next_step_index,
    no_show_action,
    parse_ticket,
    queue_key,
    typical_service_minutes,
)


def test_engine_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, server.engine; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'flask_socketio')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_happy_path_through_one_step():
    s = State.PENDING
    for action, expected in [
        (Action.ENQUEUE, State.WAITING),
        (Action.CALL, State.CALLED),
        (Action.RECALL, State.CALLED),
        (Action.START, State.SERVING),
        (Action.HOLD, State.HELD),
        (Action.RELEASE, State.WAITING),
        (Action.CALL, State.CALLED),
        (Action.START, State.SERVING),
        (Action.COMPLETE, State.DONE),
    ]:
        s = apply(s, action)
        assert s is expected


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.WAITING, Action.START),  # must be called first
        (State.WAITING, Action.COMPLETE),
        (State.DONE, Action.CALL),
        (State.PENDING, Action.CALL),
        (State.SERVING, Action.CALL),
        (State.CANCELLED, Action.ENQUEUE),
        (State.SERVING, Action.NO_SHOW_REQUEUE),  # an owner at the desk is not a no-show
        (State.HELD, Action.COMPLETE),
    ],
)
def test_illegal_transitions_are_refused_with_the_current_state(state, action):
    with pytest.raises(IllegalTransition) as exc:
        apply(state, action)
    assert exc.value.code == "illegal_transition"
    assert exc.value.params["state"]


def test_transfer_leaves_the_step_to_be_done_and_reopens_the_target():
    assert apply(State.SERVING, Action.TRANSFER) is State.PENDING
    assert apply(State.DONE, Action.ENQUEUE) is State.WAITING
    assert apply(State.SKIPPED, Action.ENQUEUE) is State.WAITING


def test_skip_and_cancel_from_any_open_state():
    for s in (State.PENDING, State.WAITING, State.CALLED, State.SERVING, State.HELD):
        assert apply(s, Action.SKIP) is State.SKIPPED
        assert apply(s, Action.CANCEL) is State.CANCELLED


def test_no_show_policy():
    assert no_show_action(0, 2, "requeue") is Action.NO_SHOW_REQUEUE
    assert no_show_action(5, 2, "requeue") is Action.NO_SHOW_REQUEUE
    assert no_show_action(1, 2, "out") is Action.NO_SHOW_REQUEUE
    assert no_show_action(2, 2, "out") is Action.NO_SHOW_OUT


def test_ticket_numbers():
    assert format_ticket("A", 1) == "A001"
    assert format_ticket("A", 23) == "A023"
    assert format_ticket("B", 999) == "B999"
    assert format_ticket("A", 1000) == "A1000"  # grows rather than reuses a number
    assert parse_ticket(" a023 ") == ("A", 23)
    for bad in ("", "023", "A-1", "A1", "ABCDE001"):
        with pytest.raises(Invalid):
            parse_ticket(bad)
    with pytest.raises(Invalid):
        format_ticket("a", 1)
    with pytest.raises(Invalid):
        format_ticket("A", 0)


def test_priority_first_then_fair_time_then_checkin_order():
    t0 = datetime(2026, 11, 27, 9, 0)
    normal_early = queue_key("normal", t0, 1)
    normal_late = queue_key("normal", t0 + timedelta(minutes=5), 2)
    elderly_later = queue_key("elderly", t0 + timedelta(minutes=30), 3)
    same_time_second = queue_key("normal", t0, 4)
    order = sorted([normal_late, same_time_second, elderly_later, normal_early])
    assert order == [elderly_later, normal_early, same_time_second, normal_late]


def test_early_arrival_for_a_later_slot_does_not_jump_the_current_slot():
    grace = timedelta(minutes=30)
    slot_14 = datetime(2026, 11, 27, 14, 0)
    early = fair_queue_time(datetime(2026, 11, 27, 9, 10), slot_14, grace)
    assert early == datetime(2026, 11, 27, 13, 30)
    on_time_9 = fair_queue_time(datetime(2026, 11, 27, 9, 20), datetime(2026, 11, 27, 9, 0), grace)
    assert on_time_9 == datetime(2026, 11, 27, 9, 20)
    assert queue_key("normal", on_time_9, 2) < queue_key("normal", early, 1)
    walk_in = fair_queue_time(datetime(2026, 11, 27, 10, 0), None, grace)
    assert walk_in == datetime(2026, 11, 27, 10, 0)


def test_service_time_uses_plan_until_measured_then_median():
    assert typical_service_minutes([], 8) == 8.0
    assert typical_service_minutes([4, 6], 8) == 8.0
    assert typical_service_minutes([4, 6, 60], 8) == 6.0  # one long case does not skew it


def test_wait_estimate():
    assert estimated_wait_minutes(0, 6, 2) == 0
    assert estimated_wait_minutes(10, 6, 2) == 30
    assert estimated_wait_minutes(10, 6, 3) == 20
    assert estimated_wait_minutes(10, 6, 0) is None  # no counter open: no promise


def test_next_step_follows_configured_order_skipping_settled_steps():
    assert next_step_index(["done", "pending", "pending"]) == 1
    assert next_step_index(["done", "skipped", "pending"]) == 2
    assert next_step_index(["pending", "done", "pending"]) == 0  # transferred away earlier
    assert next_step_index(["done", "done", "skipped"]) is None
