"""The daily report on a big day: 1,000 visits and 10,000 defects, each format timed.

    .venv/bin/python -m bench.bench_reports [--visits 1000] [--defects 10000]

Targets (issue 9): the admin page and the XLSX under 2 s, the PDF under 5 s. Each figure is
the whole request: reading the rows, building the report and rendering it (the page through
the Flask test client, logged in). The machine's core count and load are printed alongside.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time as clock_time
from datetime import date, time, timedelta

from sqlalchemy import func, select

from server.demo import build_demo
from server.demo_reports import simulate_day
from server.models import Appointment, Building, Defect, Project, Unit, Visit

DAY = date(2026, 12, 1)


def build(db, visits: int, defects: int) -> int:
    with db.session() as s:
        build_demo(s, start_day=DAY + timedelta(days=10), password_hasher=lambda p: "plain$" + p)
        project = s.scalar(select(Project))
        units = list(s.scalars(select(Unit).where(Unit.project_id == project.id)))
        b = 10
        while len(units) < visits:  # more buildings until there are enough units
            b += 1
            building = Building(project_id=project.id, code=str(b), name=f"{b}栋", sort=b)
            s.add(building)
            s.flush()
            for floor in range(1, 27):
                for room in range(1, 5):
                    for entrance in ("1", "2"):
                        u = Unit(
                            project_id=project.id,
                            building_id=building.id,
                            entrance=entrance,
                            room=f"{floor}{room:02d}",
                            floor=floor,
                            notice_code=f"B{b}{entrance}{floor:02d}{room}X{len(units)}",
                        )
                        s.add(u)
                        units.append(u)
        s.flush()
        chosen = units[:visits]
        slots = [(time(h, 0), time(h + 1, 0)) for h in (9, 10, 11, 13, 14, 15)]
        for i, u in enumerate(chosen):
            start, end = slots[i * len(slots) // len(chosen)]
            s.add(
                Appointment(
                    project_id=project.id,
                    unit_id=u.id,
                    day=DAY,
                    slot_start=start,
                    slot_end=end,
                    batch="压测",
                )
            )
        s.flush()
        simulate_day(
            s,
            project_id=project.id,
            day=DAY,
            unit_ids=[u.id for u in chosen],
            rng=random.Random(7),
            come_share=1.0,
            defects_total=defects,
            unfinished_share=0.0,
        )
        s.commit()
        n_visits = s.scalar(select(func.count()).select_from(Visit).where(Visit.day == DAY))
        n_defects = s.scalar(select(func.count()).select_from(Defect))
        print(f"day {DAY}: {n_visits} visits, {n_defects} defects")
        return project.id


def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """Median wall time and median CPU time of this process: on a shared, loaded machine the
    CPU time says what the code costs, the wall time what a user waits."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = clock_time.perf_counter(), clock_time.process_time()
        fn()
        walls.append(clock_time.perf_counter() - t0)
        cpus.append(clock_time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--defects", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default=None, help="SQLite file to keep (reused when present)")
    args = parser.parse_args()
    from server.app import create_app
    from server.reports.daily import build_daily
    from server.reports.render_pdf import render_pdf
    from server.reports.render_slip import render_slip
    from server.reports.render_xlsx import render_xlsx

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                "PRINT_WORKER": False,
                "TESTING": True,
            }
        )
        db = app.extensions["handover_db"]
        db.create_all()
        t0 = clock_time.perf_counter()
        pid = build(db, args.visits, args.defects)
        print(f"built in {clock_time.perf_counter() - t0:.1f} s")
        with db.session() as s:
            from server import auth

            auth.create_staff(s, username="bench", password="bench-password", role="supervisor")
            s.commit()
        client = app.test_client()
        page_html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page_html).group(1)
        r = client.post(
            "/api/login",
            json={"username": "bench", "password": "bench-password"},
            headers={"X-CSRFToken": token},
        )
        assert r.status_code == 200, r.get_json()

        def page():
            r = client.get(f"/admin/reports/daily?date={DAY}")
            assert r.status_code == 200, r.status_code

        def with_session(render):
            def run():
                with db.session() as s:
                    return render(build_daily(s, pid, DAY))

            return run

        cases = [
            ("report model only", with_session(lambda r: r), None),
            ("admin page (HTML + SVG)", page, 2.0),
            ("XLSX", with_session(render_xlsx), 2.0),
            ("PDF", with_session(render_pdf), 5.0),
            (
                "tally slip",
                with_session(
                    lambda r: render_slip(r, printed_at=clock_time.localtime() and r.generated_at)
                ),
                None,
            ),
        ]
        load = os.getloadavg()
        print(f"cores: {os.cpu_count()}, load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        for name, fn, target in cases:
            wall, cpu = timed(fn, args.repeat)
            verdict = "" if target is None else (" ok" if wall < target else " OVER TARGET")
            goal = f" (target < {target:.0f} s)" if target else ""
            print(f"{name:<26} wall {wall:6.2f} s  cpu {cpu:6.2f} s{goal}{verdict}")
        with db.session() as s:
            size = len(render_pdf(build_daily(s, pid, DAY)))
            print(f"PDF size {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
