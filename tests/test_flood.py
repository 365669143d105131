"""One owner (or one staff screen) cannot freeze the floor (issue 7, finding 1), and no other
page may open a Socket.IO connection (finding 2). Against a real server process
(`handover run`: gunicorn, threads) with real python-socketio clients.

A status-page socket and a staff socket flood `resync` as fast as they can for ~10 s while
another staff member's HTTP requests are timed.
"""

from __future__ import annotations

import gc
import multiprocessing
import re
import statistics
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import pytest
import requests
import socketio as sio

from server import clock
from server.db import Database
from tests.conftest import PASSWORD, build_venue
from tests.live_server import running_server, server_env

FLOOD_SECONDS = 10.0
# The issue's bound. Measured on the 2-core machine with the two flooder processes taking
# its cores away from the server: p99 41-52 ms at load average 4 (before: 9-128 s).
P99_LIMIT = 0.2
THREADS = 100


def _proc_status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("flood")
    db_url = f"sqlite:///{instance / 'handover.db'}"
    db = Database(db_url)
    db.create_all()
    with db.session() as s:
        build_venue(s, units=6, day=datetime.combine(clock.today(), dtime(9, 0)))
    db.dispose()
    env = server_env(
        instance,
        DATABASE_URL=db_url,
        PRINT_WORKER="0",
        THREADS=str(THREADS),
        LOG_LEVEL="WARNING",
    )
    with running_server(env, instance / "server.log") as server:
        yield server.base, _worker_pid(server.proc.pid), server.log


def _worker_pid(master: int) -> int:
    """gunicorn's single worker (the process that serves), else the master itself."""
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.1)
    return master


def _staff_session(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = http.post(
        f"{base}/api/login",
        json={"username": username, "password": PASSWORD},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    page = http.get(f"{base}/login", timeout=5).text  # the login gave a new CSRF token
    http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return http


def _socket(
    base: str, auth: dict, http: requests.Session | None = None, transport="websocket", **headers
):
    client = sio.Client(reconnection=False)
    cookie = "; ".join(f"{k}={v}" for k, v in (http.cookies.items() if http else []))
    if cookie:
        headers["Cookie"] = cookie
    client.connect(base, auth=auth, headers=headers, transports=[transport], wait_timeout=10)
    return client


def flood(base: str, name: str, auth: dict, cookie: str, stop, results, ready) -> None:
    """A persistent attacker: emit as fast as possible, reconnect when thrown out."""
    mine = {"sent": 0, "connects": 0, "refused": 0}
    ready.put(name)
    headers = {"Cookie": cookie} if cookie else {}
    while not stop.is_set():
        client = sio.Client(reconnection=False)
        try:
            client.connect(base, auth=auth, headers=headers, transports=["websocket"])
        except sio.exceptions.ConnectionError:
            mine["refused"] += 1
            time.sleep(0.05)
            continue
        mine["connects"] += 1
        while not stop.is_set() and client.connected:
            try:
                client.emit("resync", auth)
            except Exception:
                break
            mine["sent"] += 1
        client.disconnect()
    results.put((name, mine))


def test_another_origin_cannot_open_a_socket(server):
    base, _pid, _log = server
    staff = _staff_session(base, "staff")
    # Long-polling: the Origin header goes exactly as given (websocket-client adds its own).
    with pytest.raises(sio.exceptions.ConnectionError):
        _socket(base, {"view": "display"}, staff, "polling", Origin="http://127.0.0.1:6666")
    own = _socket(base, {"view": "display"}, staff, "polling", Origin=base)
    assert own.connected
    own.disconnect()


def test_a_resync_flood_does_not_slow_staff_down(server):
    base, pid, log = server
    staff = _staff_session(base, "staff")
    timed = _staff_session(base, "supervisor")
    r = staff.post(f"{base}/api/checkin", json={"code": "NOTICE0000XYZ"}, timeout=10)
    assert r.status_code == 201, r.text
    token = r.json()["status_url"].rsplit("/", 1)[1]
    for _ in range(10):  # warm up the timed path
        timed.get(f"{base}/api/queue", timeout=5)
    before = _proc_status(pid)

    # The flooders run in processes of their own, as the attacker's phone would: in this
    # process their busy loops would hold the GIL and slow down the timing instead.
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    results = ctx.Queue()
    ready = ctx.Queue()
    cookie = "; ".join(f"{k}={v}" for k, v in staff.cookies.items())
    flooders = [
        ctx.Process(
            target=flood,
            args=(base, "owner", {"view": "status", "token": token}, "", stop, results, ready),
        ),
        ctx.Process(
            target=flood, args=(base, "staff", {"view": "display"}, cookie, stop, results, ready)
        ),
    ]
    for p in flooders:
        p.start()
    for _ in flooders:  # a spawned interpreter takes a while on a loaded machine
        ready.get(timeout=60)
    time.sleep(0.5)
    latencies: list[float] = []
    peak_threads = 0
    # The timing client runs in this (pytest) process, whose heap after the whole suite makes
    # a full collection stop it for 80-400 ms (seen with a gc.callbacks probe): a pause of
    # the client, not of the server, which failed the bound in a full run only.
    gc.disable()
    started = time.monotonic()
    try:
        while time.monotonic() - started < FLOOD_SECONDS:
            t0 = time.perf_counter()
            r = timed.get(f"{base}/api/queue", timeout=30)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200
            peak_threads = max(peak_threads, _proc_status(pid)["Threads"])
            time.sleep(0.05)
    finally:
        gc.enable()
        stop.set()
        counts = {}
        for _ in flooders:
            name, mine = results.get(timeout=30)
            counts[name] = mine
        for p in flooders:
            p.join(10)
    time.sleep(2)
    after = _proc_status(pid)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\nflood {FLOOD_SECONDS:.0f}s: {counts}; staff GET /api/queue n={len(latencies)} "
        f"p50={statistics.median(latencies) * 1000:.0f} ms p99={p99 * 1000:.0f} ms "
        f"max={latencies[-1] * 1000:.0f} ms; threads {before['Threads']}->{peak_threads}; "
        f"RSS {before['VmRSS'] // 1024}->{after['VmRSS'] // 1024} MB"
    )
    # Both flooded for real and were thrown out (and came back) again and again.
    assert counts["owner"]["connects"] > 1 and counts["staff"]["connects"] > 1, counts
    assert counts["owner"]["sent"] + counts["staff"]["sent"] > 2000, counts
    assert p99 < P99_LIMIT, f"p99 {p99 * 1000:.0f} ms"
    # No request waited for a DB connection or failed (the pool was not exhausted).
    text = log.read_text(errors="replace")
    # (engineio's own writer thread may log a race closing a socket the client reset: not ours.)
    for failure in ("QueuePool limit", "Exception on /", "handler error", "ERROR:server."):
        assert failure not in text, text[-2000:]
    # No thread per event (tens of thousands of events; before: 5,100 threads in 5 s). Threads
    # follow connections: gunicorn's pool (THREADS), plus a reader and a writer per websocket,
    # open or still being torn down after the server threw it out or refused it.
    attempts = sum(c["connects"] + c["refused"] for c in counts.values())
    assert peak_threads < before["Threads"] + THREADS + 2 * attempts, (peak_threads, attempts)
    assert after["VmRSS"] < before["VmRSS"] + 30 * 1024  # memory back near its level
