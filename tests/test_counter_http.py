"""The counter panels over HTTP and Socket.IO, per action and role: taking a counter, each
panel's actions, the supervisor-only ones, uploads refused with a clear message (nothing
stored), HTML error pages for browsers and JSON for the API, and live events between counters."""

from __future__ import annotations

import base64
from datetime import datetime, time

import pytest
from sqlalchemy import func, select

from server import clock
from server.models import (
    AuditLog,
    Counter,
    OwnerAbsence,
    OwnerRequest,
    PrintJob,
    StoredFile,
    VisitDocument,
)
from server.realtime import socketio
from tests.conftest import PASSWORD
from tests.counter_venue import build_counter_venue, signature_png

pytestmark = pytest.mark.usefixtures("ticking_clock")


@pytest.fixture
def cv(app):
    with app.extensions["handover_db"].session() as s:
        return build_counter_venue(s, day=datetime.combine(clock.today(), time(9, 0)))


def client_for(app, username: str):
    c = app.test_client()
    r = c.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return c


@pytest.fixture
def staff(app, cv):
    return client_for(app, "staff")


@pytest.fixture
def sup(app, cv):
    return client_for(app, "supervisor")


def png_url(data: bytes | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(data or signature_png()).decode()


def served(client, cv, code: str, i: int = 0) -> dict:
    """Checks unit i in (first time) and calls it at counter `code`; returns the panel."""
    if code == "W01":
        assert client.post("/api/checkin", json={"code": cv.v.codes[i]}).status_code == 201
    cid = cv.v.counters.get(code) or cv.sign_counter
    assert client.post(f"/api/counters/{cid}/call-next").status_code == 200
    panel = client.get(f"/api/counters/{cid}/panel").get_json()
    assert panel["visit"] is not None, panel
    return panel


def error_of(r) -> dict:
    data = r.get_json()
    assert data and data["error"]["message"], (r.status_code, r.data[:200])
    return data["error"]


def url(cv, code, panel, what):
    cid = cv.v.counters.get(code) or cv.sign_counter
    return f"/api/counters/{cid}/tickets/{panel['visit']['visit_step_id']}/{what}"


def test_take_counter_refusal_and_takeover(app, cv, staff, sup):
    other = client_for(app, "staff2")
    cid = cv.v.counters["W01"]
    assert (
        staff.post(f"/api/counters/{cid}/take", json={}).get_json()["holder"]["name"] == "测试staff"
    )
    r = other.post(f"/api/counters/{cid}/take", json={})
    assert (
        r.status_code == 403
        and "测试staff" in error_of(r)["message"]
        and "主管" in error_of(r)["message"]
    )
    r = other.post(f"/api/counters/{cid}/call-next")
    assert r.status_code == 403
    r = sup.post(f"/api/counters/{cid}/take", json={"takeover": True})
    assert r.status_code == 200 and r.get_json()["holder"]["name"] == "测试supervisor"
    assert other.post(f"/api/counters/{cid}/leave", json={}).status_code == 403
    assert sup.post(f"/api/counters/{cid}/leave", json={}).get_json()["holder"] is None


def test_verify_and_complete_gate_over_http(app, cv, staff, sup):
    panel = served(staff, cv, "W01")
    docs = panel["panel"]["documents"]
    assert len(docs) == 4 and panel["missing"]
    r = staff.post(url(cv, "W01", panel, "complete"), json={})
    assert r.status_code == 422 and "购房合同" in error_of(r)["message"]
    r = staff.post(url(cv, "W01", panel, "complete"), json={"override_reason": "x"})
    assert r.status_code == 403  # staff cannot override
    for d in docs:
        r = staff.post(
            url(cv, "W01", panel, "documents"),
            json={
                "document_type_id": d["document_type_id"],
                "owner_id": d["owner_id"],
                "status": "seen",
            },
        )
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["missing"] == []
    assert staff.post(url(cv, "W01", panel, "complete"), json={}).status_code == 200


def test_supervisor_override_and_waiver_over_http(app, cv, staff, sup):
    panel = served(staff, cv, "W01")
    r = sup.post(url(cv, "W01", panel, "complete"), json={"override_reason": "原件已于上周核验"})
    assert r.status_code == 200, r.get_json()
    panel = served(staff, cv, "W03")
    fee = panel["panel"]["items"][0]
    r = staff.post(
        url(cv, "W03", panel, "fees"),
        json={"unit_fee_id": fee["unit_fee_id"], "status": "waived", "reason": "x"},
    )
    assert r.status_code == 403
    r = sup.post(
        url(cv, "W03", panel, "fees"),
        json={"unit_fee_id": fee["unit_fee_id"], "status": "waived", "reason": "开发商承担"},
    )
    assert r.status_code == 200 and r.get_json()["panel"]["items"][0]["status"] == "waived"
    r = staff.post(
        url(cv, "W03", panel, "fees"),
        json={
            "unit_fee_id": panel["panel"]["items"][1]["unit_fee_id"],
            "status": "paid",
            "method": "wechat",
            "receipt_no": "WX-1",
        },
    )
    assert r.get_json()["panel"]["totals"]["outstanding"] == "0.00"


def test_signature_upload_checks(app, cv, staff, sup):
    panel = served(staff, cv, "W01")
    visit_id = panel["visit"]["visit_id"]
    for code in ("verify", "fees"):
        sup.post(f"/api/visits/{visit_id}/skip", json={"step": code, "reason": "测试"})
    panel = served(staff, cv, "W10")
    doc = panel["panel"]["documents"][0]
    body = {
        "document_type_id": doc["document_type_id"],
        "owner_id": doc["signatures"][0]["owner_id"],
    }
    before = 0
    # A renamed executable and a 50 MB file: refused with a clear message, nothing stored.
    r = staff.post(
        url(cv, "W10", panel, "signatures"), json={**body, "image": png_url(b"MZ\x90\x00" * 1000)}
    )
    assert r.status_code == 422 and "图片" in error_of(r)["message"]
    big = b"\x89PNG" + b"\x00" * (50 * 1024 * 1024)
    r = staff.post(url(cv, "W10", panel, "signatures"), data=big, content_type="application/json")
    assert r.status_code == 422 and "MB" in error_of(r)["message"]
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(func.count()).select_from(StoredFile)) == before
    r = staff.post(url(cv, "W10", panel, "signatures"), json={**body, "image": png_url()})
    assert r.status_code == 200
    sig = r.get_json()["panel"]["documents"][0]["signatures"][0]
    assert sig["signed"] and sig["file_id"]
    r = staff.post(url(cv, "W10", panel, "signatures"), json={**body, "image": png_url()})
    assert r.status_code == 422 and "重签" in error_of(r)["message"]


def _at_signing(staff, sup, cv) -> dict:
    panel = served(staff, cv, "W01")
    visit_id = panel["visit"]["visit_id"]
    for code in ("verify", "fees"):
        sup.post(f"/api/visits/{visit_id}/skip", json={"step": code, "reason": "测试"})
    return served(staff, cv, "W10")


def test_signature_image_is_shown_to_staff_only(app, cv, staff, sup):
    panel = _at_signing(staff, cv=cv, sup=sup)
    doc = panel["panel"]["documents"][0]
    r = staff.post(
        url(cv, "W10", panel, "signatures"),
        json={
            "document_type_id": doc["document_type_id"],
            "owner_id": doc["signatures"][0]["owner_id"],
            "image": png_url(),
        },
    )
    sig = r.get_json()["panel"]["documents"][0]["signatures"][0]
    src = sig["image_url"]
    assert src == f"/api/files/{sig['file_id']}"
    for who in (staff, sup):
        r = who.get(src)
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert staff.get(f"/api/inspect/files/{sig['file_id']}").status_code == 200  # old address
    # Nobody logged in, and an owner following their ticket's status page: refused.
    anonymous = app.test_client()
    r = anonymous.get(src)
    assert r.status_code in (401, 403) and not r.data.startswith(b"\x89PNG")
    status_url = staff.post("/api/checkin", json={"code": cv.v.codes[1]}).get_json()
    owner = app.test_client()
    link = status_url.get("status_url") or status_url["ticket"]["status_url"]
    assert owner.get(link.removeprefix("http://localhost")).status_code == 200
    r = owner.get(src)
    assert r.status_code in (401, 403) and not r.data.startswith(b"\x89PNG")
    # A file no visit uses, and a row whose path leads out of the files folder: unknown.
    with app.extensions["handover_db"].session() as s:
        stray = StoredFile(
            kind="signature", path="files/x.png", mime="image/png", size=1, sha256="0"
        )
        evil = StoredFile(
            kind="signature", path="../../../etc/passwd", mime="image/png", size=1, sha256="0"
        )
        s.add_all([stray, evil])
        s.flush()
        row = s.get(VisitDocument, s.scalar(select(VisitDocument.id)))
        s.add(
            VisitDocument(
                visit_id=row.visit_id,
                document_type_id=row.document_type_id,
                owner_id=row.owner_id,
                status="signed",
                signature_file_id=evil.id,
                supersedes_id=row.id,
                correction_reason="测试",
            )
        )
        s.commit()
        ids = (stray.id, evil.id)
    for fid in ids:
        r = staff.get(f"/api/files/{fid}")
        assert r.status_code == 404 and error_of(r)["message"] == "文件不存在。"
    assert staff.get("/api/files/99999").status_code == 404


def test_co_owner_marked_not_present_over_http(app, cv, staff, sup):
    panel = _at_signing(staff, cv=cv, sup=sup)
    p = panel["panel"]
    principal, co = (o["owner_id"] for o in p["owners"])
    for doc in p["documents"]:
        staff.post(
            url(cv, "W10", panel, "signatures"),
            json={
                "document_type_id": doc["document_type_id"],
                "owner_id": principal,
                "image": png_url(),
            },
        )
    cid = cv.sign_counter
    vsid = panel["visit"]["visit_step_id"]
    r = staff.post(f"/api/counters/{cid}/tickets/{vsid}/complete")
    assert r.status_code == 422  # the co-owner's signature is still asked for
    # Bad input: a clear message in Chinese, nothing recorded.
    r = staff.post(url(cv, "W10", panel, "absences"), json={"owner_id": co, "reason": "其他"})
    assert r.status_code == 422 and "委托代签" in error_of(r)["message"]
    r = staff.post(url(cv, "W10", panel, "absences"), json={"owner_id": "x"})
    assert r.status_code in (400, 422)
    r = staff.post(
        url(cv, "W10", panel, "absences"), json={"owner_id": principal, "reason": "not_present"}
    )
    assert r.status_code == 422 and "已签过字" in error_of(r)["message"]
    # Another staff member who does not hold the counter: refused.
    other = client_for(app, "staff2")
    r = other.post(
        url(cv, "W10", panel, "absences"), json={"owner_id": co, "reason": "not_present"}
    )
    assert r.status_code == 403
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(func.count()).select_from(OwnerAbsence)) == 0

    r = staff.post(
        url(cv, "W10", panel, "absences"),
        json={"owner_id": co, "reason": "proxy_signing", "note": "由王先生持委托书代签"},
    )
    assert r.status_code == 200
    after = r.get_json()
    assert after["panel"]["owners"][1]["absent"]["reason_zh"] == "委托代签"
    assert after["missing"] == []
    r = staff.post(f"/api/counters/{cid}/tickets/{vsid}/complete")
    assert r.status_code == 200, r.get_json()
    with app.extensions["handover_db"].session() as s:
        row = s.scalar(select(OwnerAbsence))
        assert (row.owner_id, row.absent, row.reason, row.note) == (
            co,
            True,
            "proxy_signing",
            "由王先生持委托书代签",
        )
        assert s.scalar(select(AuditLog).where(AuditLog.action == "signing.owner_absent"))


def test_keys_over_http_queue_the_receipt(app, cv, staff, sup):
    panel = served(staff, cv, "W01")
    visit_id = panel["visit"]["visit_id"]
    for code in ("verify", "fees", "sign"):
        assert (
            sup.post(
                f"/api/visits/{visit_id}/skip", json={"step": code, "reason": "测试"}
            ).status_code
            == 200
        )
    panel = served(staff, cv, "W04")
    p = panel["panel"]
    body = {
        "items": [
            {"key_item_type_id": i["key_item_type_id"], "handed": i["quantity"]} for i in p["items"]
        ],
        "readings": [{"meter_type_id": m["meter_type_id"], "reading": "abc"} for m in p["meters"]],
        "image": png_url(),
    }
    r = staff.post(url(cv, "W04", panel, "keys"), json=body)
    assert r.status_code == 422 and "数字" in error_of(r)["message"]
    body["readings"] = [
        {"meter_type_id": m["meter_type_id"], "reading": "8.3", "meter_no": "M1"}
        for m in p["meters"]
    ]
    r = staff.post(url(cv, "W04", panel, "keys"), json=body)
    assert r.status_code == 200 and r.get_json()["panel"]["handover"]["print_job_id"]
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(PrintJob.kind)) == "key_receipt"


def test_owner_requests_and_department_page(app, cv, staff, sup):
    panel = served(staff, cv, "W01")
    cid = cv.v.counters["W01"]
    r = staff.post(
        f"/api/counters/{cid}/visits/{panel['visit']['visit_id']}/requests",
        json={"category": "design", "department": "engineering", "text": "阳台能否封闭？"},
    )
    assert r.status_code == 200 and r.get_json()["visit"]["requests"][0]["text"] == "阳台能否封闭？"
    page = staff.get("/requests/engineering")
    assert page.status_code == 200 and "阳台能否封闭？" in page.get_data(as_text=True)
    assert "阳台能否封闭？" not in staff.get("/requests/customer_service").get_data(as_text=True)
    assert (
        staff.get("/api/owner-requests?department=engineering").get_json()["requests"][0][
            "category"
        ]
        == "design"
    )
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(OwnerRequest.department)) == "engineering"


def test_standard_responses_roles_and_search(app, cv, staff, sup):
    body = {"topic": "燃气开通时间", "text": "交付后统一通气。", "keywords": "燃气"}
    assert staff.post("/api/standard-responses", json=body).status_code == 403
    r = sup.post("/api/standard-responses", json=body)
    assert r.status_code == 201
    rid = r.get_json()["id"]
    r = sup.post(f"/api/standard-responses/{rid}", json={**body, "text": "交付后7日内统一通气。"})
    assert r.status_code == 201 and r.get_json()["supersedes_id"] == rid
    found = staff.get("/api/standard-responses?q=燃气").get_json()["responses"]
    assert [f["text"] for f in found] == ["交付后7日内统一通气。"]


def test_browsers_get_zh_html_error_pages_api_keeps_json(app, cv, staff, monkeypatch):
    html = {"Accept": "text/html,application/xhtml+xml"}
    r = staff.get("/counter/99999", headers=html)
    assert (
        r.status_code == 404
        and r.mimetype == "text/html"
        and "未知窗口" in r.get_data(as_text=True)
    )
    r = staff.get("/no-such-page", headers=html)
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    r = staff.get("/no-such-page?lang=en", headers=html)
    assert "This page does not exist." in r.get_data(as_text=True)
    r = staff.get("/requests/engineering", headers=html)
    assert r.status_code == 200
    r = staff.post("/api/standard-responses", json={"topic": "x", "text": "y"}, headers=html)
    assert r.status_code == 403 and r.mimetype == "application/json"
    assert staff.get("/api/nothing-here").get_json()["error"]["code"] == "http_404"
    app.config["PROPAGATE_EXCEPTIONS"] = False
    from server.services import owner_requests

    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(owner_requests, "departments", boom)
    r = staff.get("/requests/?lang=zh_CN", headers=html)
    assert r.status_code == 500 and "出错了" in r.get_data(as_text=True)
    r = staff.get("/api/owner-requests", headers=html)  # the API: JSON even for a crash
    monkeypatch.setattr(owner_requests, "for_department", boom)
    r = staff.get("/api/owner-requests")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "server_error"


def test_live_transfer_and_published_response_reach_counters(app, cv, staff, sup):
    fees_counter = cv.v.counters["W03"]
    keys_counter = cv.v.counters["W04"]
    a = socketio.test_client(
        app, flask_test_client=staff, auth={"view": "counter", "counter_id": fees_counter}
    )
    b = socketio.test_client(
        app, flask_test_client=staff, auth={"view": "counter", "counter_id": keys_counter}
    )
    try:
        panel = served(staff, cv, "W01")
        a.get_received(), b.get_received()
        r = staff.post(
            f"/api/visits/{panel['visit']['visit_id']}/transfer",
            json={"to_step": "fees", "reason": "先缴费"},
        )
        assert r.status_code == 200
        got_a = [m for m in a.get_received() if m["name"] == "ticket_transferred"]
        got_b = [m for m in b.get_received() if m["name"] == "ticket_transferred"]
        assert (
            got_a and got_a[0]["args"][0]["ticket_no"] == panel["visit"]["ticket_no"] and not got_b
        )
        sup.post(
            "/api/standard-responses",
            json={"topic": "电梯调试", "text": "每单元至少一部电梯运行。"},
        )
        for sc in (a, b):
            names = [
                m["args"][0]["topic"]
                for m in sc.get_received()
                if m["name"] == "standard_response_published"
            ]
            assert names == ["电梯调试"]
        with app.extensions["handover_db"].session() as s:
            assert s.get(Counter, cv.v.counters["W01"]).staff_id == cv.v.staff["staff"]
    finally:
        a.disconnect()
        b.disconnect()
