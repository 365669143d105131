"""The HTTP API as kiosks, counters and owners' phones use it: check-in, the counter flow, the
status page, and the error answers ({"error": {"code", "message"}}) people read on screens."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from server import clock
from server.models import (
    Appointment,
    Building,
    Counter,
    Step,
    StepTransition,
    Unit,
    Visit,
    VisitStep,
)
from tests.conftest import CsrfClient, login

# ---- helpers -----------------------------------------------------------------------------


class VenueClock:
    """Venue time starting at 10:00 today (after the 9:00 slot's grace) and ticking one second
    per reading, so queue order does not depend on the hour the tests run."""

    def __init__(self, start: datetime):
        self.at = start

    def set(self, hour: int, minute: int = 0) -> None:
        self.at = datetime.combine(self.at.date(), time(hour, minute))

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@pytest.fixture(autouse=True)
def venue_clock(monkeypatch):
    fake = VenueClock(datetime.combine(clock.today(), time(10, 0)))
    monkeypatch.setattr(clock, "now", fake)
    return fake


def has_cjk(msg: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in msg)


def error_of(response) -> dict:
    data = response.get_json()
    assert isinstance(data, dict) and "error" in data, (response.status_code, response.data[:300])
    err = data["error"]
    assert err["code"] and err["message"], err
    return err


def db(app):
    return app.extensions["handover_db"].session()


def count(app, model) -> int:
    with db(app) as s:
        return s.scalar(select(func.count()).select_from(model))


def state_fingerprint(app) -> tuple:
    """Everything a refused request must leave untouched."""
    with db(app) as s:
        visits = s.execute(select(Visit.id, Visit.status, Visit.current_step_id)).all()
        steps = s.execute(
            select(VisitStep.id, VisitStep.state, VisitStep.counter_id, VisitStep.recall_count)
        ).all()
        return (
            sorted(visits),
            sorted(steps),
            s.scalar(select(func.count()).select_from(StepTransition)),
        )


def check_in(client, code: str, **extra):
    return client.post("/api/checkin", json={"code": code, **extra})


def checked_in(client, code: str) -> dict:
    r = check_in(client, code)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def call_next(client, counter_id: int) -> dict:
    r = client.post(f"/api/counters/{counter_id}/call-next")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def act(client, counter_id: int, visit_step_id: int, action: str, **body):
    return client.post(
        f"/api/counters/{counter_id}/tickets/{visit_step_id}/{action}", json=body or None
    )


def acted(client, counter_id: int, visit_step_id: int, action: str, **body) -> dict:
    r = act(client, counter_id, visit_step_id, action, **body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def visit(client, visit_id: int) -> dict:
    r = client.get(f"/api/visits/{visit_id}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def step_states(status: dict) -> dict[str, str]:
    return {s["code"]: s["state"] for s in status["steps"]}


def add_future_only_unit(app, venue, days: int = 3) -> str:
    """A unit whose only appointment is on a later day."""
    with db(app) as s:
        b = s.scalar(select(Building).where(Building.project_id == venue.project_id))
        u = Unit(
            project_id=venue.project_id,
            building_id=b.id,
            entrance="9",
            room="901",
            notice_code="FUTURE0001XYZ",
        )
        s.add(u)
        s.flush()
        s.add(
            Appointment(
                project_id=venue.project_id,
                unit_id=u.id,
                day=venue.day.date() + timedelta(days=days),
                slot_start=time(14, 0),
                slot_end=time(15, 0),
            )
        )
        s.commit()
        return u.notice_code


# ---- check-in ----------------------------------------------------------------------------


def test_check_in_gives_consecutive_tickets_and_a_status_link(app, venue, staff_client):
    first = checked_in(staff_client, venue.codes[0])
    second = checked_in(staff_client, venue.codes[1])

    assert first["ticket_no"] == "A001"
    assert second["ticket_no"] == "A002"
    assert first["status"] == "active"
    assert first["current"]["step"]["code"] == "verify"
    assert first["current"]["state"] == "waiting"
    assert "/s/" in first["status_url"]
    token = first["status_url"].rsplit("/s/", 1)[1]
    assert len(token) >= 16
    with db(app) as s:
        v = s.scalar(select(Visit).where(Visit.ticket_no == "A001"))
        assert v.status_token == token
    # The link works for the owner, without logging in.
    r = app.test_client().get(f"/api/status/{token}")
    assert r.status_code == 200
    assert r.get_json()["ticket_no"] == "A001"


def test_scanner_input_with_url_prefix_and_newline_is_accepted(venue, staff_client):
    r = check_in(staff_client, f"https://example.cn/n/{venue.codes[0]}\n")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["ticket_no"] == "A001"


def test_unknown_code_is_404_and_creates_nothing(app, venue, staff_client):
    before = state_fingerprint(app)
    r = check_in(staff_client, "NOSUCHCODE123")
    assert r.status_code == 404
    assert error_of(r)["code"] == "unknown_code"
    assert state_fingerprint(app) == before


MALFORMED_CHECK_INS = {
    "sql": ({"json": {"code": "'; drop table visits; --"}}, "bad_code"),
    "html": ({"json": {"code": "<script>alert(1)</script>"}}, "bad_code"),
    "empty": ({"json": {"code": ""}}, "bad_field"),
    "blank": ({"json": {"code": "   "}}, "bad_code"),
    "1000 chars": ({"json": {"code": "A" * 1000}}, "bad_field"),
    "number": ({"json": {"code": 12345678}}, "bad_field"),
    "missing": ({"json": {}}, "bad_field"),
    "bad priority": ({"json": {"code": "NOTICE0000XYZ", "priority_class": "king"}}, "bad_field"),
    "json array": ({"json": ["NOTICE0000XYZ"]}, "bad_json"),
    "not json": ({"data": "code=NOTICE0000XYZ", "content_type": "text/plain"}, "bad_json"),
    "broken json": ({"data": "{not json", "content_type": "application/json"}, "bad_json"),
}


def test_malformed_check_in_is_refused_clearly_and_changes_nothing(app, venue, staff_client):
    before = count(app, Visit), state_fingerprint(app)
    for case, (kwargs, code) in MALFORMED_CHECK_INS.items():
        r = staff_client.post("/api/checkin?lang=en", **kwargs)
        assert 400 <= r.status_code < 500, case
        err = error_of(r)
        assert err["code"] == code, case
        assert len(err["message"]) < 200, case  # a sentence, not a stack trace or an echo
        assert (count(app, Visit), state_fingerprint(app)) == before, case
    # The next good check-in still gets the first number: nothing was used up.
    assert checked_in(staff_client, venue.codes[0])["ticket_no"] == "A001"


def test_second_check_in_names_the_ticket_already_given(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    checked_in(staff_client, venue.codes[1])
    before = state_fingerprint(app)

    r = check_in(staff_client, venue.codes[0])
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "already_checked_in"
    assert "A001" in err["message"]
    assert err["details"]["ticket"] == "A001"
    assert state_fingerprint(app) == before


def test_appointment_on_another_day_is_wrong_day(app, venue, staff_client):
    code = add_future_only_unit(app, venue, days=3)
    before = count(app, Visit)
    r = staff_client.post("/api/checkin?lang=en", json={"code": code})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "wrong_day"
    later = (venue.day.date() + timedelta(days=3)).isoformat()
    assert later in err["message"]
    assert "14:00" in err["message"]
    assert count(app, Visit) == before


def test_english_on_request_and_remembered(venue, staff_client):
    r = staff_client.post("/api/checkin?lang=en", json={"code": "NOSUCHCODE123"})
    assert error_of(r)["message"] == (
        "This code is not on our list for this project. Please ask a staff member for help."
    )
    # The choice is kept in a cookie for the next request.
    r = check_in(staff_client, "NOSUCHCODE123")
    assert error_of(r)["message"].startswith("This code is not on our list")


def test_error_messages_are_chinese_by_default(app, venue, staff_client):
    """Every message an owner or staff member reads is zh-CN unless they chose English."""
    messages: dict[str, str] = {}

    def collect(r):
        err = error_of(r)
        messages[err["code"]] = err["message"]

    collect(check_in(staff_client, "NOSUCHCODE123"))
    collect(check_in(staff_client, "'; drop table"))
    collect(check_in(staff_client, ""))
    collect(staff_client.post("/api/checkin", json=[1]))
    collect(check_in(staff_client, add_future_only_unit(app, venue)))
    checked_in(staff_client, venue.codes[0])
    collect(check_in(staff_client, venue.codes[0]))
    w01, w02 = venue.counters["W01"], venue.counters["W02"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    collect(staff_client.post(f"/api/counters/{w01}/call-next"))
    collect(act(staff_client, w02, vs_id, "start"))
    acted(staff_client, w01, vs_id, "complete")
    collect(act(staff_client, w01, vs_id, "start"))
    collect(staff_client.post("/api/visits/1/cancel", json={"reason": "x"}))
    collect(app.test_client().post(f"/api/counters/{w01}/call-next"))
    collect(app.test_client().get("/api/status/this-token-does-not-exist"))

    english = {code: msg for code, msg in messages.items() if not has_cjk(msg)}
    assert not english, f"untranslated (zh_CN msgids missing): {english}"


# ---- counter flow ------------------------------------------------------------------------


def test_call_recall_start_complete_moves_the_visit_on(venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]

    snap = call_next(staff_client, w01)
    assert snap["queue_empty"] is False
    cur = snap["current"]
    assert cur["ticket_no"] == "A001"
    assert cur["current"]["state"] == "called"
    assert cur["current"]["counter"]["id"] == w01
    vs_id = cur["current"]["visit_step_id"]

    snap = acted(staff_client, w01, vs_id, "recall")
    assert snap["current"]["current"]["recall_count"] == 1
    assert snap["current"]["current"]["state"] == "called"

    snap = acted(staff_client, w01, vs_id, "start")
    assert snap["current"]["current"]["state"] == "serving"

    snap = acted(staff_client, w01, vs_id, "complete")
    assert snap["current"] is None  # the counter is free again

    status = visit(staff_client, a001["visit_id"])
    assert status["current"]["step"]["code"] == "fees"
    assert status["current"]["state"] == "waiting"
    assert step_states(status) == {"verify": "done", "fees": "waiting", "keys": "pending"}
    token = a001["status_url"].rsplit("/s/", 1)[1]
    assert staff_client.get(f"/api/status/{token}").get_json()["current"]["step"]["code"] == "fees"

    # The fees counter now calls the same ticket number.
    snap = call_next(staff_client, venue.counters["W03"])
    assert snap["current"]["ticket_no"] == "A001"
    assert snap["current"]["current"]["step"]["code"] == "fees"


def test_a_visit_finishes_after_the_last_step(app, venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    for counter in ("W01", "W03", "W04"):
        cid = venue.counters[counter]
        vs_id = call_next(staff_client, cid)["current"]["current"]["visit_step_id"]
        acted(staff_client, cid, vs_id, "complete")  # straight from "called"
    status = visit(staff_client, a001["visit_id"])
    assert status["status"] == "finished"
    assert status["current"] is None
    assert set(step_states(status).values()) == {"done"}
    with db(app) as s:
        assert s.scalar(select(Unit.handed_over).where(Unit.notice_code == venue.codes[0]))
    # Handed over: the notice cannot be used again.
    r = check_in(staff_client, venue.codes[0])
    assert r.status_code == 422
    assert error_of(r)["code"] in ("already_checked_in", "already_handed_over")


def test_no_show_puts_the_ticket_back_behind_the_others(venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    checked_in(staff_client, venue.codes[1])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]

    snap = acted(staff_client, w01, vs_id, "no-show")
    assert snap["current"] is None
    status = visit(staff_client, a001["visit_id"])
    assert status["status"] == "active"
    assert status["current"]["state"] == "waiting"
    assert status["current"]["counter"] is None
    assert status["current"]["people_ahead"] == 1

    assert call_next(staff_client, w01)["current"]["ticket_no"] == "A002"


def test_no_show_before_the_slot_time_does_not_jump_the_queue(venue, staff_client, venue_clock):
    venue_clock.set(8, 0)  # slots start at 9:00
    checked_in(staff_client, venue.codes[0])
    checked_in(staff_client, venue.codes[1])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    acted(staff_client, w01, vs_id, "no-show")
    assert call_next(staff_client, w01)["current"]["ticket_no"] == "A002"


def test_hold_and_release(venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    acted(staff_client, w01, vs_id, "start")

    snap = acted(staff_client, w01, vs_id, "hold", reason="去取身份证")
    assert snap["current"] is None
    assert [h["ticket_no"] for h in snap["held"]] == ["A001"]
    assert snap["held"][0]["current"]["state"] == "held"

    r = staff_client.post(f"/api/visit-steps/{vs_id}/release")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["current"]["state"] == "waiting"
    assert staff_client.get(f"/api/counters/{w01}").get_json()["held"] == []
    assert call_next(staff_client, w01)["current"]["visit_id"] == a001["visit_id"]


def test_release_of_a_ticket_not_on_hold_is_refused(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    vs_id = call_next(staff_client, venue.counters["W01"])["current"]["current"]["visit_step_id"]
    before = state_fingerprint(app)
    r = staff_client.post(f"/api/visit-steps/{vs_id}/release")
    assert r.status_code == 409
    assert error_of(r)["code"] == "illegal_transition"
    assert state_fingerprint(app) == before


def test_counter_must_finish_its_ticket_before_calling_again(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    checked_in(staff_client, venue.codes[1])
    w01 = venue.counters["W01"]
    call_next(staff_client, w01)
    before = state_fingerprint(app)

    r = staff_client.post(f"/api/counters/{w01}/call-next?lang=en")
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "counter_busy"
    assert "A001" in err["message"]
    assert state_fingerprint(app) == before


def test_two_counters_never_get_the_same_ticket(venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    checked_in(staff_client, venue.codes[1])
    one = call_next(staff_client, venue.counters["W01"])["current"]["ticket_no"]
    two = call_next(staff_client, venue.counters["W02"])["current"]["ticket_no"]
    assert {one, two} == {"A001", "A002"}
    assert call_next(staff_client, venue.counters["W09"])["queue_empty"] is True


def test_another_counters_ticket_is_not_yours(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    vs_id = call_next(staff_client, venue.counters["W01"])["current"]["current"]["visit_step_id"]
    before = state_fingerprint(app)
    for action in ("recall", "start", "complete", "hold", "no-show"):
        r = act(staff_client, venue.counters["W02"], vs_id, action)
        assert r.status_code == 403, action
        assert error_of(r)["code"] == "not_your_ticket", action
    assert state_fingerprint(app) == before


def test_complete_at_a_counter_that_no_longer_serves_the_step(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    # The supervisor re-plans W01 to fees while A001 is at the desk.
    with db(app) as s:
        c = s.get(Counter, w01)
        c.steps = [s.get(Step, venue.steps["fees"])]
        s.commit()
    before = state_fingerprint(app)
    r = act(staff_client, w01, vs_id, "complete")
    assert r.status_code == 403
    err = error_of(r)
    assert err["code"] == "counter_does_not_serve_step"
    assert state_fingerprint(app) == before


def test_empty_queue_says_so(venue, staff_client):
    snap = call_next(staff_client, venue.counters["W01"])
    assert snap["queue_empty"] is True
    assert snap["current"] is None
    # A ticket at another step is not this counter's queue.
    checked_in(staff_client, venue.codes[0])
    assert call_next(staff_client, venue.counters["W04"])["queue_empty"] is True


def test_start_on_a_completed_ticket_is_an_illegal_transition(app, venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    acted(staff_client, w01, vs_id, "complete")
    before = state_fingerprint(app)
    before_visit = visit(staff_client, a001["visit_id"])

    for action in ("start", "recall", "complete", "no-show", "hold"):
        r = act(staff_client, w01, vs_id, action)
        assert r.status_code == 409, (action, r.get_json())
        assert error_of(r)["code"] == "illegal_transition"

    assert state_fingerprint(app) == before
    assert visit(staff_client, a001["visit_id"]) == before_visit


def test_illegal_transition_message_is_chinese_throughout(venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    acted(staff_client, w01, vs_id, "complete")
    message = error_of(act(staff_client, w01, vs_id, "start"))["message"]
    # The state word is filled in after translation: it must be translated too.
    assert has_cjk(message)
    assert not re.search(r"[A-Za-z]{2,}", message), message


def test_unknown_counter_ticket_and_action(venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    r = staff_client.post("/api/counters/9999/call-next")
    assert (r.status_code, error_of(r)["code"]) == (404, "unknown_counter")
    r = act(staff_client, w01, 9999, "start")
    assert (r.status_code, error_of(r)["code"]) == (404, "unknown_ticket")
    r = act(staff_client, w01, vs_id, "teleport")
    assert (r.status_code, error_of(r)["code"]) == (404, "unknown_action")
    r = staff_client.get("/api/visits/9999")
    assert (r.status_code, error_of(r)["code"]) == (404, "unknown_visit")


def test_transfer_sends_the_visit_to_another_step(venue, staff_client):
    a001 = checked_in(staff_client, venue.codes[0])
    vid = a001["visit_id"]

    r = staff_client.post(
        f"/api/visits/{vid}/transfer", json={"to_step": "keys", "reason": "先验房"}
    )
    assert r.status_code == 200, r.get_json()
    status = r.get_json()
    assert status["current"]["step"]["code"] == "keys"
    assert step_states(status) == {"verify": "pending", "fees": "pending", "keys": "waiting"}
    assert call_next(staff_client, venue.counters["W04"])["current"]["ticket_no"] == "A001"


def test_transfer_validation(app, venue, staff_client):
    vid = checked_in(staff_client, venue.codes[0])["visit_id"]
    before = state_fingerprint(app)
    for payload, status, code in (
        ({}, 422, "bad_field"),
        ({"to_step": ""}, 422, "bad_field"),
        ({"to_step": "nowhere"}, 404, "unknown_step"),
        ({"to_step": "verify"}, 422, "same_step"),
    ):
        r = staff_client.post(f"/api/visits/{vid}/transfer", json=payload)
        assert r.status_code == status, payload
        assert error_of(r)["code"] == code, payload
    r = staff_client.post("/api/visits/9999/transfer", json={"to_step": "keys"})
    assert (r.status_code, error_of(r)["code"]) == (404, "unknown_visit")
    assert state_fingerprint(app) == before


def test_skip_a_step_with_a_reason(app, venue, staff_client):
    vid = checked_in(staff_client, venue.codes[0])["visit_id"]
    before = state_fingerprint(app)
    for payload, code in (
        ({"step": "verify"}, "bad_field"),
        ({"step": "verify", "reason": ""}, "bad_field"),
        ({"step": "verify", "reason": "   "}, "reason_required"),
        ({"step": "nowhere", "reason": "x"}, "unknown_step"),
    ):
        r = staff_client.post(f"/api/visits/{vid}/skip", json=payload)
        assert 400 <= r.status_code < 500
        assert error_of(r)["code"] == code, payload
    assert state_fingerprint(app) == before

    r = staff_client.post(
        f"/api/visits/{vid}/skip", json={"step": "verify", "reason": "已线上审核"}
    )
    assert r.status_code == 200, r.get_json()
    status = r.get_json()
    assert step_states(status)["verify"] == "skipped"
    assert status["current"]["step"]["code"] == "fees"


def test_cancel_needs_a_supervisor_and_a_reason(app, venue, staff_client):
    vid = checked_in(staff_client, venue.codes[0])["visit_id"]
    before = state_fingerprint(app)

    r = staff_client.post(f"/api/visits/{vid}/cancel", json={"reason": "业主要求改期"})
    assert r.status_code == 403
    assert error_of(r)["code"] == "forbidden"
    assert state_fingerprint(app) == before

    sup = app.test_client()
    login(sup, "supervisor")
    for payload in ({}, {"reason": ""}):
        r = sup.post(f"/api/visits/{vid}/cancel", json=payload)
        assert r.status_code == 422
        assert error_of(r)["code"] == "bad_field"
    r = sup.post(f"/api/visits/{vid}/cancel", json={"reason": "  "})
    assert (r.status_code, error_of(r)["code"]) == (422, "reason_required")
    assert state_fingerprint(app) == before

    r = sup.post(f"/api/visits/{vid}/cancel", json={"reason": "业主要求改期"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "cancelled"
    assert call_next(staff_client, venue.counters["W01"])["queue_empty"] is True
    # Cancelling twice is refused.
    r = sup.post(f"/api/visits/{vid}/cancel", json={"reason": "again"})
    assert (r.status_code, error_of(r)["code"]) == (422, "visit_not_active")


# ---- the owner's status page -------------------------------------------------------------


def test_status_page_shows_the_ticket_number(app, venue, staff_client):
    token = checked_in(staff_client, venue.codes[0])["status_url"].rsplit("/s/", 1)[1]
    r = app.test_client().get(f"/s/{token}")
    assert r.status_code == 200
    assert "A001" in r.get_data(as_text=True)


def test_wrong_status_token_is_a_404_page(app, venue, staff_client):
    checked_in(staff_client, venue.codes[0])
    for token in ("x" * 32, "short", "A" * 300, "..%2F..%2Fetc"):
        r = app.test_client().get(f"/s/{token}")
        assert r.status_code == 404, token
        assert r.mimetype == "text/html", token
        assert "A001" not in r.get_data(as_text=True)


def test_wrong_status_token_in_the_api_is_404_json(app, venue):
    r = app.test_client().get("/api/status/" + "x" * 32)
    assert r.status_code == 404
    assert error_of(r)["code"] == "bad_status_token"


# ---- restart -----------------------------------------------------------------------------


def queue_picture(client, visit_ids) -> dict:
    queue = client.get("/api/queue").get_json()
    return {
        "waiting": {s["code"]: s["waiting"] for s in queue["steps"]},
        "counters": {c["code"]: (c["ticket_no"], c["state"]) for c in queue["counters"]},
        "visits": {vid: visit(client, vid) for vid in visit_ids},
    }


def transition_rows(app) -> list[tuple]:
    with db(app) as s:
        return s.execute(
            select(
                StepTransition.visit_step_id,
                StepTransition.action,
                StepTransition.from_state,
                StepTransition.to_state,
                StepTransition.counter_id,
                StepTransition.at,
            ).order_by(StepTransition.id)
        ).all()


def test_a_restart_loses_nothing(app, venue, staff_client, tmp_path):
    from server.app import create_app

    ids = [checked_in(staff_client, code)["visit_id"] for code in venue.codes[:2]]
    call_next(staff_client, venue.counters["W01"])
    before = queue_picture(staff_client, ids)
    history = transition_rows(app)
    assert before["counters"]["W01"] == ("A001", "called")
    assert before["waiting"]["verify"] == 1
    assert len(history) == 3  # two enqueues, one call
    app.extensions["handover_db"].dispose()

    again = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance-after-restart"),
            "DATABASE_URL": app.config["DATABASE_URL"],
            "TESTING": True,
            "PRINT_WORKER": False,
        }
    )
    again.test_client_class = CsrfClient
    try:
        client = again.test_client()
        login(client, "staff")
        assert queue_picture(client, ids) == before
        assert transition_rows(again) == history
        # And the day carries on: the next number and the next call follow on.
        assert checked_in(client, venue.codes[2])["ticket_no"] == "A003"
        r = client.post(f"/api/counters/{venue.counters['W01']}/call-next")
        assert error_of(r)["code"] == "counter_busy"
        assert call_next(client, venue.counters["W02"])["current"]["ticket_no"] == "A002"
    finally:
        again.extensions["handover_db"].dispose()
