"""Wrong role is refused: strangers, staff below the needed role, and devices outside their
job; pairing, revoking, login answers and the login redirect."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from server import auth
from server.i18n import translate
from tests.conftest import PASSWORD, login

# ---- helpers -----------------------------------------------------------------------------


# Reachable without logging in: the login itself, pairing, the owner's token pages, assets.
PUBLIC_ENDPOINTS = {
    "admin.root",
    "admin.login",
    "admin.logout",
    "admin.api_login",
    "admin.api_logout",
    "admin.pair",
    "status.page",
    "status.api_status",
    "static",
    "_favicon",
    "kiosk.extra_font",  # the web font's second face: the login and status pages need it
}


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static")


def sample_url(rule) -> str:
    """The rule's URL with made-up arguments (1 for numbers, "x" for text)."""
    url = rule.rule
    for name, conv in rule._converters.items():
        value = "1" if type(conv).__name__ in ("IntegerConverter", "NumberConverter") else "x"
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


def guarded_routes(app):
    for rule in app.url_map.iter_rules():
        if is_public(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, sample_url(rule)


def error_code(response) -> str:
    data = response.get_json(silent=True)
    assert isinstance(data, dict) and "error" in data, (response.status_code, response.data[:200])
    return data["error"]["code"]


def new_device(admin_client, kind: str, name: str = "test device") -> dict:
    r = admin_client.post("/api/devices", json={"kind": kind, "name": name})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def paired_client(app, code: str):
    c = app.test_client()
    r = c.get(f"/pair/{code}")
    assert r.status_code == 302, r.data[:300]
    assert c.get_cookie(auth.DEVICE_COOKIE) is not None
    return c


# ---- strangers ---------------------------------------------------------------------------


def test_every_api_route_needs_a_login(app, venue):
    client = app.test_client()
    checked = 0
    for rule, method, url in guarded_routes(app):
        if not rule.rule.startswith("/api/"):
            continue
        r = client.open(url, method=method, json={})
        assert r.status_code == 401, (method, url, r.status_code)
        assert error_code(r) == "login_required", (method, url)
        checked += 1
    assert checked >= 12


def test_every_page_sends_a_stranger_to_the_login(app, venue):
    client = app.test_client()
    checked = 0
    for rule, method, url in guarded_routes(app):
        if rule.rule.startswith("/api/"):
            continue
        r = client.open(url, method=method)
        if re.search(r"\.[a-z0-9]+$", rule.rule) and r.status_code == 401:
            continue  # an image or file, not a page: a plain refusal is fine
        assert r.status_code == 302, (method, url, r.status_code)
        location = urlsplit(r.headers["Location"])
        assert location.path == "/login", (method, url, r.headers["Location"])
        checked += 1
    assert checked >= 6


def test_login_brings_you_back_to_the_page_you_wanted(app, venue):
    client = app.test_client()
    r = client.get(f"/counter/{venue.counters['W01']}")
    assert r.status_code == 302
    r = client.post(r.headers["Location"], data={"username": "staff", "password": PASSWORD})
    assert r.status_code == 302
    assert urlsplit(r.headers["Location"]).path == f"/counter/{venue.counters['W01']}"
    assert client.get(f"/counter/{venue.counters['W01']}").status_code == 200


def test_the_login_cookie_is_set_once_and_lasts_the_working_day(app, venue):
    """The cookie is written at the login with the server-side session's end (SESSION_HOURS),
    not re-signed on every answer; requests after it stay logged in."""
    client = app.test_client()
    r = client.post("/api/login", json={"username": "staff", "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie
    for _ in range(3):
        r = client.get("/api/queue")
        assert r.status_code == 200
        assert "Set-Cookie" not in r.headers


def test_logout_ends_the_session(app, venue, staff_client):
    assert staff_client.get("/api/queue").status_code == 200
    assert staff_client.post("/api/logout").status_code == 200
    r = staff_client.get("/api/queue")
    assert r.status_code == 401
    assert error_code(r) == "login_required"


# ---- login answers -----------------------------------------------------------------------


def test_wrong_password_and_unknown_user_get_the_same_answer(app, venue):
    client = app.test_client()
    wrong = client.post("/api/login", json={"username": "staff", "password": "not-the-password"})
    unknown = client.post("/api/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "bad_login"
    # Still not logged in.
    assert client.get("/api/queue").status_code == 401


def test_login_form_answers_wrong_password_like_unknown_user(app, venue):
    client = app.test_client()
    wrong = client.post("/login", data={"username": "staff", "password": "not-the-password"})
    unknown = client.post("/login", data={"username": "nobody", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    message = translate("Wrong user name or password.", "zh_CN")
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/api/queue").status_code == 401


def test_malformed_login_is_refused(app, venue):
    client = app.test_client()
    for payload in ({}, {"username": "staff"}, {"username": "", "password": PASSWORD}, ["staff"]):
        r = client.post("/api/login", json=payload)
        assert r.status_code == 422, payload
        assert error_code(r) in ("bad_field", "bad_json"), payload


OFF_SITE = [
    "//evil.example/",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "evil.example",
]


def test_the_next_parameter_cannot_leave_the_site(app, venue):
    for i, target in enumerate(OFF_SITE):
        client = app.test_client()
        # One visitor per target: eleven logins in a second from one address is a flood, and
        # the rate limit (not the redirect check) would answer it.
        client.environ_base["REMOTE_ADDR"] = f"192.168.8.{i + 10}"
        r = client.post(
            "/login",
            query_string={"next": target},
            data={"username": "staff", "password": PASSWORD},
        )
        assert r.status_code == 302, repr(target)
        location = r.headers["Location"]
        # Read it the way a browser would: no tabs or newlines, "\" is "/".
        seen = re.sub(r"[\x00-\x20\x7f]", "", location).replace("\\", "/")
        parts = urlsplit(seen)
        assert parts.scheme in ("", "http"), (target, location)
        assert parts.netloc in ("", "localhost"), (target, location)
        assert not seen.startswith("//"), (target, location)


# ---- staff roles -------------------------------------------------------------------------


def test_only_admins_register_devices(app, venue, staff_client, admin_client):
    before = staff_client.post("/api/devices", json={"kind": "kiosk", "name": "Kiosk 1"})
    assert before.status_code == 403
    assert error_code(before) == "forbidden"
    sup = app.test_client()
    login(sup, "supervisor")
    assert sup.post("/api/devices", json={"kind": "kiosk", "name": "Kiosk 1"}).status_code == 403
    assert staff_client.get("/admin/devices").status_code == 403

    device = new_device(admin_client, "kiosk", "Kiosk 1")
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", device["pairing_code"])
    assert device["pairing_code"] in device["pairing_url"]
    assert admin_client.get("/admin/devices").status_code == 200
    # The link shown to the admin pairs the device.
    kiosk = app.test_client()
    assert kiosk.get(device["pairing_url"]).status_code == 302
    assert kiosk.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201


def test_device_registration_is_validated(venue, admin_client):
    for payload in (
        {"kind": "toaster", "name": "x"},
        {"kind": "kiosk"},
        {"kind": "kiosk", "name": ""},
    ):
        r = admin_client.post("/api/devices", json=payload)
        assert r.status_code == 422, payload


# ---- devices -----------------------------------------------------------------------------


def test_kiosk_device_checks_in_but_does_not_call(app, venue, admin_client):
    device = new_device(admin_client, "kiosk")
    kiosk = app.test_client()
    r = kiosk.get(f"/pair/{device['pairing_code']}")
    assert r.status_code == 302
    assert urlsplit(r.headers["Location"]).path == "/kiosk/"

    assert kiosk.get("/kiosk/").status_code == 200
    r = kiosk.post("/api/checkin", json={"code": venue.codes[0]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["ticket_no"] == "A001"

    for method, url in (
        ("POST", f"/api/counters/{venue.counters['W01']}/call-next"),
        ("GET", "/api/counters"),
        ("GET", "/api/display"),
        ("GET", f"/api/visits/{r.get_json()['visit_id']}"),
        ("POST", f"/api/visits/{r.get_json()['visit_id']}/cancel"),
        ("POST", "/api/devices"),
        ("GET", "/admin/"),
        ("GET", "/display/"),
    ):
        answer = kiosk.open(url, method=method, json={})
        assert answer.status_code == 403, (method, url, answer.status_code)
        assert error_code(answer) == "forbidden"


def test_display_device_reads_the_board_but_does_not_check_in(app, venue, admin_client):
    device = new_device(admin_client, "display")
    display = paired_client(app, device["pairing_code"])

    r = display.get("/api/display")
    assert r.status_code == 200
    assert {"steps", "calls", "counters"} <= set(r.get_json())
    assert display.get("/display/").status_code == 200
    r = display.post("/api/checkin", json={"code": venue.codes[0]})
    assert r.status_code == 403
    assert error_code(r) == "forbidden"
    r = display.post(f"/api/counters/{venue.counters['W01']}/call-next")
    assert r.status_code == 403


def test_device_token_also_works_as_a_header(app, venue, admin_client):
    device = new_device(admin_client, "display")
    token = paired_client(app, device["pairing_code"]).get_cookie(auth.DEVICE_COOKIE).value
    r = app.test_client().get("/api/display", headers={auth.DEVICE_HEADER: token})
    assert r.status_code == 200
    r = app.test_client().get("/api/display", headers={auth.DEVICE_HEADER: token + "x"})
    assert r.status_code == 401


def test_a_pairing_code_works_once(app, venue, admin_client):
    device = new_device(admin_client, "kiosk")
    first = paired_client(app, device["pairing_code"].lower())  # typed in lower case: fine

    thief = app.test_client()
    r = thief.get(f"/pair/{device['pairing_code']}")
    assert r.status_code == 404
    assert thief.get_cookie(auth.DEVICE_COOKIE) is None
    assert thief.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 401
    # The device that paired first keeps working.
    assert first.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201


def test_unknown_pairing_code_is_refused(app, venue):
    for path in ("/pair/ABCDEFGH", "/pair?code=ABCDEFGH"):
        r = app.test_client().get(path)
        assert r.status_code == 404, path


def test_a_revoked_device_is_refused(app, venue, admin_client):
    device = new_device(admin_client, "kiosk")
    kiosk = paired_client(app, device["pairing_code"])
    assert kiosk.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201

    r = admin_client.post(f"/admin/devices/{device['id']}/revoke")
    assert r.status_code == 302

    r = kiosk.post("/api/checkin", json={"code": venue.codes[1]})
    assert r.status_code == 401
    assert error_code(r) == "login_required"
    assert kiosk.get("/api/queue").status_code == 401
    assert urlsplit(kiosk.get("/kiosk/").headers["Location"]).path == "/login"


def test_repairing_a_device_retires_its_old_token(app, venue, admin_client):
    device = new_device(admin_client, "kiosk")
    old = paired_client(app, device["pairing_code"])
    admin_client.post(f"/admin/devices/{device['id']}/repair")
    with app.extensions["handover_db"].session() as s:
        from server.models import Device

        code = s.get(Device, device["id"]).pairing_code
    new = paired_client(app, code)
    assert new.post("/api/checkin", json={"code": venue.codes[0]}).status_code == 201
    assert old.post("/api/checkin", json={"code": venue.codes[1]}).status_code == 401
