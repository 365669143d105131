"""The venue a load benchmark runs against: the demo project, plus what the benchmark drives.

Built in this process before the server starts: the demo data, every appointment moved to today
(so any unit can check in), kiosks with known tokens each with its own receipt printer on the
benchmark's fake printer, one display token, and counters with one staff login each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text, update

BENCH_PASSWORD = "bench-password"


@dataclass
class Venue:
    url: str
    kiosk_tokens: list[str] = field(default_factory=list)
    display_token: str = ""
    # (counter_id, username) per counter the benchmark drives
    counters: list[tuple[int, str]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # notice codes, in check-in order
    schema: str | None = None


def fresh_database(db: str, tmp: str) -> tuple[str, str | None]:
    """SQLite file in `tmp`, or a new schema on the given PostgreSQL server."""
    if db == "sqlite":
        return f"sqlite:///{tmp}/bench.db", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in db else "?"
    return f"{db}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(db: str, schema: str | None) -> None:
    if schema is None:
        return
    admin = create_engine(db)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def build_venue(
    url: str,
    instance: str,
    *,
    printer_port: int,
    kiosks: int,
    counters_per_step: list[int],
) -> Venue:
    """`counters_per_step[i]`: how many benchmark counters serve the i-th step (and only it)."""
    from server import auth, clock
    from server.app import create_app
    from server.cli import upgrade_database
    from server.demo import build_demo
    from server.models import Appointment, Counter, Device, Printer, Staff, Step, Unit

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "PRINT_WORKER": False})
    upgrade_database(url)
    db = app.extensions["handover_db"]
    today = clock.today()
    venue = Venue(url=url)
    with db.session() as s:
        info = build_demo(s, start_day=today, password_hasher=auth.hash_password)
        pid = info.project_id
        s.execute(update(Appointment).where(Appointment.project_id == pid).values(day=today))
        for i in range(kiosks):
            token = f"bench-kiosk-{i}-{uuid.uuid4().hex}"
            kiosk = Device(
                project_id=pid,
                kind="kiosk",
                name=f"压测签到机{i + 1}",
                token_hash=auth.hash_token(token),
            )
            s.add(kiosk)
            s.flush()
            s.add(
                Printer(
                    project_id=pid,
                    name=f"压测签到机{i + 1}打印机",
                    connection="network",
                    host="127.0.0.1",
                    port=printer_port,
                    paper_width_mm=80,
                    mode="native",
                    device_id=kiosk.id,
                )
            )
            venue.kiosk_tokens.append(token)
        venue.display_token = f"bench-display-{uuid.uuid4().hex}"
        s.add(
            Device(
                project_id=pid,
                kind="display",
                name="压测大屏",
                token_hash=auth.hash_token(venue.display_token),
            )
        )
        steps = s.scalars(
            select(Step).where(Step.project_id == pid, Step.active).order_by(Step.sort)
        ).all()
        # The benchmark measures the queue's hot path: its counters press call-next, start and
        # complete without recording documents, fees or signatures, so the panels' completion
        # gate is switched off by making every step a plain one.
        for step in steps:
            step.kind = "generic"
        password_hash = auth.hash_password(BENCH_PASSWORD)
        n = 0
        for step, count in zip(steps, counters_per_step, strict=False):
            for _ in range(count):
                n += 1
                staff = Staff(
                    username=f"bench{n:02d}",
                    display_name=f"压测{n:02d}",
                    role="staff",
                    password_hash=password_hash,
                )
                counter = Counter(
                    project_id=pid,
                    code=f"B{n:02d}",
                    name_zh=f"压测{n}号窗口",
                    name_en=f"Bench {n}",
                    area="B区",
                    is_open=True,
                )
                counter.steps.append(step)
                s.add_all([staff, counter])
                s.flush()
                venue.counters.append((counter.id, staff.username))
        venue.codes = list(
            s.scalars(
                select(Unit.notice_code)
                .where(Unit.project_id == pid, Unit.handed_over.is_(False))
                .order_by(Unit.id)
            )
        )
        s.commit()
    db.dispose()
    return venue
