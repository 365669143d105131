"""Shared fixtures: an app on a fresh database, a small venue, logged-in clients, captured events.

Service tests run on SQLite always and on PostgreSQL too when TEST_DATABASE_URL is set
(`db_url` is parametrised); each PostgreSQL test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from server import auth, clock, realtime
from server.db import Database
from server.models import (
    Appointment,
    Building,
    Counter,
    Owner,
    Project,
    Staff,
    Step,
    Unit,
    UnitOwner,
)

PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"

STEP_DEFS = (
    ("verify", "资料审核", "Verification", "A", 5),
    ("fees", "收费确认", "Fee confirmation", "A", 6),
    ("keys", "钥匙交接", "Key handover", "A", 8),
)
PASSWORD = "correct-horse-1"


@functools.cache
def _password_hash() -> str:
    return auth.hash_password(PASSWORD)  # scrypt is slow on purpose: hash once per test run


def _pg_schema_url() -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    # A connection a test leaves "idle in transaction" (a session nobody closed) would block
    # the schema's DROP for ever; the server ends such a transaction after 20 s instead.
    options = f"-csearch_path%3D{schema}%20-cidle_in_transaction_session_timeout%3D20000"
    return f"{PG_URL}{sep}options={options}", schema


def _drop_pg_schema(schema: str) -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handover.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    url, schema = _pg_schema_url()
    yield url
    _drop_pg_schema(schema)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'handover.db'}"


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.create_all()
    yield db
    db.dispose()


@dataclass
class Venue:
    project_id: int
    steps: dict[str, int]
    counters: dict[str, int]
    codes: list[str]  # notice codes of units with an appointment today
    staff: dict[str, int]  # role -> staff id
    day: datetime


def build_venue(session, *, units: int = 30, day: datetime | None = None) -> Venue:
    """A small project: 3 steps, counters per step plus a combined one, units with appointments."""
    day = day or datetime(2026, 11, 27, 9, 0)
    p = Project(code="T1", name="测试花园", name_en="Test Garden")
    session.add(p)
    session.flush()
    b = Building(project_id=p.id, code="1", name="1栋")
    session.add(b)
    session.flush()
    steps = {}
    for i, (code, zh, en, prefix, minutes) in enumerate(STEP_DEFS):
        st = Step(
            project_id=p.id,
            code=code,
            name_zh=zh,
            name_en=en,
            sort=i,
            ticket_prefix=prefix,
            default_service_minutes=minutes,
            kind=code,
        )
        session.add(st)
        steps[code] = st
    session.flush()
    counters = {}
    for i, code in enumerate(("verify", "verify", "fees", "keys"), start=1):
        c = Counter(project_id=p.id, code=f"W{i:02d}", name_zh=f"{i}号窗口", name_en=f"Counter {i}")
        c.steps = [steps[code]]
        session.add(c)
        counters[f"W{i:02d}"] = c
    combined = Counter(project_id=p.id, code="W09", name_zh="9号窗口", name_en="Counter 9")
    combined.steps = [steps["verify"], steps["fees"]]
    session.add(combined)
    counters["W09"] = combined
    codes = []
    for i in range(units):
        u = Unit(
            project_id=p.id,
            building_id=b.id,
            entrance="1",
            room=f"{(i // 4) + 1}{(i % 4) + 1:02d}",
            notice_code=f"NOTICE{i:04d}XYZ",
        )
        session.add(u)
        session.flush()
        o = Owner(project_id=p.id, name=f"王{'小大明'[i % 3]}{i}", phone=f"1380000{i:04d}")
        session.add(o)
        session.flush()
        session.add(UnitOwner(unit_id=u.id, owner_id=o.id))
        session.add(
            Appointment(
                project_id=p.id,
                unit_id=u.id,
                day=day.date(),
                slot_start=time(9, 0),
                slot_end=time(10, 0),
            )
        )
        codes.append(u.notice_code)
    staff = {}
    for role in ("admin", "supervisor", "staff"):
        s = Staff(
            username=role, role=role, display_name=f"测试{role}", password_hash=_password_hash()
        )
        session.add(s)
        staff[role] = s
    session.commit()
    return Venue(
        project_id=p.id,
        steps={k: v.id for k, v in steps.items()},
        counters={k: v.id for k, v in counters.items()},
        codes=codes,
        staff={k: v.id for k, v in staff.items()},
        day=day,
    )


@pytest.fixture
def events():
    captured: list = []
    realtime.set_emitter(captured.append)
    yield captured
    realtime.set_emitter(None)


class CsrfClient(FlaskClient):
    """A test client that behaves like our pages: it reads the CSRF token the server put in
    the page (base.html's meta tag) and sends it as X-CSRFToken on every state-changing
    request, as ui.js does. `app.test_client(csrf=False)` is a client that does not (another
    site's page, a careless script)."""

    def __init__(self, *args, csrf: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.csrf = csrf
        self._token: tuple[str | None, str] | None = None

    def csrf_token(self) -> str:
        cookie = self.get_cookie("session")
        key = cookie.value if cookie else None
        if self._token is None or self._token[0] != key:
            page = super().open("/login", method="GET").get_data(as_text=True)
            token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
            cookie = self.get_cookie("session")
            self._token = (cookie.value if cookie else None, token)
        return self._token[1]

    def open(self, *args, **kwargs):
        method = kwargs.get("method") or "GET"
        if self.csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture
def app(tmp_path, sqlite_url):
    from server.app import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": sqlite_url,
            "TESTING": True,
            "PRINT_WORKER": False,
        }
    )
    app.extensions["handover_db"].create_all()
    app.test_client_class = CsrfClient
    yield app
    app.extensions["handover_db"].dispose()


@pytest.fixture
def venue(app):
    """A venue whose day is today (the app uses the real clock)."""
    from server import clock

    with app.extensions["handover_db"].session() as s:
        return build_venue(s, day=datetime.combine(clock.today(), time(9, 0)))


def login(client, role: str) -> None:
    r = client.post("/api/login", json={"username": role, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def staff_client(app, venue):
    c = app.test_client()
    login(c, "staff")
    return c


@pytest.fixture
def admin_client(app, venue):
    c = app.test_client()
    login(c, "admin")
    return c


@pytest.fixture
def ticking_clock(monkeypatch):
    """Venue time from 10:00 today, one second per reading: independent of the hour we run.
    Modules that want it say `pytestmark = pytest.mark.usefixtures("ticking_clock")`."""
    at = [datetime.combine(clock.today(), time(10, 0))]

    def now():
        at[0] += timedelta(seconds=1)
        return at[0]

    monkeypatch.setattr(clock, "now", now)


@pytest.fixture
def connect(app):
    """connect(http_client, **auth) -> a Socket.IO test client sharing the HTTP client's cookies."""
    opened = []

    def _connect(client, **auth_data):
        sc = realtime.socketio.test_client(app, flask_test_client=client, auth=auth_data)
        opened.append(sc)
        return sc

    yield _connect
    for sc in opened:
        if sc.is_connected():
            sc.disconnect()
