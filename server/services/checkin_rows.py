"""The rows one check-in writes, as plain INSERTs built once.

Check-in is the request every owner makes, often a queue of them at once, and most of its CPU
went to SQLAlchemy rather than to the database: building each statement anew and keying it for
the compiled cache, and the unit of work (two flushes, one INSERT per visit step). Here every
statement is built once at import (bindparam() where a value changes, so the statement keeps its
cache key), each table gets one INSERT (the visit's steps together, their ids coming back
through RETURNING), and the visit and its steps are then put into the session as if just loaded
(`attach`): the caller and the status built after the commit use them without reading back what
was just written.

The rows are the ones the ORM wrote: every column is given, with the model's default where the
check-in does not set it (`visit_row`, `step_row`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy import column as column_clause
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, make_transient_to_detached

from server.models import PrintJob, Visit, VisitStep

_VISITS: Table = Visit.__table__
_VISIT_STEPS: Table = VisitStep.__table__

INSERT_VISIT = _VISITS.insert().returning(_VISITS.c.id)
# One statement for all the steps; (id, step_id) comes back in any order (step ids are unique
# per visit), so no ordering guarantee of RETURNING is needed.
INSERT_STEPS = _VISIT_STEPS.insert().returning(_VISIT_STEPS.c.id, _VISIT_STEPS.c.step_id)


def _insert_unnest(table: Table, per_row: tuple[str, ...], returning) -> Any:
    """PostgreSQL: the rows `table.insert()` writes given a list, from one array per column in
    `per_row` and one value for each other column (the same in every row). A multi-row VALUES
    has a parameter per row and column, so its text changes with the row count, and past 50
    parameters psycopg converts it anew on every execution; this text is fixed. The arrays are
    few because dumping them is most of the client's cost. Rows go in list order (WITH
    ORDINALITY), as the VALUES rows did, so they get the same ids."""
    columns = [c for c in table.columns if not c.primary_key]
    arrays = (
        func.unnest(*[bindparam(k, type_=postgresql.ARRAY(table.c[k].type)) for k in per_row])
        .table_valued(
            *[column_clause(k, table.c[k].type) for k in per_row], with_ordinality="ordinal"
        )
        .render_derived(name="new_rows")
    )
    values = [
        arrays.c[c.key] if c.key in per_row else bindparam(c.key, type_=c.type) for c in columns
    ]
    return (
        table.insert()
        .from_select([c.key for c in columns], select(*values).order_by(arrays.c.ordinal))
        .returning(*returning)
    )


# What differs between one visit's steps at check-in; the other columns are the visit's.
_STEP_PER_ROW = ("step_id", "sort", "state", "queue_at")
_STEP_SHARED = tuple(
    c.key for c in _VISIT_STEPS.columns if not c.primary_key and c.key not in _STEP_PER_ROW
)
INSERT_STEPS_PG = _insert_unnest(
    _VISIT_STEPS, _STEP_PER_ROW, (_VISIT_STEPS.c.id, _VISIT_STEPS.c.step_id)
)
INSERT_PRINT_JOB = PrintJob.__table__.insert()


def _unset_columns(table: Table) -> dict[str, Any]:
    """What the ORM inserts for a column nobody set: its plain default, else NULL. Every
    column of these two tables is covered, so the objects `attach` makes are fully loaded."""
    out = {}
    for column in table.columns:
        if column.primary_key:
            continue
        default = column.default
        assert column.server_default is None and (default is None or default.is_scalar), column
        out[column.key] = default.arg if default is not None else None
    return out


_VISIT_DEFAULTS = _unset_columns(_VISITS)
_STEP_DEFAULTS = _unset_columns(_VISIT_STEPS)


def visit_row(**values: Any) -> dict[str, Any]:
    unknown = values.keys() - _VISIT_DEFAULTS.keys()
    assert not unknown, unknown
    return {**_VISIT_DEFAULTS, **values}


def step_row(**values: Any) -> dict[str, Any]:
    unknown = values.keys() - _STEP_DEFAULTS.keys()
    assert not unknown, unknown
    return {**_STEP_DEFAULTS, **values}


def run(session: Session, statement, params):
    """A plain (table-level) statement on the session's connection and transaction: given to
    Session.execute, an INSERT of a mapped table takes the ORM's bulk path instead."""
    return session.connection().execute(statement, params)


def insert_visit(session: Session, row: dict[str, Any]) -> int:
    return run(session, INSERT_VISIT, row).scalar_one()


def insert_steps(session: Session, rows: list[dict[str, Any]]) -> dict[int, int]:
    """step id -> new visit-step id."""
    if session.get_bind().dialect.name == "postgresql":
        first = rows[0]
        params = {k: first[k] for k in _STEP_SHARED}
        assert all(r[k] == first[k] for r in rows for k in _STEP_SHARED), rows
        params.update((k, [r[k] for r in rows]) for k in _STEP_PER_ROW)
        result = run(session, INSERT_STEPS_PG, params)
    else:
        result = run(session, INSERT_STEPS, rows)
    return {step_id: vs_id for vs_id, step_id in result}


def attach(session: Session, visit: Visit) -> None:
    """`visit` and its steps, built from the rows just inserted (ids set), become persistent
    objects of `session` as if loaded: nothing is flushed for them, nothing read back."""
    for vs in visit.steps:
        make_transient_to_detached(vs)
    make_transient_to_detached(visit)
    session.add(visit)
