"""The visit-step state machine.

pending -> waiting (the visit reaches this step) -> called -> serving -> done.
called -> waiting on no-show while recalls remain (or out); serving -> held -> waiting.
Transfer sends the visit to another step: the step it leaves goes back to pending (it is
still to be done), the target step (pending, done or skipped) is queued again.
Any open state -> skipped (with reason) or cancelled.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import IllegalTransition


class State(StrEnum):
    PENDING = "pending"
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    SKIPPED = "skipped"
    NO_SHOW = "no_show"  # final: recalls used up and the policy sends the visit out
    CANCELLED = "cancelled"


class Action(StrEnum):
    ENQUEUE = "enqueue"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    COMPLETE = "complete"
    NO_SHOW_REQUEUE = "no_show_requeue"
    NO_SHOW_OUT = "no_show_out"
    HOLD = "hold"
    RELEASE = "release"
    SKIP = "skip"
    TRANSFER = "transfer"
    CANCEL = "cancel"


class VisitStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    OUT = "out"  # left as a no-show
    REFUSED = "refused"  # the owner refused the unit at inspection (拒收): a follow-up case


OPEN_STATES = frozenset({State.WAITING, State.CALLED, State.SERVING, State.HELD})
AT_COUNTER = frozenset({State.CALLED, State.SERVING})  # the one ticket a counter is busy with
FINAL_STATES = frozenset({State.DONE, State.SKIPPED, State.NO_SHOW, State.CANCELLED})

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.PENDING, Action.ENQUEUE): State.WAITING,
    (State.DONE, Action.ENQUEUE): State.WAITING,
    (State.SKIPPED, Action.ENQUEUE): State.WAITING,
    (State.WAITING, Action.CALL): State.CALLED,
    (State.CALLED, Action.RECALL): State.CALLED,
    (State.CALLED, Action.START): State.SERVING,
    (State.SERVING, Action.COMPLETE): State.DONE,
    (State.CALLED, Action.NO_SHOW_REQUEUE): State.WAITING,
    (State.CALLED, Action.NO_SHOW_OUT): State.NO_SHOW,
    (State.SERVING, Action.HOLD): State.HELD,
    (State.CALLED, Action.HOLD): State.HELD,
    (State.HELD, Action.RELEASE): State.WAITING,
    # A step may be skipped before it is reached (pending) or while the visit is at it.
    **{(s, Action.SKIP): State.SKIPPED for s in (State.PENDING, *OPEN_STATES)},
    **{(s, Action.TRANSFER): State.PENDING for s in OPEN_STATES},
    **{(s, Action.CANCEL): State.CANCELLED for s in (State.PENDING, *OPEN_STATES)},
}

# Shown to staff when they try something the state does not allow.
_STATE_WORDS = {
    State.PENDING: "not yet at this step",
    State.WAITING: "waiting",
    State.CALLED: "called",
    State.SERVING: "being served",
    State.HELD: "on hold",
    State.DONE: "done",
    State.SKIPPED: "skipped",
    State.NO_SHOW: "a no-show",
    State.CANCELLED: "cancelled",
}


def state_word(state: State | str) -> str:
    return _STATE_WORDS[State(state)]


def apply(state: State | str, action: Action | str) -> State:
    """The state after `action`, or IllegalTransition naming what the visit is now."""
    key = (State(state), Action(action))
    if key not in TRANSITIONS:
        raise IllegalTransition(
            "illegal_transition",
            "Not possible now: this ticket is %(state)s.",
            state=state_word(state),
            action=str(action),
        )
    return TRANSITIONS[key]


def allowed_actions(state: State | str) -> list[Action]:
    s = State(state)
    return [a for (st, a) in TRANSITIONS if st == s]


def no_show_action(recall_count: int, max_recalls: int, policy: str) -> Action:
    """After a no-show: back to the queue end while recalls remain, then by policy.

    `recall_count` counts calls already repeated for this step. With policy "requeue" the visit
    always goes back to the end of the queue (staff may cancel it); with "out" it leaves the queue
    once its recalls are used up.
    """
    if policy == "out" and recall_count >= max_recalls:
        return Action.NO_SHOW_OUT
    return Action.NO_SHOW_REQUEUE
