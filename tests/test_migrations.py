"""`handover init-db` builds exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.cli import upgrade_database
from server.models import Base


def test_migrations_match_the_models(db_url):
    upgrade_database(db_url)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_url):
    from server.db import Database

    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()


def _migrate(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from server.cli import ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if revision == "head":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


def test_visit_steps_day_is_backfilled_from_the_visit(db_url):
    """0005 copies each visit's day onto its steps (a database with visits, downgraded and
    upgraded again), and puts the day in the queue index."""
    from datetime import timedelta

    from sqlalchemy import bindparam, inspect, select, text

    from server.db import Database
    from server.models import Visit
    from server.services import checkin
    from server.services.actor import Actor
    from tests.conftest import build_venue

    upgrade_database(db_url)
    db = Database(db_url)
    with db.session() as s:
        venue = build_venue(s)
        actor = Actor(staff_id=venue.staff["staff"], role="staff")
        for i, code in enumerate(venue.codes[:3]):
            checkin.check_in(
                s,
                project_id=venue.project_id,
                code=code,
                actor=actor,
                now=venue.day + timedelta(minutes=i),
            )
        moved = s.scalars(select(Visit.id).order_by(Visit.id)).all()[1]
    db.dispose()

    _migrate(db_url, "0004_owner_absences")
    engine = create_engine(db_url)
    assert "day" not in {c["name"] for c in inspect(engine).get_columns("visit_steps")}
    with engine.begin() as conn:  # a visit of another day: its steps must get that day
        conn.execute(
            text("UPDATE visits SET day = :d WHERE id = :id").bindparams(
                bindparam("d", type_=Visit.__table__.c.day.type)
            ),
            {"d": venue.day.date() + timedelta(days=1), "id": moved},
        )
    engine.dispose()

    _migrate(db_url, "head")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT vs.visit_id, vs.day, v.day FROM visit_steps vs"
                " JOIN visits v ON v.id = vs.visit_id"
            )
        ).all()
    index = next(
        i for i in inspect(engine).get_indexes("visit_steps") if i["name"] == "ix_visit_steps_queue"
    )
    engine.dispose()
    assert len(rows) == 3 * 3
    assert all(step_day == visit_day for _id, step_day, visit_day in rows)
    assert {str(d) for vid, d, _ in rows if vid == moved} == {
        str(venue.day.date() + timedelta(days=1))
    }
    assert index["column_names"] == ["state", "step_id", "day", "priority_rank", "queue_at", "seq"]
