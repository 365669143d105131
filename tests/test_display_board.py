"""The display board as the hall sees it: each board gets only its calls, a burst of calls all
arrives in call order, the day's progress, notices from the supervisor, and voice clips that
exist and decode."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.models import AuditLog, Visit
from server.services import board, board_notices
from server.services.actor import Actor
from tests.conftest import PASSWORD, build_venue
from tests.test_sockets import call_next, check_in, named, received

pytestmark = pytest.mark.usefixtures("ticking_clock")


def paired_display(app, admin_client, name: str, steps: list[str] | None = None):
    """A display device paired in a browser of its own; with a filter when steps are given."""
    r = admin_client.post("/api/devices", json={"kind": "display", "name": name})
    device = r.get_json()
    c = app.test_client()
    assert c.get(f"/pair/{device['pairing_code']}").status_code == 302
    if steps is not None:
        r = admin_client.put(f"/api/display/devices/{device['id']}/filter", json={"steps": steps})
        assert r.status_code == 200, r.get_json()
    return c


# ---- who hears which call ----------------------------------------------------------------


def test_a_call_reaches_only_the_boards_whose_filter_matches(
    app, venue, connect, admin_client, staff_client
):
    hall = paired_display(app, admin_client, "大厅屏幕")
    fees_board = paired_display(app, admin_client, "收费区屏幕", steps=["fees"])
    verify_board = paired_display(app, admin_client, "审核区屏幕", steps=["verify"])
    boards = {
        "hall": connect(hall, view="display"),
        "fees": connect(fees_board, view="display"),
        "verify": connect(verify_board, view="display"),
    }
    snaps = {k: received(sc)[0][1] for k, sc in boards.items()}
    assert snaps["fees"]["filter"]["steps"] == ["fees"]
    assert [s["code"] for s in snaps["fees"]["steps"]] == ["fees"]  # waits of its steps only
    assert [s["code"] for s in snaps["hall"]["steps"]] == ["verify", "fees", "keys"]

    check_in(staff_client, venue.codes[0])
    call_next(staff_client, venue.counters["W01"])  # a verification call

    heard = {
        k: [c["ticket_no"] for c in named(received(sc), "ticket_called")]
        for k, sc in boards.items()
    }
    assert heard == {"hall": ["A001"], "verify": ["A001"], "fees": []}

    # The fees board's snapshot does not list it either (a reconnect shows the same thing).
    again = connect(fees_board, view="display")
    assert received(again)[0][1]["calls"] == []
    again_verify = connect(verify_board, view="display")
    assert [c["ticket_no"] for c in received(again_verify)[0][1]["calls"]] == ["A001"]


def test_a_burst_of_ten_calls_in_one_second_arrives_whole_and_in_call_order(
    app, venue, connect, staff_client
):
    for code in venue.codes[:10]:
        check_in(staff_client, code)
    sc = connect(staff_client, view="display")
    received(sc)
    # Two counters call, serve and call again, as fast as the server answers.
    order = []
    for i in range(10):
        cid = venue.counters[("W01", "W02")[i % 2]]
        current = call_next(staff_client, cid)["current"]
        order.append(current["ticket_no"])
        vs_id = current["current"]["visit_step_id"]
        for action in ("start", "complete"):
            r = staff_client.post(f"/api/counters/{cid}/tickets/{vs_id}/{action}")
            assert r.status_code == 200, r.get_json()

    calls = named(received(sc), "ticket_called")
    assert [c["ticket_no"] for c in calls] == order
    assert len(calls) == 10
    assert [c["id"] for c in calls] == sorted(c["id"] for c in calls)  # the board's queue key


def test_a_recall_reaches_the_filtered_board_marked_as_recall(
    app, venue, connect, admin_client, staff_client
):
    verify_board = connect(
        paired_display(app, admin_client, "审核区", steps=["verify"]), view="display"
    )
    received(verify_board)
    check_in(staff_client, venue.codes[0])
    w01 = venue.counters["W01"]
    vs_id = call_next(staff_client, w01)["current"]["current"]["visit_step_id"]
    assert staff_client.post(f"/api/counters/{w01}/tickets/{vs_id}/recall").status_code == 200
    calls = named(received(verify_board), "ticket_called")
    assert [(c["ticket_no"], c["recall"]) for c in calls] == [("A001", False), ("A001", True)]


def test_a_board_whose_filter_changes_is_told_to_reconnect(
    app, venue, connect, admin_client, staff_client
):
    r = admin_client.post("/api/devices", json={"kind": "display", "name": "大厅屏幕"})
    device = r.get_json()
    tv = app.test_client()
    assert tv.get(f"/pair/{device['pairing_code']}").status_code == 302
    sc = connect(tv, view="display")
    assert received(sc)[0][1]["device_id"] == device["id"]
    r = admin_client.put(f"/api/display/devices/{device['id']}/filter", json={"steps": ["keys"]})
    assert r.status_code == 200
    assert named(received(sc), "board_settings") == [{"device_id": device["id"]}]
    again = connect(tv, view="display")  # what the board does on that event
    assert received(again)[0][1]["filter"]["steps"] == ["keys"]


def test_the_board_filter_is_set_by_an_admin_only_and_checked(app, venue, admin_client):
    r = admin_client.post("/api/devices", json={"kind": "display", "name": "验房区屏幕"})
    device_id = r.get_json()["id"]
    supervisor = app.test_client()
    supervisor.post("/api/login", json={"username": "supervisor", "password": PASSWORD})
    url = f"/api/display/devices/{device_id}/filter"
    assert supervisor.put(url, json={"steps": ["fees"]}).status_code == 403
    bad = admin_client.put(url, json={"steps": ["nonsense"]})
    assert bad.status_code == 422
    assert "nonsense" in bad.get_json()["error"]["message"]
    kiosk = admin_client.post("/api/devices", json={"kind": "kiosk", "name": "签到机"}).get_json()
    assert (
        admin_client.put(f"/api/display/devices/{kiosk['id']}/filter", json={}).status_code == 404
    )
    ok = admin_client.put(url, json={"steps": ["fees"], "areas": [" A区 ", ""], "voice_en": True})
    assert ok.get_json()["filter"] == {"steps": ["fees"], "areas": ["A区"], "voice_en": True}
    with app.extensions["handover_db"].session() as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "board.filter"))
        assert entry.entity_id == device_id


# ---- progress ------------------------------------------------------------------------------


def test_progress_counts_units_handed_over_today_against_units_appointed(
    app, venue, connect, staff_client
):
    sc = connect(staff_client, view="display")
    snap = received(sc)[0][1]
    assert snap["progress"] == {"handed_over": 0, "appointed": 30}

    check_in(staff_client, venue.codes[0])
    with app.extensions["handover_db"].session() as s:
        visit = s.scalar(select(Visit))
        visit.status = "finished"  # as the last step's completion leaves it
        board.visit_changed(s, visit)
        s.commit()
    progress = named(received(sc), "board_progress")
    assert progress == [{"handed_over": 1, "appointed": 30}]


# ---- notices -------------------------------------------------------------------------------


def test_notices_are_published_ended_and_expire(database, events):
    with database.session() as s:
        venue = build_venue(s, units=2)
        sup = Actor(staff_id=venue.staff["supervisor"], role="supervisor")
        first = board_notices.publish_notice(
            s, project_id=venue.project_id, text_zh="  电梯暂停使用，请走楼梯 ", actor=sup
        )
        short = board_notices.publish_notice(
            s,
            project_id=venue.project_id,
            text_zh="十分钟后广播",
            text_en="In ten",
            minutes=10,
            actor=sup,
        )
        active = board_notices.active_notices(s, venue.project_id)
        assert [n["text_zh"] for n in active] == ["电梯暂停使用，请走楼梯", "十分钟后广播"]
        assert events[-1].event == board_notices.NOTICES_CHANGED
        assert "display" in events[-1].rooms
        assert len(events[-1].payload["notices"]) == 2

        board_notices.end_notice(s, project_id=venue.project_id, notice_id=first.id, actor=sup)
        assert [n["id"] for n in events[-1].payload["notices"]] == [short.id]
        later = clock.now() + timedelta(minutes=11)
        assert board_notices.active_notices(s, venue.project_id, now=later) == []

        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "notice")).all()
        assert sorted(actions) == ["notice.end", "notice.publish", "notice.publish"]

        from server.engine import Invalid, NotFound

        with pytest.raises(Invalid):
            board_notices.publish_notice(s, project_id=venue.project_id, text_zh="  ", actor=sup)
        with pytest.raises(NotFound):
            board_notices.end_notice(s, project_id=venue.project_id, notice_id=9999, actor=sup)


def test_notices_api_is_for_supervisors_and_reaches_the_board(app, venue, connect, staff_client):
    sc = connect(staff_client, view="display")
    received(sc)
    assert staff_client.post("/api/notices", json={"text_zh": "x"}).status_code == 403
    sup = app.test_client()
    sup.post("/api/login", json={"username": "supervisor", "password": PASSWORD})
    empty = sup.post("/api/notices", json={"text_zh": "  "})
    assert empty.status_code == 422
    assert empty.get_json()["error"]["message"] == "公告需要填写中文内容。"
    r = sup.post("/api/notices", json={"text_zh": "请A区业主到B区办理", "minutes": 30})
    assert r.status_code == 201
    notice_id = r.get_json()["id"]
    changed = named(received(sc), "notices_changed")
    assert [n["text_zh"] for n in changed[-1]["notices"]] == ["请A区业主到B区办理"]
    assert sup.post(f"/api/notices/{notice_id}/end").status_code == 200
    assert named(received(sc), "notices_changed")[-1]["notices"] == []
    page = sup.get("/display/notices")
    assert page.status_code == 200
    assert "请A区业主到B区办理" in page.get_data(as_text=True)


# ---- voice ---------------------------------------------------------------------------------


def test_every_voice_clip_exists_decodes_and_is_short(tmp_path):
    import soundfile

    from display.voice import LETTERS, VOICE_DIR, ZH_DIGITS, ZH_PHRASES, load_manifest, zh_number

    m = load_manifest()
    files = {m["chime"], *m["zh"].values(), *m["en"].values()}
    total = 0
    for rel in files:
        path = VOICE_DIR / rel
        assert path.exists(), rel
        data, rate = soundfile.read(path)
        assert data.ndim == 1, f"{rel} is not mono"
        assert 0.15 < len(data) / rate < 3.5, rel
        assert abs(data).max() > 0.1, f"{rel} is silent"
        total += path.stat().st_size
    assert total < 1_000_000  # small enough to commit and to cache on a TV
    # Everything a ticket can hold is there: digits, letters, phrases, counter numbers.
    needed = [*ZH_DIGITS, *LETTERS, *ZH_PHRASES.values(), *(zh_number(n) for n in range(1, 41))]
    assert [w for w in needed if w not in m["zh"]] == []
    # The demo's step names and its inspection teams have their own clips.
    for name in ("资料审核", "收费确认", "签约", "验房", "钥匙交接", "验房员3组"):
        assert name in m["zh"], name
    assert json.loads((VOICE_DIR / "manifest.json").read_text())["codec"] == "ogg/opus"


def test_counter_numbers_read_as_numbers():
    from display.voice import zh_number

    assert [zh_number(n) for n in (1, 3, 10, 12, 20, 38, 60)] == [
        "一",
        "三",
        "十",
        "十二",
        "二十",
        "三十八",
        "六十",
    ]
