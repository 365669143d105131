"""The kiosk's HTTP API as a paired kiosk uses it, the staff's priority API, the notices PDF,
the web font's second face and the status link's day."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.models import Owner, Unit, Visit
from server.services import lookup, notice_codes
from tests.conftest import login


@pytest.fixture
def kiosk_client(app, venue, admin_client):
    device = admin_client.post("/api/devices", json={"kind": "kiosk", "name": "签到机"}).get_json()
    client = app.test_client()
    assert client.get(device["pairing_url"]).status_code == 302
    return client


def signed_code(app, venue, i: int) -> str:
    with app.extensions["handover_db"].session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.notice_code == venue.codes[i]))
    return notice_codes.sign(app.config["SECRET_KEY"], "T1", unit_id)


def test_scan_preview_confirm_then_the_same_ticket_again(app, venue, kiosk_client):
    code = signed_code(app, venue, 0)
    r = kiosk_client.post("/api/kiosk/lookup", json={"code": code + "\n"})
    assert r.status_code == 200, r.get_json()
    preview = r.get_json()
    assert preview["owner"] == "王*0" and preview["unit"] == "1栋1单元101"
    assert preview["slot"]["start"] == "09:00" and preview["checked_in"] is None
    r = kiosk_client.post(
        "/api/kiosk/checkin",
        json={
            "confirm": preview["confirm"],
            "party_role": "co_owner",
            "priority_requested": "elderly",
        },
    )
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["ticket_no"] == "A001" and ticket["again"] is False
    assert ticket["status_url"].startswith("http://localhost/s/")

    again = kiosk_client.post("/api/kiosk/lookup", json={"code": code}).get_json()
    assert again["checked_in"] == "A001"
    r = kiosk_client.post("/api/kiosk/checkin", json={"confirm": again["confirm"]})
    assert r.status_code == 200 and r.get_json()["again"] is True
    assert r.get_json()["ticket_no"] == "A001"
    with app.extensions["handover_db"].session() as s:
        visit = s.scalar(select(Visit))
        assert (visit.party_role, visit.priority_requested, visit.priority_class) == (
            "co_owner",
            "elderly",
            "normal",
        )


def test_kiosk_may_not_send_a_priority_class(venue, kiosk_client, staff_client):
    r = kiosk_client.post("/api/checkin", json={"code": venue.codes[0], "priority_class": "vip"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "priority_by_device"
    # Staff at the help desk may (they see the owner).
    r = staff_client.post(
        "/api/checkin", json={"code": venue.codes[0], "priority_class": "elderly"}
    )
    assert r.status_code == 201


def test_staff_confirm_a_requested_priority(app, venue, kiosk_client, staff_client):
    preview = kiosk_client.post(
        "/api/kiosk/lookup", json={"code": signed_code(app, venue, 1)}
    ).get_json()
    visit = kiosk_client.post(
        "/api/kiosk/checkin",
        json={"confirm": preview["confirm"], "priority_requested": "pregnant"},
    ).get_json()
    assert kiosk_client.get("/api/priority-requests").status_code == 403
    pending = staff_client.get("/api/priority-requests").get_json()["requests"]
    assert [p["requested"] for p in pending] == ["pregnant"]
    r = staff_client.post(f"/api/visits/{visit['visit_id']}/priority", json={"accept": True})
    assert r.status_code == 200 and r.get_json()["priority_class"] == "pregnant"
    assert staff_client.get("/api/priority-requests").get_json()["requests"] == []


def test_manual_lookup_answers_then_locks_with_a_chinese_message(app, venue, kiosk_client):
    with app.extensions["handover_db"].session() as s:
        unit = s.scalar(select(Unit).where(Unit.notice_code == venue.codes[3]))
        where = {"building_id": unit.building_id, "entrance": unit.entrance, "room": unit.room}
        phone = unit.owners[0].owner.phone
    buildings = kiosk_client.get("/api/kiosk/units").get_json()["buildings"]
    assert buildings[0]["name"] == "1栋"
    r = kiosk_client.post("/api/kiosk/lookup/manual", json={**where, "digits": phone[-4:]})
    assert r.status_code == 200 and r.get_json()["unit"] == "1栋1单元104"
    codes = []
    for i in range(lookup.MAX_WRONG):
        r = kiosk_client.post("/api/kiosk/lookup/manual", json={**where, "digits": f"9{i:03d}"})
        codes.append((r.status_code, r.get_json()["error"]["code"]))
    assert codes[0] == (422, "lookup_no_match") and codes[-1] == (429, "lookup_locked")
    r = kiosk_client.post("/api/kiosk/lookup/manual", json={**where, "digits": phone[-4:]})
    assert r.status_code == 429 and "暂停" in r.get_json()["error"]["message"]


def test_bad_or_stale_confirm_is_refused(kiosk_client):
    r = kiosk_client.post("/api/kiosk/checkin", json={"confirm": "1.1.AAAAAAAAAAAAAAAAAAAAAA"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "confirm_expired"


def test_status_link_of_another_day_is_not_valid(app, venue, staff_client, monkeypatch):
    assert staff_client.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201
    with app.extensions["handover_db"].session() as s:
        token = s.scalar(select(Visit.status_token))
    owner = app.test_client()
    assert owner.get(f"/api/status/{token}").status_code == 200
    assert owner.get(f"/s/{token}").status_code == 200
    tomorrow = clock.now() + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: tomorrow)
    assert owner.get(f"/api/status/{token}").status_code == 404
    assert owner.get(f"/s/{token}").status_code == 404


def test_notices_pdf_one_page_per_unit_with_signed_codes(app, venue, staff_client):
    from pypdf import PdfReader

    day = clock.today().isoformat()
    assert staff_client.get(f"/admin/notices.pdf?day={day}").status_code == 403
    sup = app.test_client()
    login(sup, "supervisor")
    assert "交房通知书" in sup.get("/admin/notices").get_data(as_text=True)
    r = sup.get(f"/admin/notices.pdf?day={day}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(r.data)).pages
    assert len(pages) == len(venue.codes)
    first = "".join(pages[0].extract_text().replace("\x00", "").split())
    assert "交房通知书" in first and "1栋1单元101" in first and "09:00" in first
    code = first[first.index("HD1.") :][:40]
    assert notice_codes.verify(app.config["SECRET_KEY"], code[: len(signed_code(app, venue, 0))])
    assert sup.get("/admin/notices.pdf?day=1999-01-01").status_code == 404


def test_web_font_second_face_carries_rare_name_characters(app, venue):
    from fontTools.ttLib import TTFont

    client = app.test_client()
    with app.extensions["handover_db"].session() as s:
        s.add(Owner(project_id=venue.project_id, name="王赟"))  # 赟: not in the static subset
        s.commit()
    r = client.get("/fonts/extra.woff")
    assert r.status_code == 200 and r.mimetype == "font/woff"
    cmap = TTFont(io.BytesIO(r.data)).getBestCmap()
    assert ord("赟") in cmap and ord("王") not in cmap  # only what the static face lacks
    assert (
        client.get("/fonts/extra.woff", headers={"If-None-Match": r.headers["ETag"]}).status_code
        == 304
    )
    static = client.get("/static/fonts/hd-sans-sc.woff2")
    assert static.status_code == 200 and len(static.data) < 1_200_000
    static.close()
