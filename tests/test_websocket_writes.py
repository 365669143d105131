"""Writes to websockets from the emitting thread (server/websocket_writes.py): every screen
gets every event once and in order, a screen that stops reading holds up no one, and the
direct path is really taken (it would silently stop being taken if python-engineio or
simple-websocket changed what it wraps)."""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
import time

import pytest
import socketio
from flask import Flask
from flask_socketio import SocketIO, join_room
from werkzeug.serving import make_server
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from server import websocket_writes
from tests.waiting import wait_until

ROOM = "display"


@pytest.fixture
def live():
    yield from _serve(ping_interval=60, ping_timeout=20)


@pytest.fixture
def quick_pings():
    yield from _serve(ping_interval=1, ping_timeout=1)


def _serve(ping_interval: float, ping_timeout: float):
    """A bare Flask-SocketIO server in threading mode, as the app configures it."""
    websocket_writes.install()
    app = Flask(__name__)
    sio = SocketIO(
        app,
        async_mode="threading",
        async_handlers=False,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
    )

    @sio.on("connect")
    def _connect(auth=None):
        join_room(ROOM)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sio, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class Screen:
    """A python-socketio client that records the numbers of the events it gets."""

    def __init__(self, base: str, transports: list[str]):
        self.seen: list[int] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("tick", lambda data: self.seen.append(data["n"]))
        self.client.connect(base, transports=transports, wait_timeout=10)

    def close(self) -> None:
        self.client.disconnect()


def _close_all(screens) -> None:
    # Each waits a few seconds for the development server to end its websocket: together.
    threads = [threading.Thread(target=s.close) for s in screens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _joined(sio: SocketIO, n: int) -> bool:
    return len(list(sio.server.manager.get_participants("/", ROOM))) >= n


def test_every_screen_gets_every_event_once_in_order_most_written_directly(live):
    sio, base = live
    screens = [Screen(base, ["websocket"]) for _ in range(3)]
    # A socket that began as long-polling and was upgraded keeps the library's own writer.
    upgraded = Screen(base, ["polling", "websocket"])
    try:
        assert wait_until(lambda: _joined(sio, 4))
        before = dict(websocket_writes.counts)
        for n in range(300):
            sio.emit("tick", {"n": n}, to=ROOM)
            if n % 10 == 0:
                time.sleep(0.005)  # calls come spaced out on a floor, not all at once
        everyone = [*screens, upgraded]
        assert wait_until(lambda: all(len(s.seen) >= 300 for s in everyone))
        for s in everyone:
            assert s.seen == list(range(300))
        direct = websocket_writes.counts["direct"] - before["direct"]
        # 900 packets to the three direct websockets; a few meet a busy writer and queue.
        assert direct >= 450, websocket_writes.counts
    finally:
        _close_all([*screens, upgraded])


class StalledScreen:
    """A browser-like websocket (permessage-deflate) that connects and then reads nothing
    until told to: its socket buffers fill and the server's writes no longer fit."""

    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(
            self.ws.send(
                Request(
                    host=f"{host}:{port}",
                    target="/socket.io/?EIO=4&transport=websocket",
                    extensions=[PerMessageDeflate()],
                )
            )
        )
        self.messages: list[str] = []
        self._read_until(lambda: self.accepted)
        self._read_until(lambda: any(m.startswith("0") for m in self.messages))  # EIO open
        self.sock.sendall(self.ws.send(TextMessage(data="40")))  # Socket.IO connect
        self._read_until(lambda: any(m.startswith("40") for m in self.messages))

    accepted = False

    def _read_until(self, condition, seconds: float = 20.0) -> None:
        self.sock.settimeout(seconds)
        partial = ""
        while not condition():
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the websocket")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.accepted = True
                elif isinstance(event, TextMessage):
                    partial += event.data
                    if event.message_finished:
                        self.messages.append(partial)
                        partial = ""

    def ticks(self) -> list[dict]:
        return [json.loads(m[2:])[1] for m in self.messages if m.startswith('42["tick"')]

    def read_ticks(self, n: int) -> list[dict]:
        self._read_until(lambda: len(self.ticks()) >= n)
        return self.ticks()

    def close(self) -> None:
        self.sock.close()


def test_a_screen_that_stops_reading_holds_up_no_one_and_later_gets_everything(live):
    sio, base = live
    stalled = StalledScreen(base)
    other = Screen(base, ["websocket"])
    try:
        assert wait_until(lambda: _joined(sio, 2))
        before = dict(websocket_writes.counts)
        # 16 kB a packet that deflate cannot shrink much: 8 MB in all, more than the kernel
        # buffers a socket on loopback (4 MB at most here).
        filler = base64.b64encode(random.Random(7).randbytes(12_000)).decode()
        count = 500
        for n in range(count):
            sio.emit("tick", {"n": n, "filler": filler}, to=ROOM)
        # The emitting thread finished and the other screen has everything while the stalled
        # one has read nothing since it joined.
        assert wait_until(lambda: len(other.seen) >= count)
        assert other.seen == list(range(count))
        assert websocket_writes.counts["backlog"] > before["backlog"], websocket_writes.counts
        # Now it reads: every event, in order, intact (the compressed stream stayed whole).
        ticks = stalled.read_ticks(count)
        assert [t["n"] for t in ticks] == list(range(count))
        assert all(t["filler"] == filler for t in ticks)
    finally:
        stalled.close()
        _close_all([other])


def test_a_quiet_screen_stays_connected_while_its_writer_has_nothing_queued(quick_pings):
    """The library's writer gives up after a ping interval and timeout (2 s here) with
    nothing queued; the pings written directly keep it (and the screen) alive."""
    sio, base = quick_pings
    screen = Screen(base, ["websocket"])
    try:
        assert wait_until(lambda: _joined(sio, 1))
        before = websocket_writes.counts["direct"]
        time.sleep(5)
        assert websocket_writes.counts["direct"] > before  # the pings went directly
        assert screen.client.connected
        sio.emit("tick", {"n": 1}, to=ROOM)
        assert wait_until(lambda: screen.seen == [1], 5)
    finally:
        _close_all([screen])
