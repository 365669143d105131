"""Load benchmark against a real `handover run` process on loopback.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python -m bench.bench_load --shape saturated [--db sqlite|postgresql+psycopg://...]
    .venv/bin/python -m bench.bench_load --shape peak --minutes 3

Shapes (issue 6):
- saturated: 8 kiosks check 300 visits in as fast as they can, then 8 counters (serving the
  first step) each loop call-next -> start -> complete until the queue is empty; 100 boards
  connected throughout.
- peak: open loop, a busy hour shortened: 30 counters each acting every 20-60 s, 8 kiosks with
  2 check-ins/s in total, 10 boards and up to 500 owner status pages connected (a backlog is
  checked in first so that the pages are there from the start).

Each run builds a fresh venue (demo data) in a temporary instance, or a fresh schema on the
given PostgreSQL server, starts `handover run` on a free loopback port with the print worker
sending to a fake printer in this process, and prints one JSON object. Nothing here runs in
the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.load_sockets import SocketClients
from bench.load_venue import BENCH_PASSWORD, Venue, build_venue, drop_schema, fresh_database
from server.printing.fake_printer import FakePrinter

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], p: float, digits: int = 1) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return round(s[k], digits)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TimedPrinter(FakePrinter):
    """Remembers when each job's last byte arrived."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.arrivals: list[tuple[float, bytes]] = []

    def _record(self, data: bytes) -> None:
        self.arrivals.append((time.monotonic(), data))
        super()._record(data)


def ticket_arrivals(printer: TimedPrinter, issued: dict[str, float]) -> dict[str, float]:
    """ticket number -> seconds from the check-in answer to its bytes at the printer."""
    out: dict[str, float] = {}
    for at, data in list(printer.arrivals):
        for ticket, answered in issued.items():
            if ticket not in out and ticket.encode() in data:
                out[ticket] = at - answered
                break
    return out


# --- server ----------------------------------------------------------------------------------


class Server:
    def __init__(
        self,
        url: str,
        instance: str,
        port: int,
        threads: int,
        workers: int = 1,
        message_queue: str | None = None,
    ):
        env = {
            **os.environ,
            "HANDOVER_DATABASE_URL": url,
            "HANDOVER_INSTANCE_PATH": instance,
            "HANDOVER_THREADS": str(threads),
            "HANDOVER_WORKERS": str(workers),
            **({"HANDOVER_SOCKETIO_MESSAGE_QUEUE": message_queue} if message_queue else {}),
            "HANDOVER_LOG_LEVEL": "WARNING",
            # The 100 boards share one display token here (one client to the rate limiter);
            # on a real floor each board is a device of its own, 12 connects a minute each.
            "HANDOVER_RATELIMIT_SOCKET_CONNECT": "2000 per minute",
            # A kiosk or counter here presses as fast as the server answers (tens a second); a
            # real one cannot, and its per-client limit (20 a second, 600 a minute) is kept.
            "HANDOVER_RATELIMIT_STAFF": "1000 per second",
            # Every benchmark client comes from 127.0.0.1: the 30 counters open the login page
            # at once (a venue's PCs each have their own address).
            "HANDOVER_RATELIMIT_ANONYMOUS": "1000 per second",
            # 30 counters log in at once from this one address (a venue's PCs each have their own).
            "HANDOVER_RATELIMIT_LOGIN_CLIENT": "200 per minute",
            # The server runs the code next to this benchmark (a copy of another commit too).
            "PYTHONPATH": str(ROOT),
        }
        self.log = open(Path(instance) / "server.log", "wb")  # noqa: SIM115
        exe = Path(sys.executable).parent / "handover"
        self.proc = subprocess.Popen(
            [str(exe), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited; see server.log") from None
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# --- clients ---------------------------------------------------------------------------------


FRESH_CONNECTIONS = False  # --fresh-connections


def _connector() -> aiohttp.TCPConnector:
    # As a browser does: one connection kept open and reused. The server closes an idle one
    # after 2 s; this client lets its own go after 1 s, so it never sends on one being closed.
    # --fresh-connections opens one per request, as this benchmark did before (figures up to
    # the third pass of docs/performance.md).
    if FRESH_CONNECTIONS:
        return aiohttp.TCPConnector(force_close=True)
    return aiohttp.TCPConnector(keepalive_timeout=1.0)


class Kiosk:
    def __init__(self, base: str, token: str):
        self.base = base
        self.http = aiohttp.ClientSession(headers={"X-Device-Token": token}, connector=_connector())

    async def check_in(self, code: str) -> tuple[float, float, dict]:
        t0 = time.monotonic()
        async with self.http.post(f"{self.base}/api/checkin", json={"code": code}) as r:
            data = await r.json()
            status = r.status
        t1 = time.monotonic()
        if status != 201:
            raise RuntimeError(f"check-in {status}: {data}")
        return t0, t1, data


class CounterClient:
    def __init__(self, base: str, counter_id: int, username: str):
        self.base = base
        self.id = counter_id
        self.username = username
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=_connector()
        )
        self.current: dict | None = None  # the visit at the counter, from the last answer
        self.csrf = ""

    async def csrf_token(self) -> str:
        """As a page does: the token from the meta tag (it changes at login)."""
        async with self.http.get(f"{self.base}/login") as r:
            html = await r.text()
        return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    async def login(self) -> None:
        async with self.http.post(
            f"{self.base}/api/login",
            json={"username": self.username, "password": BENCH_PASSWORD},
            headers={"X-CSRFToken": await self.csrf_token()},
        ) as r:
            if r.status != 200:
                raise RuntimeError(f"login {r.status}")
        self.csrf = await self.csrf_token()

    async def post(self, path: str) -> tuple[float, float, dict]:
        t0 = time.monotonic()
        # No body: these endpoints read none, and an unread body on a closing connection makes
        # the kernel answer with a reset instead of letting the response be read.
        async with self.http.post(
            f"{self.base}/api/counters/{self.id}{path}", headers={"X-CSRFToken": self.csrf}
        ) as r:
            data = await r.json()
            status = r.status
        t1 = time.monotonic()
        if status != 200:
            raise RuntimeError(f"{path} {status}: {data}")
        self.current = data.get("current")
        return t0, t1, data

    def visit_step_id(self) -> int:
        return self.current["current"]["visit_step_id"]

    def state(self) -> str | None:
        return self.current["current"]["state"] if self.current else None


async def close_all(clients) -> None:
    for c in clients:
        await c.http.close()


# --- shapes ----------------------------------------------------------------------------------


async def saturated(
    venue: Venue, base: str, sockets: SocketClients, printer: TimedPrinter, args
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["boards"] = sockets.boards(args.boards, venue.display_token)
    kiosks = [Kiosk(base, t) for t in venue.kiosk_tokens[: args.clients]]
    codes = venue.codes[: args.visits]
    latencies: list[float] = []
    issued: dict[str, float] = {}
    errors = 0

    async def kiosk_loop(k: Kiosk, mine: list[str]) -> None:
        nonlocal errors
        for code in mine:
            try:
                t0, t1, data = await k.check_in(code)
            except Exception:
                errors += 1
                continue
            latencies.append((t1 - t0) * 1000)
            issued[data["ticket_no"]] = t1

    start = time.monotonic()
    await asyncio.gather(*(kiosk_loop(k, codes[i :: len(kiosks)]) for i, k in enumerate(kiosks)))
    elapsed = time.monotonic() - start
    out["checkin"] = {
        "visits": len(latencies),
        "errors": errors,
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "duplicates": len(latencies) - len(issued),
    }
    # Tickets still coming out while the counters start: that is what a venue sees too.
    counters = [CounterClient(base, cid, user) for cid, user in venue.counters[: args.clients]]
    for c in counters:
        await c.login()
    call_ms: list[float] = []
    calls: list[tuple[str, float]] = []  # (ticket_no, call sent)
    empties: list[float] = []  # when each "queue empty" answer came back
    cycles = 0

    async def counter_loop(c: CounterClient) -> None:
        nonlocal cycles
        while True:
            t0, t1, data = await c.post("/call-next")
            call_ms.append((t1 - t0) * 1000)
            if data.get("queue_empty"):
                empties.append(t1)
                return
            calls.append((c.current["ticket_no"], t0))
            vs = c.visit_step_id()
            await c.post(f"/tickets/{vs}/start")
            await c.post(f"/tickets/{vs}/complete")
            cycles += 1

    start = time.monotonic()
    await asyncio.gather(*(counter_loop(c) for c in counters))
    elapsed = time.monotonic() - start
    await asyncio.sleep(2)
    board = sockets.collect()
    out["call_next"] = {
        "cycles": cycles,
        "cycles_per_s": round(cycles / elapsed, 1),
        "p50_ms": pct(call_ms, 50),
        "p99_ms": pct(call_ms, 99),
        "double_claims": len(calls) - len({t for t, _ in calls}),
        # False for sure: another counter's claim was sent after this "empty" came back.
        "false_queue_empty": sum(1 for e in empties if calls and max(t for _, t in calls) > e),
        "unclaimed": len(issued) - len(calls),
    }
    out["board"] = board_latency(calls, board, args.boards)
    out["printer"] = await printer_figures(printer, issued, args.drain)
    await close_all(kiosks + counters)
    return out


def board_latency(calls: list[tuple[str, float]], board: dict, n_boards: int) -> dict[str, Any]:
    sent = dict(calls)
    lat = [(at - sent[t]) * 1000 for t, at in board["calls"] if t in sent]
    expected = len(calls) * n_boards
    return {
        "boards": n_boards,
        "events": len(lat),
        "missed": expected - len(lat),
        "call_to_board_p50_ms": pct(lat, 50),
        "call_to_board_p99_ms": pct(lat, 99),
    }


async def printer_figures(printer: TimedPrinter, issued: dict[str, float], drain: float) -> dict:
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and len(printer.arrivals) < len(issued):
        await asyncio.sleep(0.25)
    got = ticket_arrivals(printer, issued)
    secs = list(got.values())
    return {
        "tickets": len(issued),
        "printed": len(got),
        "bytes_p50_s": pct(secs, 50, 2),
        "bytes_p95_s": pct(secs, 95, 2),
    }


async def peak(venue: Venue, base: str, sockets: SocketClients, printer, args) -> dict[str, Any]:
    rng = random.Random(6)
    out: dict[str, Any] = {}
    out["boards"] = sockets.boards(args.boards, venue.display_token)
    kiosks = [Kiosk(base, t) for t in venue.kiosk_tokens[: args.clients]]
    codes = list(venue.codes)
    status_tokens: list[str] = []
    # The morning's backlog: owners already waiting, their phones on the status page.
    backlog = codes[: args.backlog]
    codes = codes[args.backlog :]
    sem = asyncio.Semaphore(len(kiosks))

    async def warm(i: int, code: str) -> None:
        async with sem:
            _, _, data = await kiosks[i % len(kiosks)].check_in(code)
            status_tokens.append(data["status_url"].rstrip("/").rsplit("/", 1)[-1])

    await asyncio.gather(*(warm(i, c) for i, c in enumerate(backlog)))
    out["status_pages"] = sockets.status_pages(status_tokens[: args.status_pages])
    await asyncio.sleep(3)
    printer.arrivals.clear()
    sockets.collect()

    counters = [CounterClient(base, cid, user) for cid, user in venue.counters]
    for c in counters:
        await c.login()
    duration = args.minutes * 60
    t_start = time.monotonic()
    t_end = t_start + duration
    checkin_ms: list[float] = []
    issued: dict[str, float] = {}
    action_ms: dict[str, list[float]] = {"call-next": [], "start": [], "complete": []}
    slowest: list[tuple[float, str, float]] = []  # (ms, action, seconds into the run)
    calls: list[tuple[str, float]] = []
    pages = len(status_tokens[: args.status_pages])
    pending: list[asyncio.Task] = []
    errors = 0
    error_samples: list[str] = []

    async def one_checkin(k: Kiosk, code: str) -> None:
        nonlocal pages, errors
        try:
            t0, t1, data = await k.check_in(code)
        except Exception as exc:
            errors += 1
            error_samples.append(f"check-in: {exc}"[:200])
            return
        checkin_ms.append((t1 - t0) * 1000)
        issued[data["ticket_no"]] = t1
        if pages < args.status_pages:
            pages += 1
            sockets.status_pages_async([data["status_url"].rstrip("/").rsplit("/", 1)[-1]])

    async def arrivals() -> None:
        # Poisson arrivals at args.rate per second in total, spread over the kiosks: open loop,
        # an owner does not wait for the previous owner's answer.
        i = 0
        t = time.monotonic()
        while i < len(codes):
            t += rng.expovariate(args.rate)
            if t >= t_end:
                return
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            pending.append(asyncio.create_task(one_checkin(kiosks[i % len(kiosks)], codes[i])))
            i += 1

    async def counter_loop(c: CounterClient) -> None:
        nonlocal errors
        crng = random.Random(c.id)
        await asyncio.sleep(crng.uniform(0, 20))
        while time.monotonic() < t_end:
            try:
                state = c.state()
                if state is None:
                    t0, t1, data = await c.post("/call-next")
                    action_ms["call-next"].append((t1 - t0) * 1000)
                    slowest.append(((t1 - t0) * 1000, "call-next", t0 - t_start))
                    if not data.get("queue_empty"):
                        calls.append((c.current["ticket_no"], t0))
                elif state == "called":
                    t0, t1, _ = await c.post(f"/tickets/{c.visit_step_id()}/start")
                    action_ms["start"].append((t1 - t0) * 1000)
                    slowest.append(((t1 - t0) * 1000, "start", t0 - t_start))
                else:
                    t0, t1, _ = await c.post(f"/tickets/{c.visit_step_id()}/complete")
                    action_ms["complete"].append((t1 - t0) * 1000)
                    slowest.append(((t1 - t0) * 1000, "complete", t0 - t_start))
            except Exception as exc:
                errors += 1
                error_samples.append(f"counter {c.id}: {exc}"[:200])
            await asyncio.sleep(crng.uniform(20, 60))

    await asyncio.gather(arrivals(), *(counter_loop(c) for c in counters))
    if pending:
        await asyncio.gather(*pending)
    await asyncio.sleep(2)
    board = sockets.collect()
    every = [x for v in action_ms.values() for x in v]
    out["checkin"] = {
        "visits": len(checkin_ms),
        "per_s": round(len(checkin_ms) / duration, 2),
        "p50_ms": pct(checkin_ms, 50),
        "p99_ms": pct(checkin_ms, 99),
    }
    out["counter_actions"] = {
        "n": len(every),
        "p50_ms": pct(every, 50),
        "p99_ms": pct(every, 99),
        "call_next_n": len(action_ms["call-next"]),
        "call_next_p99_ms": pct(action_ms["call-next"], 99),
        "calls_made": len(calls),
        # Where a tail comes from: the three slowest, with when they were sent.
        "slowest": [
            {"ms": round(ms, 1), "action": a, "at_s": round(at, 1)}
            for ms, a, at in sorted(slowest, reverse=True)[:3]
        ],
    }
    out["errors"] = errors
    out["error_samples"] = error_samples[:5]
    out["board"] = board_latency(calls, board, args.boards)
    out["status_pages"] = {"connected": board["connected"] - args.boards, "failed": board["failed"]}
    out["printer"] = await printer_figures(printer, issued, args.drain)
    await close_all(kiosks + counters)
    return out


# --- main ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]}


def run_shape(shape: str, args) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="handover-bench-")
    url, schema = fresh_database(args.db, tmp)
    printer = TimedPrinter(port=0).start()
    # saturated: the counters serve the first step; peak: 30 counters, the first step busiest
    per_step = [args.clients] if shape == "saturated" else [10, 5, 5, 5, 5]
    server = sockets = None
    try:
        venue = build_venue(
            url, tmp, printer_port=printer.port, kiosks=args.clients, counters_per_step=per_step
        )
        server = Server(
            url,
            tmp,
            args.port or free_port(),
            threads=args.threads,
            workers=args.workers,
            message_queue=args.message_queue,
        )
        sockets = SocketClients(server.base)
        result = {
            "shape": shape,
            "db": "sqlite" if schema is None else "postgresql",
            "workers": args.workers,
            "connections": "fresh" if FRESH_CONNECTIONS else "kept open",
            "machine_before": machine(),
        }
        body = asyncio.run(
            (saturated if shape == "saturated" else peak)(
                venue, server.base, sockets, printer, args
            )
        )
        result.update(body)
        result["machine_after"] = machine()
        return result
    finally:
        if sockets:
            sockets.stop()
        if server:
            server.stop()
        printer.stop()
        drop_schema(args.db, schema)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shape", choices=("saturated", "peak", "both"), default="both")
    p.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL (fresh schema)")
    p.add_argument("--clients", type=int, default=8, help="kiosks (and counters when saturated)")
    p.add_argument("--visits", type=int, default=300)
    p.add_argument("--boards", type=int, default=None, help="100 saturated, 10 peak")
    p.add_argument("--minutes", type=float, default=3.0, help="peak: length of the open loop")
    p.add_argument("--rate", type=float, default=2.0, help="peak: check-ins per second")
    p.add_argument("--backlog", type=int, default=150, help="peak: visits checked in first")
    p.add_argument("--status-pages", type=int, default=500)
    p.add_argument("--threads", type=int, default=800, help="server threads (one per websocket)")
    p.add_argument("--drain", type=float, default=60.0, help="seconds to wait for tickets")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=1, help="server processes (HANDOVER_WORKERS)")
    p.add_argument(
        "--message-queue",
        default=None,
        help="redis://... between the server processes (needed with --workers > 1)",
    )
    p.add_argument(
        "--fresh-connections",
        action="store_true",
        help="a new TCP connection per request (default: kept open, as browsers do)",
    )
    args = p.parse_args()
    global FRESH_CONNECTIONS
    FRESH_CONNECTIONS = args.fresh_connections
    shapes = ("saturated", "peak") if args.shape == "both" else (args.shape,)
    results = []
    for shape in shapes:
        a = argparse.Namespace(**vars(args))
        if a.boards is None:
            a.boards = 100 if shape == "saturated" else 10
        results.append(run_shape(shape, a))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
