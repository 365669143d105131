"""Which step a visit goes to next, from the configured order and what is already settled."""

from __future__ import annotations

from collections.abc import Sequence

from .states import FINAL_STATES, State


def next_step_index(states: Sequence[State | str]) -> int | None:
    """Index of the first step not yet settled, in configured order; None when all are."""
    for i, s in enumerate(states):
        if State(s) not in FINAL_STATES:
            return i
    return None
