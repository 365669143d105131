"""Admin pages over HTTP: who may reach them, the shared layout, forms carrying the CSRF
token, settings changed during the day (allowed or refused with a reason), the floor view's
actions (audited), owners' personal data masked by role, the audit log browser, imports."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from server.models import AuditLog, Counter, Owner, Step, Visit
from server.realtime import socketio
from tests.conftest import login

ADMIN_PAGES = (
    "/admin/imports",
    "/admin/config",
    "/admin/config/steps",
    "/admin/config/counters",
    "/admin/config/staff",
    "/admin/config/documents",
    "/admin/config/checklist",
    "/admin/config/fee_types",
    "/admin/audit",
    "/admin/printers",
    "/admin/devices",
)
SUPERVISOR_PAGES = ("/admin/floor", "/admin/owners")


def db(app):
    return app.extensions["handover_db"]


def checkin(client, code):
    r = client.post("/api/checkin", json={"code": code})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_staff_cannot_reach_admin_pages_api_or_floor_events(app, venue, staff_client):
    for url in ADMIN_PAGES + SUPERVISOR_PAGES:
        assert staff_client.get(url).status_code == 403, url
    assert staff_client.get("/api/admin/floor").status_code == 403
    r = staff_client.post(f"/api/admin/counters/{venue.counters['W01']}/close")
    assert r.status_code == 403
    sc = socketio.test_client(app, flask_test_client=staff_client, auth={"view": "floor"})
    assert not sc.is_connected()
    stranger = app.test_client()
    assert stranger.get("/admin/floor").status_code == 302  # to the login page


def test_every_admin_page_has_the_layout_and_every_form_its_csrf_token(app, venue, admin_client):
    for url in ADMIN_PAGES + SUPERVISOR_PAGES:
        for lang in ("zh_CN", "en"):
            html = admin_client.get(f"{url}?lang={lang}").get_data(as_text=True)
            assert 'class="topbar a-topbar"' in html, url
            assert "a-back" in html and "lang-switch" in html, url
            forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, re.S)
            for form in forms:
                assert 'name="csrf_token"' in form, (url, form[:120])
    zh = admin_client.get("/admin/printers?lang=zh_CN").get_data(as_text=True)
    assert "USB vendor id" not in zh and "← 场馆总览" in zh


def test_settings_change_during_the_day_where_safe(app, venue, admin_client):
    checkin(admin_client, venue.codes[0])
    verify = venue.steps["verify"]
    # Deleting a step that visits pass through is refused, with the reason on the page.
    r = admin_client.post(f"/admin/config/steps/{verify}/delete", follow_redirects=True)
    assert "不能删除" in r.get_data(as_text=True)
    with db(app).session() as s:
        assert s.get(Step, verify) is not None
    # Changing the steps a counter serves is fine.
    w04 = venue.counters["W04"]
    r = admin_client.post(
        f"/admin/config/counters/{w04}",
        data={
            "name_zh": "4号窗口",
            "name_en": "Counter 4",
            "steps": [str(verify)],
            "is_open": "1",
            "location_zh": "大厅B区",
        },
    )
    assert r.status_code == 302 and "error" not in r.location
    with db(app).session() as s:
        c = s.get(Counter, w04)
        assert [st.id for st in c.steps] == [verify] and c.location_zh == "大厅B区"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "config.counters.update"))
    # A new staff member: the password is stored hashed.
    admin_client.post(
        "/admin/config/staff",
        data={
            "username": "new.one",
            "display_name": "新人",
            "role": "staff",
            "password": "long-enough-1",
            "active": "1",
        },
    )
    c2 = app.test_client()
    assert (
        c2.post("/api/login", json={"username": "new.one", "password": "long-enough-1"}).status_code
        == 200
    )


def test_floor_actions_are_audited_and_refused_with_reasons(app, venue, admin_client):
    v1 = checkin(admin_client, venue.codes[0])
    checkin(admin_client, venue.codes[1])
    snap = admin_client.get("/api/admin/floor").get_json()
    assert snap["progress"]["checked_in"] == 2
    assert next(s for s in snap["steps"] if s["code"] == "verify")["waiting"] == 2
    # Priority: audited, and the visit moves up in its queue.
    r = admin_client.post(
        f"/api/admin/visits/{v1['visit_id']}/priority", json={"priority_class": "elderly"}
    )
    assert r.status_code == 200
    # A counter serving someone cannot be closed; an idle one can, and opens again.
    w01 = venue.counters["W01"]
    admin_client.post(f"/api/counters/{w01}/call-next")
    r = admin_client.post(f"/api/admin/counters/{w01}/close")
    assert r.status_code == 422 and "暂挂" in r.get_json()["error"]["message"]
    w02 = venue.counters["W02"]
    assert admin_client.post(f"/api/admin/counters/{w02}/close").status_code == 200
    snap = admin_client.get("/api/admin/floor").get_json()
    states = {c["code"]: c["state"] for c in snap["counters"]}
    assert states["W02"] == "closed" and states["W01"] == "called"
    with db(app).session() as s:
        assert s.get(Visit, v1["visit_id"]).priority_class == "elderly"
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"visit.priority", "counter.close"} <= actions


def test_personal_data_masked_for_supervisor_full_for_admin_and_logged(app, venue):
    with db(app).session() as s:
        owner = s.scalar(select(Owner).order_by(Owner.id))
        owner.id_number = "440106198001011234"
        s.commit()
        oid, phone = owner.id, owner.phone
    sup = app.test_client()
    login(sup, "supervisor")
    html = sup.get(f"/admin/owners/{oid}").get_data(as_text=True)
    assert phone not in html and "440106198001011234" not in html and "1234" in html
    assert phone not in sup.get("/admin/owners").get_data(as_text=True)
    assert sup.get("/admin/owners/export.csv").status_code == 403
    adm = app.test_client()
    login(adm, "admin")
    assert "440106198001011234" in adm.get(f"/admin/owners/{oid}").get_data(as_text=True)
    r = adm.get("/admin/owners/export.csv")
    assert "PERSONAL-DATA" in r.headers["Content-Disposition"]
    assert "个人信息" in r.get_data(as_text=True).splitlines()[0]
    with db(app).session() as s:
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"owner.view_personal_data", "export.owners"} <= actions
    # The audit log browser filters by action.
    html = adm.get("/admin/audit?action=export.owners").get_data(as_text=True)
    assert "export.owners" in html and "owner.view_personal_data" not in html.split("audit-rows")[1]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_import_page_dry_run_then_apply(app, venue, admin_client, lang):
    data = "楼栋,单元,房号\n8,1,101\n8,1,102\n8,1,abc\n".encode("gbk")
    r = admin_client.post(
        f"/admin/imports?lang={lang}",
        data={"file": (io.BytesIO(data), "units.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200  # 'abc' is a room number too: nothing wrong
    html = r.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    r = admin_client.post(f"/admin/imports?lang={lang}", data={"token": token, "apply": "1"})
    assert r.status_code == 200
    bad = "楼栋,单元,房号,楼层\n8,1,103,高\n".encode()
    r = admin_client.post(
        f"/admin/imports?lang={lang}",
        data={"file": (io.BytesIO(bad), "units.csv")},
        content_type="multipart/form-data",
    )
    words = "须为整数" if lang == "zh_CN" else "Must be a whole number."
    assert r.status_code == 422 and words in r.get_data(as_text=True)


def test_with_csrf_enforced_a_forged_form_post_is_refused_and_the_page_form_works(
    tmp_path, sqlite_url
):
    """Enforcement is the security stream's switch; the admin forms must work once it is on."""
    from datetime import datetime, time

    from server import clock
    from server.app import create_app
    from tests.conftest import build_venue

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "inst"),
            "DATABASE_URL": sqlite_url,
            "PRINT_WORKER": False,
            "WTF_CSRF_CHECK_DEFAULT": True,
        }
    )
    app.extensions["handover_db"].create_all()
    with app.extensions["handover_db"].session() as s:
        build_venue(s, day=datetime.combine(clock.today(), time(9, 0)))
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from tests.conftest import PASSWORD

    assert c.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    r = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    form = {"early_grace_minutes": "15", "wait_amber_minutes": "10", "wait_red_minutes": "30"}
    # Another site's page posting into a logged-in browser has no token: refused.
    forged = c.post("/admin/config/rules", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    html = c.get("/admin/config").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert c.post("/admin/config/rules", data={**form, "csrf_token": token}).status_code == 302
    app.extensions["handover_db"].dispose()
