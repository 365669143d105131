"""Evidence rows are never updated in place: a correction is a new row naming the row it
replaces (`supersedes_id`) with why (`correction_reason`); its own staff/time say who and when.
The current answer for a key is the newest row nothing supersedes."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

T = TypeVar("T")


def current(session: Session, model: type[T], **filters: Any) -> list[T]:
    newer = aliased(model)
    stmt = select(model).where(
        ~select(newer.id).where(newer.supersedes_id == model.id).exists()  # type: ignore[attr-defined]
    )
    for column, value in filters.items():
        stmt = stmt.where(getattr(model, column) == value)
    return list(session.scalars(stmt.order_by(model.id)))  # type: ignore[attr-defined]


def current_one(session: Session, model: type[T], **filters: Any) -> T | None:
    rows = current(session, model, **filters)
    return rows[-1] if rows else None


def add(
    session: Session,
    model: type[T],
    key: dict[str, Any],
    values: dict[str, Any],
    *,
    reason: str | None = None,
) -> T:
    """Adds the row for `key`; if one exists already, the new row supersedes it."""
    previous = current_one(session, model, **key)
    row = model(**key, **values)
    if previous is not None:
        row.supersedes_id = previous.id  # type: ignore[attr-defined]
        row.correction_reason = (reason or "").strip() or "corrected at the counter"  # type: ignore[attr-defined]
    session.add(row)
    session.flush()
    return row
