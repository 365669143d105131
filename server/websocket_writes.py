"""Sends to a websocket from the thread that emits, while the socket's writer thread is idle.

Why: in threading mode python-engineio gives each websocket a writer thread that waits on a
queue; every packet put on it wakes that thread, and the wake and the interpreter lock passed
back and forth cost about 120 us of the serving core per screen and packet (measured: 100
boards, one packet each 10 ms; the framing and the socket write are about 20 us of it). A
call goes to every board, so with 100 boards the wakes were near half of what a counter's
call-next, start and complete cost the server (26 cycles/s with the wakes, 41 without).

How, and what stays true:
- A packet is written here only if the writer thread is parked on an empty queue and no other
  write is under way; otherwise it is queued as before. So packets leave in the order they
  were sent, whoever writes them.
- The write never waits: MSG_DONTWAIT. A screen that reads slowly (a phone on a weak signal)
  fills its socket buffer; what did not fit is handed to its writer thread, which writes it
  (blocking, on its own thread, as before) ahead of anything queued later. So one slow reader
  never holds up the emitting request or the other screens.
- Only sockets opened directly as websockets take this path (pages open one first; see
  live.js). A socket upgraded from long-polling, a platform without MSG_DONTWAIT, or a
  socket with a timeout (where Python waits for writability before a send) keeps the
  library's own path.

This wraps two methods of python-engineio's Socket (`send`, `_websocket_handler`) and reads
simple-websocket's `ws` (wsproto connection) and `sock`; tests/test_websocket_writes.py fails
if an upgrade changes them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from queue import Empty
from typing import Any

from engineio import packet as eio_packet
from engineio import socket as eio_socket
from wsproto.events import BytesMessage, TextMessage
from wsproto.utilities import LocalProtocolError

log = logging.getLogger(__name__)

_DONTWAIT = getattr(socket, "MSG_DONTWAIT", None)
_installed = False
# How many packets went out directly / through a writer thread: read by tests and
# benchmarks to see the direct path is taken.
counts = {"direct": 0, "queued": 0, "backlog": 0}


class _Direct:
    """One websocket's state, shared by the emitting threads and its writer thread."""

    __slots__ = ("backlog", "conn", "open", "parked", "sock", "state", "wire", "wrote_at")

    def __init__(self, conn: Any, sock: socket.socket):
        self.conn = conn  # simple_websocket.Server
        self.sock = sock
        self.state = threading.Lock()  # held briefly: parked, backlog, queue puts
        self.wire = threading.Lock()  # held while bytes go to the socket
        self.parked = False  # the writer waits on an empty queue
        self.backlog = b""  # bytes of a direct write that did not fit, written next
        self.open = True
        self.wrote_at = time.monotonic()  # the last direct write


def install() -> None:
    """Once per process, before sockets connect (app creation)."""
    global _installed
    if _installed or _DONTWAIT is None:
        return
    original_handler = eio_socket.Socket._websocket_handler
    original_send = eio_socket.Socket.send

    def _websocket_handler(self, ws):
        direct = None if self.connected else _attach(self, ws)  # connected: an upgrade
        try:
            return original_handler(self, ws)
        finally:
            if direct is not None:
                with direct.state:
                    direct.open = False

    def send(self, pkt):
        direct = getattr(self, "_handover_direct", None)
        if direct is None or not direct.open:
            return original_send(self, pkt)
        if not self.check_ping_timeout():
            return None
        _send(self, direct, pkt)
        return None

    eio_socket.Socket._websocket_handler = _websocket_handler
    eio_socket.Socket.send = send
    _installed = True


def _attach(eio_sock, ws) -> _Direct | None:
    conn = getattr(ws, "ws", None)  # engineio's SimpleWebSocketWSGI -> simple_websocket.Server
    sock = getattr(conn, "sock", None)
    if not (hasattr(conn, "ws") and isinstance(sock, socket.socket)):
        return None
    if sock.gettimeout() is not None:
        return None
    direct = _Direct(conn, sock)
    queue = eio_sock.queue
    queue_get = queue.get
    ws_send = ws.send

    def get(block=True, timeout=None):
        if not block:  # the writer draining what is queued
            return queue_get(block, timeout)
        while True:
            with direct.state:
                direct.parked = queue.empty()
            try:
                return queue_get(block, timeout)
            except Empty:
                # The writer gives up on a socket that had nothing queued for a ping interval
                # and timeout. Packets written directly (the pings among them) never pass the
                # queue, so it is alive if one went out meanwhile; a dead one is closed by
                # the ping timeout, which ends the writer with a None on the queue.
                if timeout is None or not (
                    direct.open and time.monotonic() - direct.wrote_at < timeout
                ):
                    raise
            finally:
                with direct.state:
                    direct.parked = False

    def writer_send(data):
        with direct.wire:
            with direct.state:
                backlog, direct.backlog = direct.backlog, b""
            if backlog:
                sock.sendall(backlog)
            return ws_send(data)

    queue.get = get
    ws.send = writer_send
    eio_sock._handover_direct = direct
    return direct


def _send(eio_sock, direct: _Direct, pkt) -> None:
    with direct.state:
        if not (direct.parked and not direct.backlog and direct.wire.acquire(blocking=False)):
            direct.parked = False  # the writer will wake for this packet
            counts["queued"] += 1
            eio_sock.queue.put(pkt)
            return
    # Holding the wire with the writer parked: anything sent meanwhile is queued behind us,
    # and the writer takes the wire (and our backlog) before it writes that.
    try:
        data = pkt.encode()
        message = BytesMessage(data=data) if isinstance(data, bytes) else TextMessage(data=data)
        if not direct.conn.connected:
            return
        out = direct.conn.ws.send(message)
        try:
            sent = direct.sock.send(out, _DONTWAIT)
        except BlockingIOError:
            sent = 0
        counts["direct"] += 1
        direct.wrote_at = time.monotonic()
        if sent < len(out):
            counts["backlog"] += 1
            with direct.state:
                direct.backlog = out[sent:]
                direct.parked = False
                # Wakes the writer, which writes the backlog before this no-op packet.
                eio_sock.queue.put(eio_packet.Packet(eio_packet.NOOP))
    except (OSError, LocalProtocolError):  # the screen went away; its reader closes it
        log.debug("direct websocket write failed", exc_info=True)
    except Exception:  # never fail the emit
        log.warning("direct websocket write failed", exc_info=True)
    finally:
        direct.wire.release()
