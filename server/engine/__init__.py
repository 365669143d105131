"""The queue and workflow rules: pure Python. Imports nothing of Flask or SQLAlchemy, so the
rules can be tested (and simulated) without a server or a database."""

from .errors import DomainError, Forbidden, IllegalTransition, Invalid, NotFound
from .numbering import format_ticket, parse_ticket
from .ordering import fair_queue_time, priority_rank, queue_key
from .routing import next_step_index
from .states import (
    AT_COUNTER,
    FINAL_STATES,
    OPEN_STATES,
    Action,
    State,
    VisitStatus,
    apply,
    no_show_action,
)
from .waits import estimated_wait_minutes, typical_service_minutes

__all__ = [
    "AT_COUNTER",
    "FINAL_STATES",
    "OPEN_STATES",
    "Action",
    "DomainError",
    "Forbidden",
    "IllegalTransition",
    "Invalid",
    "NotFound",
    "State",
    "VisitStatus",
    "apply",
    "estimated_wait_minutes",
    "fair_queue_time",
    "format_ticket",
    "next_step_index",
    "no_show_action",
    "parse_ticket",
    "priority_rank",
    "queue_key",
    "typical_service_minutes",
]
