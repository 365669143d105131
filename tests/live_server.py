"""A real `handover run` for the tests that need one (browsers, sockets, several processes):
on a free loopback port, in its own process group, its output in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def handover_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "handover"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "server.cli"]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


def server_env(instance: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its HANDOVER_* settings (a database URL from the
    shell must not leak in), then the instance folder and `settings` (HANDOVER_ prefixed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOVER_")}
    env["HANDOVER_INSTANCE_PATH"] = str(instance)
    env.update({f"HANDOVER_{key}": value for key, value in settings.items()})
    return env


@dataclass(frozen=True)
class Running:
    base: str
    port: int
    proc: subprocess.Popen
    log: Path


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Running]:
    """`handover run` with `env` until the block ends. gunicorn's master is asked to stop
    first; its workers (one holding websockets may outlive the master's graceful timeout)
    are then ended with the whole process group."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*handover_cmd(), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/login", proc, log)
        yield Running(base=base, port=port, proc=proc, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
