"""Socket.IO as the screens use it: who may connect to which view, the snapshot on every
(re)connect, and the live events after HTTP actions."""

from __future__ import annotations

import time as timer

import pytest

from tests.conftest import login

# ---- helpers -----------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("ticking_clock")


def received(sc) -> list[tuple[str, dict]]:
    return [(m["name"], m["args"][0] if m["args"] else None) for m in sc.get_received()]


def received_until(sc, name: str, until=lambda payload: True, timeout: float = 3.0):
    """What arrives until an event `name` whose payload satisfies `until` has: queue states
    are merged under a burst (the newest follows within realtime.COALESCE_SECONDS, and an
    older one may come first), calls and visits come at once."""
    messages = received(sc)
    deadline = timer.monotonic() + timeout
    while not any(until(p) for p in named(messages, name)) and timer.monotonic() < deadline:
        timer.sleep(0.02)
        messages += received(sc)
    return messages


def named(messages, name: str) -> list[dict]:
    return [payload for n, payload in messages if n == name]


def only_snapshot(sc) -> dict:
    messages = received(sc)
    assert messages, "nothing received on connect"
    assert messages[0][0] == "snapshot", [n for n, _ in messages]
    return messages[0][1]


def check_in(client, code: str) -> dict:
    r = client.post("/api/checkin", json={"code": code})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def call_next(client, counter_id: int) -> dict:
    r = client.post(f"/api/counters/{counter_id}/call-next")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def token_of(visit: dict) -> str:
    return visit["status_url"].rsplit("/s/", 1)[1]


def waiting(payload: dict) -> dict[str, int]:
    return {s["code"]: s["waiting"] for s in payload["steps"]}


# ---- who may connect ---------------------------------------------------------------------


@pytest.mark.parametrize("view", ["display", "counter", "kiosk", "supervisor", "", "nonsense"])
def test_a_stranger_is_refused(app, venue, connect, view):
    sc = connect(app.test_client(), view=view, counter_id=venue.counters["W01"])
    assert not sc.is_connected()


def test_staff_are_refused_the_supervisor_view_and_unknown_views(app, venue, connect, staff_client):
    assert not connect(staff_client, view="supervisor").is_connected()
    assert not connect(staff_client, view="nonsense").is_connected()
    assert not connect(staff_client, view="counter", counter_id=9999).is_connected()
    assert not connect(staff_client, view="counter", counter_id="W01").is_connected()

    sup = app.test_client()
    login(sup, "supervisor")
    sc = connect(sup, view="supervisor")
    assert sc.is_connected()
    assert only_snapshot(sc)["view"] == "supervisor"


def test_paired_devices_connect_only_to_their_own_view(app, venue, connect, admin_client):
    devices = {}
    for kind in ("display", "kiosk"):
        code = admin_client.post("/api/devices", json={"kind": kind, "name": kind}).get_json()[
            "pairing_code"
        ]
        c = app.test_client()
        assert c.get(f"/pair/{code}").status_code == 302
        devices[kind] = c

    assert connect(devices["display"], view="display").is_connected()
    assert connect(devices["kiosk"], view="kiosk").is_connected()
    assert not connect(devices["kiosk"], view="display").is_connected()
    assert not connect(devices["display"], view="kiosk").is_connected()
    for c in devices.values():
        assert not connect(c, view="counter", counter_id=venue.counters["W01"]).is_connected()
        assert not connect(c, view="supervisor").is_connected()


# ---- display -----------------------------------------------------------------------------


def test_display_gets_a_snapshot_first(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    sc = connect(staff_client, view="display")
    assert sc.is_connected()
    snap = only_snapshot(sc)
    assert snap["view"] == "display"
    assert [s["code"] for s in snap["steps"]] == ["verify", "fees", "keys"]
    assert waiting(snap) == {"verify": 1, "fees": 0, "keys": 0}
    assert snap["calls"] == []
    assert snap["project"]["name"] == "测试花园"


def test_display_hears_the_call_live(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    check_in(staff_client, venue.codes[1])
    sc = connect(staff_client, view="display")
    received(sc)  # the snapshot

    call_next(staff_client, venue.counters["W01"])
    messages = received_until(
        sc,
        "queue_changed",
        until=lambda q: any(c["ticket_no"] == "A001" for c in q["counters"]),
    )
    calls = named(messages, "ticket_called")
    assert len(calls) == 1
    assert calls[0]["ticket_no"] == "A001"
    assert calls[0]["recall"] is False
    assert calls[0]["counter"]["name_zh"] == "1号窗口"
    assert calls[0]["counter"]["name_en"] == "Counter 1"
    assert calls[0]["step"]["code"] == "verify"
    changes = named(messages, "queue_changed")
    assert changes
    assert waiting(changes[-1]) == {"verify": 1, "fees": 0, "keys": 0}
    serving = {c["code"]: c["ticket_no"] for c in changes[-1]["counters"]}
    assert serving["W01"] == "A001"
    # The display is not told about owners' personal status.
    assert named(messages, "visit_updated") == []


def test_a_recall_is_announced_as_a_recall(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    sc = connect(staff_client, view="display")
    received(sc)
    assert staff_client.post(f"/api/counters/{w01}/tickets/{vs_id}/recall").status_code == 200
    calls = named(received(sc), "ticket_called")
    assert [(c["ticket_no"], c["recall"]) for c in calls] == [("A001", True)]


def test_a_refused_action_announces_nothing(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    call_next(staff_client, w01)
    sc = connect(staff_client, view="display")
    received(sc)
    r = staff_client.post(f"/api/counters/{w01}/call-next")
    assert r.status_code == 422
    assert received(sc) == []


def test_reconnect_gets_a_fresh_snapshot_with_what_was_missed(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    check_in(staff_client, venue.codes[1])
    sc = connect(staff_client, view="display")
    assert only_snapshot(sc)["calls"] == []

    sc.disconnect()
    assert not sc.is_connected()
    call_next(staff_client, venue.counters["W01"])
    check_in(staff_client, venue.codes[2])

    again = connect(staff_client, view="display")
    snap = only_snapshot(again)
    assert [c["ticket_no"] for c in snap["calls"]] == ["A001"]
    assert snap["calls"][0]["counter"]["code"] == "W01"
    assert waiting(snap)["verify"] == 2
    assert {c["code"]: c["ticket_no"] for c in snap["counters"]}["W01"] == "A001"


def test_resync_returns_the_current_snapshot(venue, connect, staff_client):
    sc = connect(staff_client, view="display")
    received(sc)
    check_in(staff_client, venue.codes[0])
    call_next(staff_client, venue.counters["W01"])
    received(sc)

    snap = sc.emit("resync", {"view": "display"}, callback=True)
    assert snap["view"] == "display"
    assert [c["ticket_no"] for c in snap["calls"]] == ["A001"]
    # Asking for more than the connection may see is refused, not answered.
    denied = sc.emit("resync", {"view": "supervisor"}, callback=True)
    assert denied["error"]["code"] == "forbidden"


# ---- counter -----------------------------------------------------------------------------


def test_counter_view_snapshot_and_updates(venue, connect, staff_client):
    check_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    sc = connect(staff_client, view="counter", counter_id=w01)
    snap = only_snapshot(sc)
    assert snap["counter"]["code"] == "W01"
    assert snap["current"] is None
    assert [w["waiting"] for w in snap["waiting"]] == [1]

    call_next(staff_client, w01)
    messages = received(sc)
    assert [c["ticket_no"] for c in named(messages, "ticket_called")] == ["A001"]
    assert named(messages, "visit_updated")[-1]["current"]["state"] == "called"


# ---- the owner's phone -------------------------------------------------------------------


def test_status_view_follows_one_visit(app, venue, connect, staff_client):
    mine = check_in(staff_client, venue.codes[0])
    other = check_in(staff_client, venue.codes[1])
    phone = app.test_client()  # owners never log in
    sc = connect(phone, view="status", token=token_of(mine))
    assert sc.is_connected()
    snap = only_snapshot(sc)
    assert snap["view"] == "status"
    assert snap["visit"]["ticket_no"] == "A001"
    assert snap["visit"]["current"]["state"] == "waiting"

    w01 = venue.counters["W01"]
    call_next(staff_client, w01)
    messages = received(sc)
    updates = named(messages, "visit_updated")
    assert updates, [n for n, _ in messages]
    assert updates[-1]["ticket_no"] == "A001"
    assert updates[-1]["current"]["state"] == "called"
    assert updates[-1]["current"]["counter"]["name_zh"] == "1号窗口"
    assert [c["ticket_no"] for c in named(messages, "ticket_called")] == ["A001"]

    # Someone else's ticket is not this phone's business.
    call_next(staff_client, venue.counters["W02"])
    leaked = [
        (n, p)
        for n, p in received(sc)
        if (p or {}).get("ticket_no") == other["ticket_no"]
        or (p or {}).get("visit_id") == other["visit_id"]
    ]
    assert leaked == []


@pytest.mark.parametrize("token", ["", "x" * 32, None, 12345])
def test_status_view_with_a_bad_token_is_refused(app, venue, connect, staff_client, token):
    check_in(staff_client, venue.codes[0])
    sc = connect(app.test_client(), view="status", token=token)
    assert not sc.is_connected()
