"""Engine and sessions.

SQLite (WAL, busy_timeout, foreign keys): a transaction opens with BEGIN IMMEDIATE, so that a
read-then-write (call-next's claim, the ticket number) cannot interleave with another writer,
unless its session was switched to reads with `reading()`: then it opens with a plain (deferred)
BEGIN, which in WAL mode takes no lock at all and never waits for a writer. Requests that only
read, the auth check of every request and the answers built after a change run that way;
`writing()` switches back (ending the read first, so the write starts from a fresh snapshot:
SQLite cannot upgrade an old read snapshot to a write). Immediate stays the default, so code
that never says which gets the safe behaviour. PostgreSQL: plain READ COMMITTED either way;
claims use FOR UPDATE SKIP LOCKED (see services.queue).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

try:
    import fcntl
except ImportError:  # Windows: processes meet SQLite's own busy handling
    fcntl = None  # type: ignore[assignment]


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 40)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from the driver so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: the day's records are evidence; a power cut must not lose a committed row.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # Writers queue on a lock of their own before BEGIN IMMEDIATE: a thread waiting here wakes
    # the moment the writer before it commits, where SQLite's busy handler would poll on a
    # sleep timer (up to 100 ms a nap: the multi-second tail under load). First the threads of
    # this process, then, holding that, the processes sharing the file (the print worker's
    # process, a CLI command, a second server) on an OS lock beside the database.
    write_lock = threading.Lock()
    file_lock = _ProcessLock.beside(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(_BEGIN, "IMMEDIATE")
        # With a timeout: a thread that already writes on another connection falls back to
        # SQLite's busy handling instead of waiting for itself.
        if mode == "IMMEDIATE" and write_lock.acquire(timeout=30):
            conn.connection.info[_HOLDS] = write_lock
            if file_lock is not None:
                file_lock.acquire()
                conn.connection.info[_HOLDS_FILE] = file_lock
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(conn.connection.info)
            raise

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        # Commit now, so that the next writer starts only once this one is on disk.
        try:
            conn.connection.dbapi_connection.commit()
        finally:
            _release(conn.connection.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        try:
            conn.connection.dbapi_connection.rollback()
        finally:
            _release(conn.connection.info)

    @event.listens_for(engine, "reset")
    def _on_reset(_dbapi_conn, record, _reset_state):
        _release(record.info)  # returned to the pool mid-transaction

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_conn, record, _exc):
        _release(record.info)


_HOLDS = "handover_write_lock"
_HOLDS_FILE = "handover_write_file_lock"


def _release(info: dict) -> None:
    file_lock = info.pop(_HOLDS_FILE, None)
    if file_lock is not None:
        file_lock.release()
    lock = info.pop(_HOLDS, None)
    if lock is not None:
        lock.release()


class _ProcessLock:
    """An exclusive flock on `<database>-writers.lock`. A process waiting on it is woken by
    the kernel when it is released (no polling). Taken only by the one thread of a process
    that holds the process's own write lock, so one open file per process is enough."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        self._pid: int | None = None

    @classmethod
    def beside(cls, database: str | None) -> _ProcessLock | None:
        if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
            return None  # Windows, or a database no other process can open
        return cls(f"{database}-writers.lock")

    def _file(self) -> int:
        # Opened lazily and again after a fork: a lock is held by an open file, which a
        # forked child would otherwise share with its parent.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_UN)


_BEGIN = "sqlite_begin"


def _switch(session: Session, mode: str) -> None:
    if session.execution_options.get(_BEGIN, "IMMEDIATE") == mode or is_postgres(session):
        return
    if session.in_transaction():
        session.commit()  # ends the current transaction; loaded objects stay (no expiry)
    # Applied when the session next takes a connection, i.e. before its BEGIN.
    session.execution_options = session.execution_options.union({_BEGIN: mode})


def reading(session: Session) -> None:
    """From now on this session's transactions take no lock on SQLite (no-op on PostgreSQL)."""
    _switch(session, "DEFERRED")


def writing(session: Session) -> None:
    """From now on this session's transactions start with the write lock (SQLite). Call before
    the first read a write depends on: what was read before belongs to an older snapshot."""
    _switch(session, "IMMEDIATE")


def is_postgres(session_or_engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


class Database:
    """One per app: the engine, a session factory, and a thread-scoped session for requests."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.scoped = scoped_session(self.factory)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A fresh session for work outside a request (CLI, worker, tests)."""
        session = self.factory()
        try:
            yield session
        finally:
            session.close()

    def create_all(self) -> None:
        from server.models import Base

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.scoped.remove()
        self.engine.dispose()
