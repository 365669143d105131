"""Many counters pressing "call next" at once against one queue.

Used by tests/test_concurrency.py (asserts) and bench/bench_claims.py (prints figures).
Every visit must be claimed exactly once, and no counter may stop on "queue empty" while
visits are still waiting.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from server.db import Database
from server.engine import format_ticket
from server.models import (
    Building,
    Counter,
    Project,
    Staff,
    Step,
    StepTransition,
    Unit,
    Visit,
    VisitStep,
)
from server.services import queue
from server.services.actor import Actor


@dataclass
class RaceResult:
    threads: int
    visits: int
    claimed: int
    unique: int
    duplicates: int
    empty_while_waiting: int
    seconds: float
    transitions_ok: bool

    def line(self, db: str) -> str:
        return (
            f"{db}: {self.threads} threads, {self.visits} visits, {self.claimed} claims, "
            f"{self.duplicates} duplicates, {self.empty_while_waiting} 'queue empty' answers while "
            f"visits waited, {self.seconds:.2f} s ({self.claimed / self.seconds:.0f} claims/s)"
        )


def seed_queue(db: Database, *, visits: int, counters: int, day: datetime) -> list[int]:
    """`visits` owners waiting at one step, served by `counters` counters; bulk-inserted."""
    with db.session() as s:
        p = Project(code="RACE", name="并发测试")
        s.add(p)
        s.flush()
        b = Building(project_id=p.id, code="1", name="1栋")
        step = Step(
            project_id=p.id, code="verify", name_zh="资料审核", name_en="Verification", sort=0
        )
        s.add_all([b, step])
        s.flush()
        ids = []
        for i in range(counters):
            c = Counter(
                project_id=p.id,
                code=f"C{i:02d}",
                name_zh=f"{i + 1}号窗口",
                name_en=f"Counter {i + 1}",
            )
            c.steps = [step]
            s.add(c)
            s.flush()
            ids.append(c.id)
        s.add(Staff(username="race", display_name="race", role="staff", password_hash="-"))
        s.execute(
            insert(Unit),
            [
                {
                    "project_id": p.id,
                    "building_id": b.id,
                    "entrance": "1",
                    "room": str(1000 + i),
                    "notice_code": f"RACE{i:06d}",
                }
                for i in range(visits)
            ],
        )
        unit_ids = s.scalars(select(Unit.id).order_by(Unit.id)).all()
        s.execute(
            insert(Visit),
            [
                {
                    "project_id": p.id,
                    "unit_id": uid,
                    "day": day.date(),
                    "ticket_no": format_ticket("A", i + 1),
                    "status_token": f"race-token-{i:06d}-xxxxxxxx",
                    "checked_in_at": day + timedelta(seconds=i),
                    "current_step_id": step.id,
                }
                for i, uid in enumerate(unit_ids)
            ],
        )
        visit_ids = s.scalars(select(Visit.id).order_by(Visit.id)).all()
        s.execute(
            insert(VisitStep),
            [
                {
                    "visit_id": vid,
                    "step_id": step.id,
                    "day": day.date(),
                    "state": "waiting",
                    "priority_rank": 1,
                    "queue_at": day + timedelta(seconds=i),
                    "seq": vid,
                }
                for i, vid in enumerate(visit_ids)
            ],
        )
        s.commit()
        return ids


def run_race(url: str, *, threads: int = 16, visits: int = 300) -> RaceResult:
    db = Database(url)
    db.create_all()
    day = datetime(2026, 11, 27, 9, 0)
    counter_ids = seed_queue(db, visits=visits, counters=threads, day=day)
    with db.session() as s:
        staff_id = s.scalar(select(Staff.id))
    actor = Actor(staff_id=staff_id, role="staff")
    claims: list[int] = []
    lock = threading.Lock()
    empty_while_waiting = 0
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(counter_id: int) -> None:
        nonlocal empty_while_waiting
        barrier.wait()
        s = db.factory()
        try:
            while True:
                vs = queue.call_next(
                    s, counter_id=counter_id, actor=actor, now=day + timedelta(hours=1)
                )
                if vs is None:
                    # Rows another counter is claiming right now are locked: they are not
                    # "waiting" for us. Only unlocked waiting rows make "empty" a false answer.
                    available = s.scalar(
                        select(func.count()).select_from(
                            select(VisitStep.id)
                            .where(VisitStep.state == "waiting")
                            .with_for_update(skip_locked=True)
                            .subquery()
                        )
                    )
                    s.rollback()
                    if available:
                        with lock:
                            empty_while_waiting += 1
                    waiting = s.scalar(
                        select(func.count())
                        .select_from(VisitStep)
                        .where(VisitStep.state == "waiting")
                    )
                    s.rollback()
                    if waiting == 0:
                        return
                    time.sleep(0.005)  # a claim in flight may still roll back: look again
                    continue
                with lock:
                    claims.append(vs.visit_id)
                # Free the counter for its next call (completes count as service, as on the day).
                queue.complete(
                    s,
                    visit_step_id=vs.id,
                    counter_id=counter_id,
                    actor=actor,
                    now=day + timedelta(hours=1),
                )
        except BaseException as exc:  # surfaced to the caller, not swallowed in a thread
            errors.append(exc)
        finally:
            s.close()

    pool = [threading.Thread(target=worker, args=(cid,)) for cid in counter_ids]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise errors[0]
    tally = Tally(claims)
    with db.session() as s:
        calls = s.scalar(
            select(func.count()).select_from(StepTransition).where(StepTransition.action == "call")
        )
    db.dispose()
    return RaceResult(
        threads=threads,
        visits=visits,
        claimed=len(claims),
        unique=len(tally),
        duplicates=sum(n - 1 for n in tally.values() if n > 1),
        empty_while_waiting=empty_while_waiting,
        seconds=seconds,
        transitions_ok=calls == len(claims),
    )
