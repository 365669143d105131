"""The print worker in a process of its own, beside the serving process.

Drawing a receipt and talking to printers is CPU the requests would otherwise share: in one
process of Python only one thread runs at a time, and during a check-in burst the worker
thread took about a quarter of the server's CPU (measured, docs/performance.md). In its own
process it runs on the machine's other core.

The serving process wakes it through a pipe (one byte, never blocking a request: a full pipe
means it is already awake). The pipe also tells the worker its server is gone: end of file,
and it finishes its pass and exits. A server killed outright takes the worker with it
(Linux's parent-death signal), so a job caught mid-send is found at the next start exactly as
before (recovery.py). Claims are atomic, so a worker that overlaps a restart cannot send a job
twice. The supervisor thread starts a new worker if one dies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SETTINGS_ENV = "HANDOVER_PRINT_PROCESS_SETTINGS"
RESTART_DELAY = 1.0  # seconds between a worker dying and the next one starting


def settings_from(config) -> dict:
    """What the worker needs of the server's configuration (the rest comes with the
    environment, e.g. the receipt font)."""
    return {
        "DATABASE_URL": config["DATABASE_URL"],
        "TIMEZONE": config.get("TIMEZONE", "Asia/Shanghai"),
        "LOG_LEVEL": config.get("LOG_LEVEL", "INFO"),
        "PRINT_WORKER_INTERVAL": float(config.get("PRINT_WORKER_INTERVAL", 1.0)),
        # Several serving processes: one of them runs this process; the others wake it
        # through a named pipe (wake_path) in the instance folder.
        "WAKE_FIFO": None,
    }


def wake_path(instance_path: str | Path) -> Path:
    return Path(instance_path) / "print-wake.fifo"


class FifoWaker:
    """How a serving process that does not run the print process wakes it: one byte on the
    named pipe it reads. Never blocks and never fails the caller: with no reader (the print
    process is restarting) the job is found by its next pass."""

    def __init__(self, path: Path):
        self.path = path

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, b"!")
            finally:
                os.close(fd)

    def stop(self, timeout: float = 5.0) -> None:
        return None  # the serving process that runs the print process stops it


def _open_fifo(path: str) -> int:
    """The named pipe, read and write: this process being a writer itself, the pipe never
    reads as ended when the other serving processes close it after each wake."""
    with contextlib.suppress(FileExistsError):
        os.mkfifo(path, 0o600)
    return os.open(path, os.O_RDWR | os.O_NONBLOCK)


class PrintProcess:
    """Started by the serving process; `wake()` after committing a job, `stop()` on exit."""

    def __init__(self, settings: dict):
        self.settings = settings
        self._proc: subprocess.Popen | None = None
        self._wake_fd: int | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = threading.Event()
        # Linux sends the parent-death signal when the thread that started the child ends:
        # this thread lives as long as the server, so it starts every worker.
        self._supervisor = threading.Thread(target=self._supervise, name="print-process")
        self._supervisor.daemon = True

    def start(self, timeout: float = 30.0) -> PrintProcess:
        self._supervisor.start()
        self._started.wait(timeout)
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def wake(self) -> None:
        fd = self._wake_fd
        if fd is None:
            return
        # A full pipe: already awake; a closed one: restarting (a new worker makes a pass first).
        with contextlib.suppress(OSError):
            os.write(fd, b"!")

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            proc, fd, self._wake_fd = self._proc, self._wake_fd, None
        if fd is not None:
            os.close(fd)  # end of file: the worker finishes its pass and exits
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._supervisor.join(timeout)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                proc = self._spawn()
            except Exception:
                log.exception("print worker process could not start")
                self._started.set()
                self._stopping.wait(RESTART_DELAY * 10)
                continue
            self._started.set()
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.warning("print worker process exited (%s); starting a new one", code)
            with self._lock:
                if self._wake_fd is not None:
                    os.close(self._wake_fd)
                    self._wake_fd = None
            self._stopping.wait(RESTART_DELAY)

    def _spawn(self) -> subprocess.Popen:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        root = str(Path(__file__).resolve().parents[2])  # the code this server runs
        env = {
            **os.environ,
            SETTINGS_ENV: json.dumps(self.settings),
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "server.printing.process", str(read_fd), str(os.getpid())],
                env=env,
                pass_fds=(read_fd,),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        with self._lock:
            if self._stopping.is_set():
                os.close(write_fd)
            else:
                self._proc, self._wake_fd = proc, write_fd
        return proc


# --- the worker process ------------------------------------------------------------------------


def _die_with(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the server died before the signal was asked for
        sys.exit(0)


def main(argv: list[str]) -> None:
    wake_fd, parent_pid = int(argv[0]), int(argv[1])
    _die_with(parent_pid)
    # Ctrl-C in the terminal reaches the whole process group: the server's exit ends this.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = json.loads(os.environ[SETTINGS_ENV])
    logging.basicConfig(level=settings["LOG_LEVEL"])

    from server import clock
    from server.db import Database

    from .worker import run_once

    clock.set_timezone(settings["TIMEZONE"])
    db = Database(settings["DATABASE_URL"])
    interval = settings["PRINT_WORKER_INTERVAL"]
    fifo_fd = _open_fifo(settings["WAKE_FIFO"]) if settings.get("WAKE_FIFO") else None
    watched = [wake_fd] if fifo_fd is None else [wake_fd, fifo_fd]
    try:
        while True:
            try:
                run_once(db.factory)
            except Exception:
                log.exception("print worker pass failed")
            ready, _, _ = select.select(watched, [], [], interval)
            if fifo_fd in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(fifo_fd, 4096)
            if wake_fd in ready and not os.read(wake_fd, 4096):
                return  # the server closed its end: it is stopping
    finally:
        db.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
