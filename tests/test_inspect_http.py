"""The inspection tablet's HTTP API: who may call what, idempotent uploads, a refused bad file,
the acceptance form PDF and the floor plans admin page."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from server.models import Defect, StoredFile, UnitType
from tests.conftest import login
from tests.inspect_venue import add_inspection, jpeg, png, to_inspection


@pytest.fixture
def walk(app, venue):
    db = app.extensions["handover_db"]
    with db.session() as s:
        ids = add_inspection(s, venue)
        visit = to_inspection(s, venue, ids)
        return {"ids": ids, "visit_id": visit.id}


def _count(app, model):
    with app.extensions["handover_db"].session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _upload(client, data, kind="photo", client_id="photo-0001", name="p.jpg"):
    return client.post(
        "/api/inspect/files",
        data={"file": (io.BytesIO(data), name), "kind": kind, "client_id": client_id},
        content_type="multipart/form-data",
    )


def test_strangers_are_sent_to_login_and_refused(app, walk):
    c = app.test_client()
    r = c.get("/inspect/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert c.get("/api/inspect/counters").status_code == 401
    assert _upload(c, jpeg()).status_code == 401
    r = c.post(f"/api/inspect/visits/{walk['visit_id']}/checks", json={})
    assert r.status_code == 401
    assert c.get(f"/inspect/visits/{walk['visit_id']}/acceptance.pdf").status_code == 401


def test_app_shell_is_installable(staff_client, walk):
    page = staff_client.get("/inspect/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'rel="manifest"' in html and "验房" in html
    sw = staff_client.get("/inspect/static/sw.js")
    assert sw.status_code == 200 and "no-cache" in sw.headers["Cache-Control"]
    assert sw.headers["Service-Worker-Allowed"] == "/inspect/"
    manifest = staff_client.get("/inspect/static/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    manifest = manifest.get_json(force=True)
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/inspect/"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}


def test_walk_download_and_idempotent_uploads(app, staff_client, walk):
    ids, vid = walk["ids"], walk["visit_id"]
    teams = staff_client.get("/api/inspect/counters").get_json()
    assert [t["counter"]["code"] for t in teams] == ["Y01", "Y02"]
    data = staff_client.get(f"/api/inspect/visits/{vid}/walk?counter={ids['Y01']}").get_json()
    assert [r["code"] for r in data["rooms"]][:3] == ["living", "dining", "master"]
    assert data["owners"][0]["name"].count("*") >= 1  # masked
    assert data["known_issues"][0]["description"].startswith("卫生间")
    assert data["missing"] == ["The inspection has no outcome yet."]

    assert _upload(staff_client, jpeg()).status_code == 201
    assert _upload(staff_client, jpeg()).status_code == 200  # retried: the same row
    assert _count(app, StoredFile) == 1
    body = {
        "counter_id": ids["Y01"],
        "client_id": "defect-0001",
        "room": "living",
        "item": "wall",
        "description": "墙面裂缝",
        "pin_x": 0.5,
        "pin_y": 0.5,
        "photos": ["photo-0001"],
    }
    first = staff_client.post(f"/api/inspect/visits/{vid}/defects", json=body)
    again = staff_client.post(f"/api/inspect/visits/{vid}/defects", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert _count(app, Defect) == 1
    bad_pin = dict(body, client_id="defect-0002", pin_x=1.5)
    r = staff_client.post(f"/api/inspect/visits/{vid}/defects", json=bad_pin)
    assert r.status_code == 422 and "平面图" in r.get_json()["error"]["message"]

    # Outcome with signature, then the acceptance form.
    assert _upload(staff_client, png(), "signature", "sig-00001", "s.png").status_code == 201
    r = staff_client.post(
        f"/api/inspect/visits/{vid}/outcome",
        json={
            "counter_id": ids["Y01"],
            "client_id": "result-0001",
            "outcome": "accepted",
            "signature": "sig-00001",
            "recorded_at": "2026-11-27T01:30:00Z",
        },
    )
    assert r.status_code == 201 and r.get_json()["attention"] is None
    assert staff_client.get(f"/api/inspect/visits/{vid}/missing").get_json() == {"missing": []}
    pdf = staff_client.get(f"/inspect/visits/{vid}/acceptance.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data[:4] == b"%PDF"


def test_a_renamed_executable_is_refused_and_nothing_stored(app, staff_client, walk):
    fake = b"MZ\x90\x00\x03" + b"\x00" * 2000  # a Windows program called photo.jpg
    r = _upload(staff_client, fake, name="photo.jpg")
    assert r.status_code == 422
    assert "图片" in r.get_json()["error"]["message"]
    assert _count(app, StoredFile) == 0
    assert _upload(staff_client, jpeg(), kind="document").status_code == 422


def test_uploads_for_a_counter_that_does_not_inspect_are_refused(staff_client, venue, walk):
    r = staff_client.post(
        f"/api/inspect/visits/{walk['visit_id']}/checks",
        json={
            "counter_id": venue.counters["W01"],
            "client_id": "check-0001",
            "room": "living",
            "item": "wall",
            "result": "ok",
        },
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "not_an_inspection_counter"


def test_records_to_resolve_and_floor_plans_are_for_supervisors(app, staff_client, walk):
    assert staff_client.get("/api/inspect/sync-issues").status_code == 403
    assert staff_client.get("/admin/floor-plans").status_code == 403
    sup = app.test_client()
    login(sup, "supervisor")
    assert sup.get("/api/inspect/sync-issues").get_json() == []
    page = sup.get("/admin/floor-plans")
    assert page.status_code == 200 and "户型图" in page.get_data(as_text=True)
    with app.extensions["handover_db"].session() as s:
        ut = s.scalar(select(UnitType).order_by(UnitType.id))
        ut_id = ut.id
    r = sup.post(
        f"/admin/floor-plans/{ut_id}",
        data={"file": (io.BytesIO(png((800, 600))), "plan.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    with app.extensions["handover_db"].session() as s:
        ut = s.get(UnitType, ut_id)
        assert ut.floor_plan_file_id is not None
        assert s.get(StoredFile, ut.floor_plan_file_id).kind == "floor_plan"
    bad = sup.post(
        f"/admin/floor-plans/{ut_id}",
        data={"file": (io.BytesIO(b"not an image"), "plan.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 302 and "error=" in bad.headers["Location"]


def _two_page_pdf(password: str | None = None) -> bytes:
    """Page 1 blank, page 2 a landscape plan whose left half is blue."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page(format=(400, 300))
    pdf.add_page(format=(600, 400))
    pdf.set_fill_color(20, 60, 200)
    pdf.rect(0, 0, 300, 400, style="F")
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    return bytes(pdf.output())


def _plan_of(app, ut_id):
    with app.extensions["handover_db"].session() as s:
        ut = s.get(UnitType, ut_id)
        f = s.get(StoredFile, ut.floor_plan_file_id) if ut.floor_plan_file_id else None
        return (f.id, f.mime, f.width, f.height, f.path) if f else None


def test_a_pdf_page_becomes_the_floor_plan_and_a_bad_pdf_changes_nothing(app, walk):
    from urllib.parse import unquote

    from PIL import Image

    sup = app.test_client()
    login(sup, "supervisor")
    with app.extensions["handover_db"].session() as s:
        ut_id = s.scalar(select(UnitType.id).order_by(UnitType.id))

    def post(data, page="2", name="plan.pdf"):
        return sup.post(
            f"/admin/floor-plans/{ut_id}",
            data={"file": (io.BytesIO(data), name), "page": page},
            content_type="multipart/form-data",
        )

    r = post(_two_page_pdf())
    assert r.status_code == 302 and "error=" not in r.headers["Location"]
    plan = _plan_of(app, ut_id)
    file_id, mime, width, height, _path = plan
    assert mime == "image/png" and (width, height) == (2400, 1600)  # longest side 2,400 px
    img = Image.open(io.BytesIO(sup.get(f"/api/inspect/files/{file_id}").data)).convert("RGB")
    assert img.getpixel((100, 800))[2] > 150 and img.getpixel((100, 800))[0] < 60  # blue half
    assert img.getpixel((2300, 800)) == (255, 255, 255)  # white half
    page = sup.get("/admin/floor-plans").get_data(as_text=True)
    assert f"/api/files/{file_id}" in page and "PDF" in page

    refused = {
        "page 3": (post(_two_page_pdf(), page="3"), "PDF 共 2 页，没有第 3 页"),
        "page x": (post(_two_page_pdf(), page="x"), "页码须为从 1 开始的整数"),
        "password": (post(_two_page_pdf(password="secret")), "PDF 设有密码"),
        "damaged": (post(b"%PDF-1.7\n garbage"), "无法读取该 PDF"),
        "not a plan": (post(b"hello", name="plan.txt"), "该文件不是图片"),
    }
    for what, (r, words) in refused.items():
        assert r.status_code == 302, what
        shown = sup.get(r.headers["Location"]).get_data(as_text=True)
        assert words in unquote(shown), (what, r.headers["Location"])
        assert _plan_of(app, ut_id) == plan, what  # nothing changed

    # page 1 is the default when the field is left empty
    assert "error=" not in post(_two_page_pdf(), page="").headers["Location"]
    assert _plan_of(app, ut_id)[2:4] == (1667, 1250)  # the 400x300 pt page, at most 300 dpi


def test_a_supervisor_resolves_a_sync_issue_on_the_page(app, walk):
    import re

    from server.models import InspectionSyncIssue

    with app.extensions["handover_db"].session() as s:
        issue = InspectionSyncIssue(
            visit_id=walk["visit_id"],
            entity="defect",
            entity_id=7,
            client_id="late-defect-0001",
            code="visit_not_active",
        )
        s.add(issue)
        s.commit()
        issue_id = issue.id
    sup = app.test_client()
    login(sup, "supervisor")
    sup.csrf = False  # from here on, only the page's own form token, as a browser sends it
    page = sup.get("/admin/floor-plans").get_data(as_text=True)
    row = re.search(rf'<tr data-issue="{issue_id}">.*?</tr>', page, re.S).group(0)
    assert "业务已结束" in row and "#7" in row
    token = re.search(r'name="csrf_token" value="([^"]+)"', row).group(1)
    action = f"/admin/floor-plans/sync-issues/{issue_id}/resolve"
    assert f'action="{action}"' in row

    # without the token: refused, still open
    assert sup.post(action, data={"resolution": "x"}).status_code in (400, 403)
    # without a note: a clear message, still open
    r = sup.post(action, data={"resolution": "  ", "csrf_token": token})
    assert "请填写原因" in sup.get(r.headers["Location"]).get_data(as_text=True)
    r = sup.post(action, data={"resolution": "已与业主核实，问题并入整改单", "csrf_token": token})
    assert r.status_code == 302
    page = sup.get(r.headers["Location"]).get_data(as_text=True)
    assert f'<tr data-issue="{issue_id}">' not in page.split('id="sync-resolved"')[0]
    resolved = page.split('id="sync-resolved"')[1]
    assert "已与业主核实，问题并入整改单" in resolved and "已处理" in page
    with app.extensions["handover_db"].session() as s:
        done = s.get(InspectionSyncIssue, issue_id)
        assert done.resolved_by_id is not None and done.resolved_at is not None
        from server.models import Staff

        name = s.get(Staff, done.resolved_by_id).display_name
    assert name in resolved and f"{done.resolved_at:%Y-%m-%d %H:%M}" in resolved
    # a second resolve is refused with a reason
    r = sup.post(action, data={"resolution": "again", "csrf_token": token})
    assert "该记录已处理" in sup.get(r.headers["Location"]).get_data(as_text=True)
    # staff may not
    staff = app.test_client()
    login(staff, "staff")
    assert staff.post(action, data={"resolution": "x"}).status_code == 403
