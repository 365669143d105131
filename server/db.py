"""Engine and sessions.

SQLite: WAL, busy_timeout, foreign keys, and every transaction opened with BEGIN IMMEDIATE so
that a read-then-claim (call-next) cannot interleave with another writer. PostgreSQL: plain
READ COMMITTED; claims use FOR UPDATE SKIP LOCKED (see services.queue).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker


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

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
