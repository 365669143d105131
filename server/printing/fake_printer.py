"""A fake TCP/9100 receipt printer for tests, demos and the admin's "test page" without paper.

It keeps what each connection sent (one job per connection, as the worker sends it), answers the
real-time status queries DLE EOT 1 and DLE EOT 4 the way an Epson-compatible printer does, and
can pretend to be offline or out of paper. Connections that only asked for status are not jobs.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import threading
import time
from pathlib import Path

DLE_EOT = b"\x10\x04"
STATUS_QUERIES = {b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04"}

# Status bytes (bits 1 and 4 are always set in ESC/POS real-time status replies).
ONLINE = 0x12
OFFLINE_BIT = 0x08
PAPER_OK = 0x12
PAPER_NEAR_END = 0x1E  # bits 2,3
PAPER_OUT = 0x7E  # bits 2,3,5,6


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        fake = self.server.fake
        if fake.offline_mode == "close":
            # A printer that is off behind a switch that still answers: take it and drop it.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        data = bytearray()
        tail = b""
        self.request.settimeout(fake.idle_timeout)
        while True:
            try:
                chunk = self.request.recv(65536)
            except (TimeoutError, OSError):
                break
            if not chunk:
                break
            data += chunk
            # Real-time commands are answered wherever they appear, as a real printer does;
            # keep two bytes of tail so a query split across reads is still seen.
            window = tail + chunk
            start = 0
            while (i := window.find(DLE_EOT, start)) != -1 and i + 2 < len(window):
                if i + 2 >= len(tail):  # not already answered in the previous window
                    reply = fake._status_reply(window[i + 2])
                    if reply is not None:
                        try:
                            self.request.sendall(bytes([reply]))
                        except OSError:
                            break
                start = i + 1
            tail = window[-2:]
        fake._record(bytes(data))


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    fake: FakePrinter


class FakePrinter:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, save_dir: str | Path | None = None):
        self.host = host
        self.port = port
        self.save_dir = Path(save_dir) if save_dir else None
        self.idle_timeout = 10.0
        self.offline_mode: str | None = None  # None | "refuse" | "close"
        self.paper = PAPER_OK
        self.received: list[
            bytes
        ] = []  # one entry per job (connection that sent more than status queries)
        self.raw: list[bytes] = []  # every connection, status-only ones included
        self.status_queries = 0
        self._lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._counter = itertools.count(1)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakePrinter:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]  # port=0 -> the one the OS chose
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # --- simulated faults ---------------------------------------------------------------------

    def set_offline(self, offline: bool = True, mode: str = "refuse") -> None:
        """refuse: nothing listens on the port (connection refused); close: accept, then drop."""
        if mode not in ("refuse", "close"):
            raise ValueError(mode)
        was_refusing = self.offline_mode == "refuse"
        self.offline_mode = mode if offline else None
        if offline and mode == "refuse" and self._server:
            self.stop()
        elif not offline and was_refusing and self._server is None:
            self.start()  # same port again: printers keep their address

    def set_paper_out(self, out: bool = True) -> None:
        self.paper = PAPER_OUT if out else PAPER_OK

    def set_paper_low(self, low: bool = True) -> None:
        self.paper = PAPER_NEAR_END if low else PAPER_OK

    # --- what was received --------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 3.0) -> list[bytes]:
        """Block until `count` jobs arrived: the server thread records a job only on EOF."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self.received)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.raw.clear()

    def _status_reply(self, n: int) -> int | None:
        with self._lock:
            self.status_queries += 1
        if n == 1:
            return ONLINE | (OFFLINE_BIT if self.paper == PAPER_OUT else 0)
        if n == 4:
            return self.paper
        if n in (2, 3):
            return 0x12
        return None

    def _record(self, data: bytes) -> None:
        if not data:
            return
        is_job = _strip_status_queries(data) != b""
        if is_job and self.save_dir:
            # Written before anyone is told: a test that waited for the job finds the file.
            self.save_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            (self.save_dir / f"job-{stamp}-{next(self._counter):04d}.bin").write_bytes(data)
        with self._lock:
            self.raw.append(data)
            if is_job:
                self.received.append(data)
            self._lock.notify_all()


def _strip_status_queries(data: bytes) -> bytes:
    out = data
    for q in STATUS_QUERIES:
        out = out.replace(q, b"")
    return out
