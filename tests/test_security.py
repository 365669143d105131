"""Issue 7, findings 2-4: no other page can act as staff (CSRF), losing access takes effect at
once (server-side sessions, sockets closed), guessing logins and pairing codes is limited."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server import auth, clock
from server.models import AuditLog, Device, Staff, StaffSession
from server.realtime import socketio
from tests.conftest import PASSWORD, login

ZH_TOO_MANY = "尝试次数过多"


def _kiosk_token(app, venue) -> tuple[int, str]:
    with app.extensions["handover_db"].session() as s:
        device = auth.create_device(s, project_id=venue.project_id, kind="kiosk", name="签到机")
        s.commit()
        code, device_id = device.pairing_code, device.id
    c = app.test_client()
    r = c.get(f"/pair/{code}")
    assert r.status_code == 302
    return device_id, c.get_cookie(auth.DEVICE_COOKIE).value


def _connected_within(sc, seconds: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not sc.is_connected():
            return False
        time.sleep(0.02)
    return sc.is_connected()


# ---- CSRF --------------------------------------------------------------------------------


def _waiting_visit(staff_client, venue) -> None:
    assert staff_client.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201


def test_another_sites_form_cannot_call_the_next_owner(app, venue):
    """A page on another port of the LAN host posts a form with the staff cookie attached."""
    browser = app.test_client(csrf=False)  # the staff member's browser, on the evil page
    login_with_token = app.test_client()
    login(login_with_token, "staff")
    browser.set_cookie("session", login_with_token.get_cookie("session").value)
    _waiting_visit(login_with_token, venue)
    w01 = venue.counters["W01"]
    for kwargs in (
        {"data": {"x": "1"}},  # <form method=post> (urlencoded)
        {"data": "{}", "content_type": "text/plain"},  # fetch(..., {mode: "no-cors"})
        {"data": b"", "content_type": "multipart/form-data; boundary=x"},
    ):
        r = browser.post(
            f"/api/counters/{w01}/call-next", headers={"Origin": "http://lan:6666"}, **kwargs
        )
        assert r.status_code == 400, r.get_json()
        assert "其他网站" in r.get_json()["error"]["message"]
    # Nobody was called; the same call from our own page (token sent) works.
    assert login_with_token.get(f"/api/counters/{w01}").get_json()["current"] is None
    assert login_with_token.post(f"/api/counters/{w01}/call-next").status_code == 200


def test_admin_forms_need_the_token(app, venue, admin_client):
    raw = app.test_client(csrf=False)
    raw.set_cookie("session", admin_client.get_cookie("session").value)
    r = raw.post("/admin/devices", data={"kind": "kiosk", "name": "伪造"})
    assert r.status_code == 400
    page = admin_client.get("/admin/devices").get_data(as_text=True)
    assert 'name="csrf_token"' in page and "伪造" not in page


def test_a_device_token_header_without_cookies_needs_no_csrf_token(app, venue):
    _device_id, token = _kiosk_token(app, venue)
    script = app.test_client(csrf=False)
    r = script.post(
        "/api/checkin", json={"code": venue.codes[0]}, headers={auth.DEVICE_HEADER: token}
    )
    assert r.status_code == 201
    # With a cookie the header does not excuse it: the cookie could be riding along.
    staff = app.test_client()
    login(staff, "staff")
    raw = app.test_client(csrf=False)
    raw.set_cookie("session", staff.get_cookie("session").value)
    r = raw.post("/api/checkin", json={"code": venue.codes[1]}, headers={auth.DEVICE_HEADER: token})
    assert r.status_code == 400


# ---- sessions ------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_dead_after_it(app, venue, staff_client):
    copied = staff_client.get_cookie("session").value
    with app.extensions["handover_db"].session() as s:
        row = s.scalar(select(StaffSession))
        # Only the hash of the random id is stored, never the id itself.
        assert row.token_hash not in copied and len(row.token_hash) == 64
    assert staff_client.post("/api/logout").status_code == 200
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/api/queue").status_code == 401


def test_a_login_lasts_one_working_day(app, venue, staff_client, monkeypatch):
    assert app.permanent_session_lifetime == timedelta(hours=14)
    assert staff_client.get("/api/queue").status_code == 200
    later = clock.now() + timedelta(hours=14, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert staff_client.get("/api/queue").status_code == 401


def test_session_hours_are_configurable(tmp_path, monkeypatch):
    from server.app import create_app

    monkeypatch.setenv("HANDOVER_SESSION_HOURS", "9")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "PRINT_WORKER": False})
    assert app.permanent_session_lifetime == timedelta(hours=9)


@pytest.fixture
def staff_socket(app, venue):
    opened = []

    def _open(role: str = "staff"):
        client = app.test_client()
        login(client, role)
        sc = socketio.test_client(app, flask_test_client=client, auth={"view": "display"})
        assert sc.is_connected()
        sc.get_received()
        opened.append(sc)
        return client, sc

    yield _open
    for sc in opened:
        if sc.is_connected():
            sc.disconnect()


def test_logout_closes_the_live_socket_and_its_resync(app, venue, staff_socket):
    client, sc = staff_socket()
    assert sc.emit("resync", {"view": "display"}, callback=True)["view"] == "display"
    assert client.post("/api/logout").status_code == 200
    assert not _connected_within(sc, 1.0)


def test_deactivating_a_staff_member_ends_their_sessions_and_sockets(
    app, venue, staff_socket, admin_client
):
    client, sc = staff_socket()
    r = admin_client.post(f"/api/staff/{venue.staff['staff']}/deactivate")
    assert r.status_code == 200
    assert not _connected_within(sc, 1.0)
    assert client.get("/api/queue").status_code == 401
    assert (
        app.test_client()
        .post("/api/login", json={"username": "staff", "password": PASSWORD})
        .status_code
        == 401
    )
    with app.extensions["handover_db"].session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "staff.deactivate")
            )
            == 1
        )


def test_changing_a_password_ends_every_login_of_that_person(app, venue, staff_socket):
    first, sc = staff_socket()
    second = app.test_client()
    login(second, "staff")
    r = second.post(
        "/api/me/password", json={"current_password": PASSWORD, "password": "new-password-9"}
    )
    assert r.status_code == 200
    assert not _connected_within(sc, 1.0)
    assert first.get("/api/queue").status_code == 401
    assert second.get("/api/queue").status_code == 401
    fresh = app.test_client()
    assert (
        fresh.post(
            "/api/login", json={"username": "staff", "password": "new-password-9"}
        ).status_code
        == 200
    )


def _save_staff_on_the_settings_page(admin_client, staff_id: int, **fields):
    """The admin's settings page (admin/config/staff), as its form posts it."""
    data = {"_form": "1", "display_name": "测试staff", "role": "staff", "department": ""}
    data.update(fields)
    return admin_client.post(f"/admin/config/staff/{staff_id}", data=data)


def test_the_settings_page_takes_access_away_like_the_api(app, venue, staff_socket, admin_client):
    """Unticking 活动 or typing a new password on the staff settings page ends that person's
    logins and closes their screens, as the API does; an admin cannot lock themselves out."""
    staff_id = venue.staff["staff"]
    client, sc = staff_socket()
    r = _save_staff_on_the_settings_page(
        admin_client, staff_id, password="another-pass-1", active="1"
    )
    assert r.status_code == 302 and "error" not in r.headers["Location"]
    assert not _connected_within(sc, 1.0)
    assert client.get("/api/queue").status_code == 401

    again = app.test_client()
    r = again.post("/api/login", json={"username": "staff", "password": "another-pass-1"})
    assert r.status_code == 200
    sc2 = socketio.test_client(app, flask_test_client=again, auth={"view": "display"})
    assert sc2.is_connected()
    r = _save_staff_on_the_settings_page(admin_client, staff_id)  # 活动 unticked
    assert r.status_code == 302 and "error" not in r.headers["Location"]
    assert not _connected_within(sc2, 1.0)
    assert again.get("/api/queue").status_code == 401

    supervisor = app.test_client()
    login(supervisor, "supervisor")
    r = _save_staff_on_the_settings_page(
        admin_client, venue.staff["supervisor"], display_name="主管", role="staff", active="1"
    )
    assert r.status_code == 302 and "error" not in r.headers["Location"]
    assert supervisor.get("/api/queue").status_code == 401  # a new role means a new login

    admin_id = venue.staff["admin"]
    r = _save_staff_on_the_settings_page(
        admin_client, admin_id, display_name="管理员", role="admin"
    )
    assert r.status_code == 302 and "error=" in r.headers["Location"]
    page = admin_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "不能停用自己的账号" in page
    assert admin_client.get("/api/queue").status_code == 200  # still logged in, still active
    with app.extensions["handover_db"].session() as s:
        actions = set(
            s.scalars(select(AuditLog.action).where(AuditLog.entity_id == staff_id)).all()
        )
        assert {"config.staff.update"} <= actions


def test_revoking_a_display_closes_its_socket(app, venue, admin_client):
    with app.extensions["handover_db"].session() as s:
        device = auth.create_device(s, project_id=venue.project_id, kind="display", name="大屏")
        s.commit()
        code, device_id = device.pairing_code, device.id
    screen = app.test_client()
    screen.get(f"/pair/{code}")
    sc = socketio.test_client(app, flask_test_client=screen, auth={"view": "display"})
    assert sc.is_connected()
    assert admin_client.post(f"/admin/devices/{device_id}/revoke").status_code == 302
    assert not _connected_within(sc, 1.0)
    with app.extensions["handover_db"].session() as s:
        assert s.get(Device, device_id).revoked


# ---- guessing ------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_for_a_while(app, venue, monkeypatch):
    client = app.test_client()
    for _ in range(5):
        r = client.post("/api/login", json={"username": "staff", "password": "wrong-password"})
        assert r.status_code == 401
    # Locked now: even the right password gets a 429 with a Chinese message.
    r = client.post("/api/login", json={"username": "staff", "password": PASSWORD})
    assert r.status_code == 429
    assert ZH_TOO_MANY in r.get_json()["error"]["message"]
    later = clock.now() + timedelta(minutes=6)
    monkeypatch.setattr(clock, "now", lambda: later)
    login(client, "staff")
    with app.extensions["handover_db"].session() as s:
        staff = s.get(Staff, venue.staff["staff"])
        assert (staff.failed_logins, staff.locked_until) == (0, None)
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("staff.login_failed") == 5
    assert "staff.login_refused" in actions


def test_one_client_cannot_guess_many_accounts(app, venue):
    client = app.test_client()
    codes = [
        client.post("/api/login", json={"username": f"user{i}", "password": "x"}).status_code
        for i in range(25)
    ]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    # The login form says it in Chinese too.
    r = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert r.status_code == 429 and ZH_TOO_MANY in r.get_data(as_text=True)


def test_pairing_codes_cannot_be_guessed_quickly(app, venue):
    client = app.test_client()
    codes = [client.get(f"/pair/WRONG{i:03d}").status_code for i in range(25)]
    assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}
    with app.extensions["handover_db"].session() as s:
        refused = s.scalars(
            select(AuditLog.data).where(AuditLog.action == "device.pair_refused")
        ).all()
    assert [d["reason"] for d in refused].count("bad_code") == 20
    assert [d["reason"] for d in refused].count("rate_limited") == 5


# ---- rate limits -----------------------------------------------------------------------------


def test_an_owner_flooding_the_status_api_gets_429(app, venue, staff_client):
    # Per minute rather than the default per second: the count must not depend on how fast
    # this shared machine runs the loop.
    app.config["RATELIMIT_ANONYMOUS"] = "10 per minute"
    tokens = []
    for code in venue.codes[:2]:
        r = staff_client.post("/api/checkin", json={"code": code})
        tokens.append(r.get_json()["status_url"].rsplit("/", 1)[1])
    phone = app.test_client()
    codes = [phone.get(f"/api/status/{tokens[0]}").status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[-1] == 429
    r = phone.get(f"/api/status/{tokens[0]}")
    assert "请求过于频繁" in r.get_json()["error"]["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60  # seconds until the minute's window frees
    # Counted per ticket (phones may share a carrier address): the next owner is served...
    assert app.test_client().get(f"/api/status/{tokens[1]}").status_code == 200
    # ...and staff are counted apart: the owner's flood does not slow them.
    assert staff_client.get("/api/queue").status_code == 200


def test_resync_is_throttled_per_socket(app, venue, staff_socket):
    app.config["RATELIMIT_SOCKET_EVENT"] = "2 per minute"  # as 2/second, independent of speed
    _client, sc = staff_socket()
    answers = [sc.emit("resync", {"view": "display"}, callback=True) for _ in range(4)]
    assert answers[0]["view"] == answers[1]["view"] == "display"
    assert answers[3]["error"]["code"] == "rate_limited"
    assert "请求过于频繁" in answers[3]["error"]["message"]


def test_a_stale_login_form_is_shown_again_in_words(app, venue):
    r = app.test_client(csrf=False).post("/login", data={"username": "staff", "password": PASSWORD})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "页面已过期" in page and 'name="csrf_token"' in page


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
def test_with_redis_several_processes_share_the_counts(tmp_path, sqlite_url):
    """Two server processes (two apps here) count one client together."""
    import redis

    from server.app import create_app

    redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).flushdb()
    apps = [
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path / f"i{n}"),
                "DATABASE_URL": sqlite_url,
                "TESTING": True,
                "PRINT_WORKER": False,
                "RATELIMIT_STORAGE_URI": os.environ["TEST_REDIS_URL"],
                "RATELIMIT_ANONYMOUS": "10 per minute",
            }
        )
        for n in range(2)
    ]
    apps[0].extensions["handover_db"].create_all()
    codes = [
        apps[n % 2].test_client().get("/api/status/" + "x" * 20).status_code for n in range(12)
    ]
    assert codes[:10] == [404] * 10 and codes[-1] == 429
