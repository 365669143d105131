"""The stack's own floor: how many call-next -> start -> complete cycles a second the bare
stack can serve on this machine, with none of Handover Day's work in the requests.

    .venv/bin/python -m bench.stack_floor [--clients 8] [--seconds 10] [--workers 1]

bench_load's saturated shape measures the product; this measures what is left when the
product is taken out: the same server (gunicorn gthread, embedded as `handover run` does it,
server.wsgi_server), the same client (8 aiohttp sessions keeping their connections), SQLite
with the same pragmas (WAL, synchronous=FULL) and a write lock taken before BEGIN IMMEDIATE.
Each request: Flask's signed session cookie, one auth SELECT in a read transaction, then one
write transaction (the claim or state UPDATE and two audit INSERTs through SQLAlchemy Core),
and a small JSON answer. No CSRF, rate limits, ORM, history, screens' answers, boards or
printing. A goal above this figure cannot be met by the product on this machine; the gap
between the two is what the product's own work costs. Nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_load import ROOT, _connector, free_port, machine, pct


def make_app(db_path: str):
    from flask import Flask, jsonify, session
    from sqlalchemy import create_engine, event, text

    app = Flask(__name__)
    app.secret_key = "stack-floor-" * 4
    engine = create_engine(
        f"sqlite:///{db_path}", connect_args={"check_same_thread": False, "timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE staff (id INTEGER PRIMARY KEY, token TEXT)")
        conn.exec_driver_sql(
            "CREATE TABLE visit_steps (id INTEGER PRIMARY KEY, state TEXT, at REAL, counter INT)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_state_at ON visit_steps (state, at)")
        conn.exec_driver_sql(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, at REAL, action TEXT, data TEXT)"
        )
        conn.exec_driver_sql("INSERT INTO staff (token) VALUES ('staff-token')")
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
            "INSERT INTO visit_steps (state, at, counter) SELECT 'waiting', i, 0 FROM n"
        )
    engine.dispose()  # no pooled connection crosses gunicorn's fork

    auth = text("SELECT id FROM staff WHERE token = :token")
    claim = text(
        "UPDATE visit_steps SET state = 'called', counter = :counter, at = :at WHERE id = "
        "(SELECT id FROM visit_steps WHERE state = 'waiting' ORDER BY at LIMIT 1) RETURNING id"
    )
    move = text("UPDATE visit_steps SET state = :state, at = :at WHERE id = :id")
    audit = text("INSERT INTO audit (at, action, data) VALUES (:at, :action, '{}')")
    write_lock = threading.Lock()

    def act(change):
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            staff = conn.execute(auth, {"token": session.get("token")}).first()
            conn.exec_driver_sql("COMMIT")
            if staff is None:
                return jsonify(error="login_required"), 401
            with write_lock:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                vs = change(conn)
                for action in ("transition", "audit"):
                    conn.execute(audit, {"at": time.time(), "action": action})
                conn.exec_driver_sql("COMMIT")
        return jsonify(current={"visit_step_id": vs, "ticket_no": "A001", "state": "called"})

    @app.post("/login")
    def login():
        session["token"] = "staff-token"
        return jsonify(ok=True)

    @app.post("/counters/<int:counter_id>/call-next")
    def call_next(counter_id: int):
        return act(lambda c: c.execute(claim, {"counter": counter_id, "at": time.time()}).scalar())

    @app.post("/counters/<int:counter_id>/tickets/<int:vs>/<state>")
    def ticket(counter_id: int, vs: int, state: str):
        def change(c):
            c.execute(move, {"state": state, "at": time.time(), "id": vs})
            return vs

        return act(change)

    return app


def serve(port: int, db_path: str, workers: int) -> None:
    from server.wsgi_server import run_gunicorn

    run_gunicorn(make_app(db_path), "127.0.0.1", port, threads=100, workers=workers)


async def drive(base: str, clients: int, seconds: float) -> dict[str, Any]:
    stop = time.monotonic() + seconds
    call_ms: list[float] = []
    cycles = 0

    async def counter(i: int) -> None:
        nonlocal cycles
        # bench_load's client connections: kept open and reused, as browsers do.
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=_connector()
        ) as http:
            async with http.post(f"{base}/login") as r:
                await r.read()
            while time.monotonic() < stop:
                t0 = time.monotonic()
                async with http.post(f"{base}/counters/{i}/call-next") as r:
                    vs = (await r.json())["current"]["visit_step_id"]
                call_ms.append((time.monotonic() - t0) * 1000)
                for state in ("serving", "done"):
                    async with http.post(f"{base}/counters/{i}/tickets/{vs}/{state}") as r:
                        await r.read()
                cycles += 1

    t0 = time.monotonic()
    await asyncio.gather(*(counter(i) for i in range(clients)))
    elapsed = time.monotonic() - t0
    return {
        "cycles": cycles,
        "cycles_per_s": round(cycles / elapsed, 1),
        "call_next_p50_ms": pct(call_ms, 50),
        "call_next_p99_ms": pct(call_ms, 99),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--serve", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.workers)
        return
    tmp = tempfile.mkdtemp(prefix="handover-floor-")
    port = free_port()
    command = [sys.executable, "-m", "bench.stack_floor", "--workers", str(args.workers)]
    proc = subprocess.Popen(
        [*command, "--serve", str(port), str(Path(tmp) / "floor.db")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_wait_until_up(base))
        before = machine()
        figures = asyncio.run(drive(base, args.clients, args.seconds))
        out = {"shape": "stack floor", "workers": args.workers, "machine_before": before}
        print(json.dumps({**out, **figures, "machine_after": machine()}), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


async def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.post(f"{base}/login") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the floor server did not start")


if __name__ == "__main__":
    main()
