"""Several serving processes (WORKERS > 1): gunicorn forks them, they share the listening
socket, and reach each other's screens through the Redis message queue. What a user would
notice if it broke: a board connected to one process misses the calls made through the other,
or is left showing an older queue than the one built last."""

from __future__ import annotations

import http.client
import json
import os
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import click
import pytest
import socketio as sio
from sqlalchemy import update

from server import auth, clock
from server.app import create_app
from server.cli import serving_processes
from server.config import load_config
from server.db import Database
from server.models import Device, Printer, Step
from server.printing.fake_printer import FakePrinter
from tests.conftest import PASSWORD, build_venue
from tests.live_server import running_server, server_env
from tests.test_browser import ARTIFACTS, CHROMIUM
from tests.test_flood import _staff_session
from tests.waiting import wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL")
KIOSK_TOKEN = "kiosk-token-for-two-workers-0123456789"
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="needs TEST_REDIS_URL (a Redis server for the message queue)"
)


# --- settings ----------------------------------------------------------------------------------


def test_several_workers_need_a_redis_message_queue():
    assert serving_processes({"WORKERS": 1}) == 1
    with pytest.raises(click.ClickException, match="SOCKETIO_MESSAGE_QUEUE"):
        serving_processes({"WORKERS": 2})
    with pytest.raises(click.ClickException, match="SOCKETIO_MESSAGE_QUEUE"):
        serving_processes({"WORKERS": 2, "SOCKETIO_MESSAGE_QUEUE": "amqp://guest@localhost//"})
    with pytest.raises(click.ClickException, match="at least 1"):
        serving_processes({"WORKERS": 0})
    assert serving_processes({"WORKERS": 3, "SOCKETIO_MESSAGE_QUEUE": "redis://h:6379/0"}) == 3


def test_several_workers_count_rate_limits_together(tmp_path, monkeypatch):
    """Counted in each process, a client spread over two would get twice its login guesses."""
    queue = "redis://127.0.0.1:6379/3"
    shared = load_config(tmp_path, {"WORKERS": 2, "SOCKETIO_MESSAGE_QUEUE": queue})
    assert shared["RATELIMIT_STORAGE_URI"] == queue
    chosen = load_config(
        tmp_path,
        {"WORKERS": 2, "SOCKETIO_MESSAGE_QUEUE": queue, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    assert chosen["RATELIMIT_STORAGE_URI"] == "memory://"  # another storage was chosen
    one = load_config(tmp_path, {"SOCKETIO_MESSAGE_QUEUE": queue})
    assert one["RATELIMIT_STORAGE_URI"] == "paced-memory://"  # one process: its own counts


@pytest.mark.parametrize("workers", [1, 2])
def test_pages_open_a_websocket_directly_only_with_several_workers(tmp_path, sqlite_url, workers):
    """Long-polling sends each message as a request of its own, which any process may get:
    with several, pages are told to use a websocket and polling is refused at once (a clear
    failure instead of a session that breaks on its second request)."""
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": sqlite_url,
            "TESTING": True,
            "PRINT_WORKER": False,
            "WORKERS": workers,
            "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/3" if workers > 1 else None,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app.extensions["handover_db"].create_all()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert ('name="socket-transports" content="websocket"' in page) == (workers > 1)
    polling = client.get("/socket.io/?EIO=4&transport=polling")
    assert (polling.status_code == 400) == (workers > 1)


# --- two real processes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    if not REDIS_URL:
        pytest.skip("needs TEST_REDIS_URL (a Redis server for the message queue)")
    instance = tmp_path_factory.mktemp("workers")
    db_url = f"sqlite:///{instance / 'handover.db'}"
    db = Database(db_url)
    db.create_all()
    printer = FakePrinter(port=0).start()
    with db.session() as s:
        venue = build_venue(s, units=14, day=datetime.combine(clock.today(), dtime(9, 0)))
        # The counters here press call-next, start and complete without recording documents.
        s.execute(update(Step).values(kind="generic"))
        kiosk = Device(
            project_id=venue.project_id,
            kind="kiosk",
            name="签到机1",
            token_hash=auth.hash_token(KIOSK_TOKEN),
        )
        s.add(kiosk)
        s.flush()
        s.add(
            Printer(
                project_id=venue.project_id,
                name="签到机1打印机",
                connection="network",
                host="127.0.0.1",
                port=printer.port,
                paper_width_mm=80,
                mode="native",
                device_id=kiosk.id,
            )
        )
        s.commit()
    db.dispose()
    env = server_env(
        instance,
        DATABASE_URL=db_url,
        THREADS="50",
        # Tickets print because the print process is woken, whichever process took the
        # check-in, not because it looks again on its own (not within the test's wait).
        PRINT_WORKER_INTERVAL="60",
        WORKERS="2",
        SOCKETIO_MESSAGE_QUEUE=REDIS_URL,
        LOG_LEVEL="WARNING",
        # Every socket and request of this test comes from 127.0.0.1.
        RATELIMIT_SOCKET_CONNECT="600 per minute",
    )
    try:
        with running_server(env, instance / "server.log") as server:
            yield server.base, server.port, server.proc.pid, venue, server.log, printer
    finally:
        printer.stop()


def _workers(master: int) -> list[int]:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        if len(pids) >= 2:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"gunicorn started {pids}, not two workers")


def _connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """Established connections to the server's port, by the process that holds them."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    held = {}
    for pid in pids:
        mine = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                mine += 1
        held[pid] = mine
    return held


class Board:
    def __init__(self, base: str, cookie: str):
        self.calls: list[str] = []
        self.queues: list[dict] = []
        self.client = sio.Client(reconnection=False)
        self.client.on("ticket_called", lambda p: self.calls.append(p["ticket_no"]))
        self.client.on("queue_changed", self.queues.append)
        self.client.connect(
            base,
            auth={"view": "display"},
            headers={"Cookie": cookie},
            transports=["websocket"],
            wait_timeout=10,
        )


@needs_redis
def test_every_board_gets_every_call_whichever_process_made_it(two_workers):
    base, port, master, venue, log, _printer = two_workers
    pids = _workers(master)
    staff = _staff_session(base, "staff")
    cookie = "; ".join(f"{k}={v}" for k, v in staff.cookies.items())
    # Connections go to whichever process accepts first: open boards until both hold some.
    boards: list[Board] = []
    while len(boards) < 40:
        boards.append(Board(base, cookie))
        held = _connections_by_process(port, pids)
        if len(boards) >= 6 and all(held.values()):
            break
    assert all(_connections_by_process(port, pids).values()), "one process got every board"

    # Each request on a new connection, so that both processes serve some of them.
    closing = {"Connection": "close"}
    tickets = []
    for code in venue.codes[:6]:
        r = staff.post(f"{base}/api/checkin", json={"code": code}, headers=closing, timeout=10)
        assert r.status_code == 201, r.text
        tickets.append(r.json()["ticket_no"])
    counter = venue.counters["W01"]
    for _ in tickets:
        r = staff.post(f"{base}/api/counters/{counter}/call-next", headers=closing, timeout=10)
        assert r.status_code == 200, r.text
        vs = r.json()["current"]["current"]["visit_step_id"]
        for action in ("start", "complete"):
            r = staff.post(
                f"{base}/api/counters/{counter}/tickets/{vs}/{action}", headers=closing, timeout=10
            )
            assert r.status_code == 200, r.text

    assert wait_until(lambda: all(len(b.calls) >= len(tickets) for b in boards)), [
        len(b.calls) for b in boards
    ]
    for board in boards:
        assert board.calls == tickets  # every call, once, in the order made

    # The last queue state every board shows is the newest: nobody waits at the first step.
    verify = venue.steps["verify"]

    def settled() -> bool:
        return all(
            b.queues and next(s for s in b.queues[-1]["steps"] if s["id"] == verify)["waiting"] == 0
            for b in boards
        )

    assert wait_until(settled, 5.0)
    time.sleep(0.5)  # a late, older state would arrive now
    assert settled()
    for board in boards:
        board.client.disconnect()
    assert "Traceback" not in log.read_text(errors="replace")


@needs_redis
def test_a_board_in_the_browser_follows_calls_over_a_websocket(two_workers):
    """live.js on a page served by several processes: it reads the page's transport and
    opens a websocket at once (long-polling would be refused), gets its snapshot, and shows
    the calls made through either process."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    base, _port, _master, venue, log, _printer = two_workers
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
            ctx.set_default_timeout(15_000)
            page = ctx.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", "staff")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            polls, websockets = [], []
            page.on("request", lambda r: "/socket.io/" in r.url and polls.append(r.url))
            page.on("websocket", lambda ws: websockets.append(ws.url))
            page.goto(f"{base}/display/")
            expect(page.locator("#waits tr").first).to_be_visible()  # the snapshot came
            counter = venue.counters["W02"]
            staff = _staff_session(base, "staff")
            closing = {"Connection": "close"}
            for code in venue.codes[6:8]:
                r = staff.post(
                    f"{base}/api/checkin", json={"code": code}, headers=closing, timeout=10
                )
                assert r.status_code == 201, r.text
                r = staff.post(
                    f"{base}/api/counters/{counter}/call-next", headers=closing, timeout=10
                )
                assert r.status_code == 200, r.text
                ticket = r.json()["current"]["ticket_no"]
                current = page.locator("#now .d-now-row.is-current .d-now-ticket")
                expect(current).to_have_text(ticket, timeout=5_000)
                vs = r.json()["current"]["current"]["visit_step_id"]
                for action in ("start", "complete"):
                    r = staff.post(
                        f"{base}/api/counters/{counter}/tickets/{vs}/{action}",
                        headers=closing,
                        timeout=10,
                    )
                    assert r.status_code == 200, r.text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "workers-board.png"))
            assert not polls  # not one long-polling request, refused or not
            assert ["transport=websocket" in url for url in websockets] == [True]
            expect(page.locator("#conn-banner")).to_be_hidden()
        finally:
            browser.close()
    assert "Traceback" not in log.read_text(errors="replace")


def _a_connection_to_each(port: int, workers: list[int]) -> dict[int, http.client.HTTPConnection]:
    """An open HTTP connection held by each serving process (the kernel hands a new one to
    whichever accepts first: connect until each has one)."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(60):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/login")  # accepted and answered: the process holds it now
        conn.getresponse().read()
        mine = conn.sock.getsockname()[1]
        owner = next((pid for pid in workers if _holds(pid, port, mine)), None)
        if owner is not None and owner not in held:
            held[owner] = conn
            if len(held) == len(workers):
                return held
        else:
            conn.close()
    raise AssertionError(f"connections reached only {list(held)} of {workers}")


def _holds(pid: int, port: int, client_port: int) -> bool:
    """Whether `pid` holds the server's end of the connection from `client_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            if local == port and remote == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            continue
    return False


def _children(task: Path) -> list[str]:
    try:
        return (task / "children").read_text().split()
    except OSError:  # the thread ended meanwhile
        return []


def _print_processes(workers: list[int]) -> list[int]:
    found = []
    for pid in workers:
        # Children are listed by the thread that started them (the print process's supervisor).
        children = [c for t in Path(f"/proc/{pid}/task").iterdir() for c in _children(t)]
        for child in children:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"server.printing.process" in cmdline:
                found.append(int(child))
    return found


@needs_redis
def test_one_print_process_prints_every_ticket_once(two_workers):
    """A printer takes one connection at a time: one of the processes runs the print process,
    the other wakes it through a named pipe, and every ticket prints once."""
    _base, port, master, venue, log, printer = two_workers
    workers = _workers(master)
    assert len(_print_processes(workers)) == 1, (_print_processes(workers), workers)
    printer.clear()
    tickets = []
    codes = iter(venue.codes[8:14])
    headers = {"X-Device-Token": KIOSK_TOKEN, "Content-Type": "application/json"}
    (sender,) = _print_processes(workers)
    runs_it = int(Path(f"/proc/{sender}/stat").read_text().rsplit(")", 1)[1].split()[1])
    conns = _a_connection_to_each(port, workers)
    # First the process that runs the print process, until its tickets are out; then the
    # other one's, which print only if it wakes the print process (through the named pipe).
    for pid in sorted(conns, key=lambda pid: pid != runs_it):
        conn = conns[pid]
        for _ in range(3):
            conn.request("POST", "/api/checkin", json.dumps({"code": next(codes)}), headers)
            r = conn.getresponse()
            body = json.loads(r.read())
            assert r.status == 201, (pid, body)
            tickets.append(body["ticket_no"])
        conn.close()
        printer.wait_for(len(tickets), timeout=15)
    jobs = printer.wait_for(len(tickets), timeout=15)
    for ticket in tickets:
        assert sum(ticket.encode() in job for job in jobs) == 1, ticket
    assert len(_print_processes(workers)) == 1
    assert "Traceback" not in log.read_text(errors="replace")
