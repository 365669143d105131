"""The current answer among evidence rows that may have been corrected.

Evidence is never updated in place: a correction is a new row whose `supersedes_id` names the
row it replaces. The current answer for a key (a visit's outcome, a fee of a visit ...) is the
newest row that no other row's `supersedes_id` points at.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

R = TypeVar("R")


def heads(rows: Iterable[R]) -> list[R]:
    """Rows nothing supersedes (each row needs `.id` and `.supersedes_id`)."""
    rows = list(rows)
    replaced = {r.supersedes_id for r in rows if r.supersedes_id is not None}  # type: ignore[attr-defined]
    return [r for r in rows if r.id not in replaced]  # type: ignore[attr-defined]


def current_by(rows: Iterable[R], key: Callable[[R], Hashable]) -> dict[Any, R]:
    """Per key, the newest (created_at, id) row among those nothing supersedes."""
    best: dict[Any, R] = {}
    for r in heads(rows):
        k = key(r)
        old = best.get(k)
        if old is None or (r.created_at, r.id) > (old.created_at, old.id):  # type: ignore[attr-defined]
            best[k] = r
    return best
