"""Boards and owners' status pages as python-socketio clients, in a process of their own so
that decoding hundreds of event frames does not slow down the kiosks and counters measured.

The parent sends commands over a pipe; times are time.monotonic() (one clock for every process
on the machine), so the parent can match a board's event to the call that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import threading
import time
from typing import Any

import socketio


async def _connect(base: str, *, headers: dict, auth: dict, on_call) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("ticket_called", on_call)
    await sio.connect(base, headers=headers, auth=auth, transports=["websocket"], wait_timeout=30)
    return sio


def _child(base: str, conn) -> None:
    calls: list[tuple[str, float]] = []  # (ticket_no, received at) per board event
    clients: list[socketio.AsyncClient] = []
    failed = 0

    def on_call(data: dict[str, Any]) -> None:
        calls.append((data.get("ticket_no"), time.monotonic()))

    async def connect_many(specs: list[tuple[dict, dict]]) -> None:
        nonlocal failed
        sem = asyncio.Semaphore(20)  # a burst of handshakes, not hundreds at once

        async def one(headers, auth):
            nonlocal failed
            async with sem:
                try:
                    clients.append(await _connect(base, headers=headers, auth=auth, on_call=ign))
                except Exception:
                    failed += 1

        await asyncio.gather(*(one(h, a) for h, a in specs))

    async def ign(_data):  # status pages: counted as load, their events not timed
        return None

    async def connect_boards(n: int, token: str) -> None:
        nonlocal failed
        for _ in range(n):
            try:
                clients.append(
                    await _connect(
                        base,
                        headers={"X-Device-Token": token},
                        auth={"view": "display"},
                        on_call=on_call,
                    )
                )
            except Exception:
                failed += 1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        background: set[asyncio.Task] = set()
        threading.Thread(
            target=lambda: [
                loop.call_soon_threadsafe(inbox.put_nowait, m) for m in iter(conn.recv, None)
            ],
            daemon=True,
        ).start()
        while True:
            cmd, arg = await inbox.get()
            if cmd == "boards":
                await connect_boards(*arg)
                conn.send({"connected": len(clients), "failed": failed})
            elif cmd == "status":
                await connect_many([({}, {"view": "status", "token": t}) for t in arg])
                conn.send({"connected": len(clients), "failed": failed})
            elif cmd == "status_async":  # fire and forget, during the open-loop run
                task = loop.create_task(
                    connect_many([({}, {"view": "status", "token": t}) for t in arg])
                )
                background.add(task)
                task.add_done_callback(background.discard)
            elif cmd == "collect":
                conn.send({"calls": list(calls), "connected": len(clients), "failed": failed})
                calls.clear()
            elif cmd == "stop":
                for c in clients:
                    with contextlib.suppress(Exception):
                        await c.disconnect()
                conn.send({"stopped": True})
                return

    asyncio.run(main())


class SocketClients:
    def __init__(self, base: str):
        ctx = mp.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(base, child_conn), daemon=True)
        self._proc.start()

    def _ask(self, cmd: str, arg=None, timeout: float = 300) -> dict:
        self._conn.send((cmd, arg))
        if not self._conn.poll(timeout):
            raise TimeoutError(cmd)
        return self._conn.recv()

    def boards(self, n: int, token: str) -> dict:
        return self._ask("boards", (n, token))

    def status_pages(self, tokens: list[str]) -> dict:
        return self._ask("status", tokens)

    def status_pages_async(self, tokens: list[str]) -> None:
        self._conn.send(("status_async", tokens))

    def collect(self) -> dict:
        return self._ask("collect")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._ask("stop", timeout=30)
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
