"""The ticket's life (DESIGN §7): one table of transitions for the workstation and the central service.

- waiting → called (call); recall keeps it called; called → serving (serve) → finished (finish);
- waiting → serving (serve): a citizen who came to the desk without a call;
- called → no_show, only after the office's maximum of calls;
- serving → parked (park) → serving (resume);
- called, serving or parked → transferred: the citizen goes on as a new waiting ticket.

Finished, no-show, transferred and cancelled are terminal. The workstation's commands and the central
service's apply both ask `next_state`, so what the workstation accepts the central service accepts from
the same state; each side words a refusal its own way (a German sentence for the clerk, a rejected
result for the push). Standard library only: the workstation asks on every key press.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CALLING_DESK_ONLY",
    "DEFAULT_MAX_CALLS",
    "INITIAL_STATE",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "RefusalReason",
    "TicketAction",
    "TicketFacts",
    "TicketState",
    "TransitionRefused",
    "allowed_actions",
    "next_state",
]

DEFAULT_MAX_CALLS = 3  # calls before "no-show" is allowed, when the office sets none (DESIGN §7)


class TicketState(StrEnum):
    """A ticket's state; the values are what both stores hold in `tickets.state`."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


class TicketAction(StrEnum):
    """A clerk action that moves a ticket on; each travels as one operation (its kind beside it)."""

    CALL = "call"  # ticket.call, recall false
    RECALL = "recall"  # ticket.call, recall true
    SERVE = "serve"  # ticket.serve
    NO_SHOW = "no_show"  # ticket.no_show
    PARK = "park"  # ticket.park
    RESUME = "resume"  # ticket.resume
    TRANSFER = "transfer"  # ticket.transfer (the successor starts as a new ticket in INITIAL_STATE)
    FINISH = "finish"  # case.finish


INITIAL_STATE = TicketState.WAITING  # an issued ticket, a transfer's successor

TRANSITIONS: Mapping[tuple[TicketState, TicketAction], TicketState] = MappingProxyType(
    {
        (TicketState.WAITING, TicketAction.CALL): TicketState.CALLED,
        # a citizen who stands at the desk without a call is served straight away
        (TicketState.WAITING, TicketAction.SERVE): TicketState.SERVING,
        (TicketState.CALLED, TicketAction.RECALL): TicketState.CALLED,
        (TicketState.CALLED, TicketAction.SERVE): TicketState.SERVING,
        (TicketState.CALLED, TicketAction.NO_SHOW): TicketState.NO_SHOW,
        (TicketState.CALLED, TicketAction.TRANSFER): TicketState.TRANSFERRED,
        (TicketState.SERVING, TicketAction.PARK): TicketState.PARKED,
        (TicketState.SERVING, TicketAction.TRANSFER): TicketState.TRANSFERRED,
        (TicketState.SERVING, TicketAction.FINISH): TicketState.FINISHED,
        (TicketState.PARKED, TicketAction.RESUME): TicketState.SERVING,
        (TicketState.PARKED, TicketAction.TRANSFER): TicketState.TRANSFERRED,
    }
)

TERMINAL_STATES = frozenset(set(TicketState) - {source for source, _action in TRANSITIONS})

# On a called ticket these belong to the desk that called it: another desk may not recall it or
# serve it (it may still transfer it, as the clerk who finds the citizen at the wrong desk does).
CALLING_DESK_ONLY = frozenset({TicketAction.RECALL, TicketAction.SERVE})


class RefusalReason(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the ticket's state does not allow the action
    OTHER_DESK = "other_desk"  # the ticket was called by another desk
    TOO_FEW_CALLS = "too_few_calls"  # no-show before the office's maximum of calls


class TransitionRefused(Exception):
    """The action may not happen to the ticket; `str()` is the English reason for logs and pushes."""

    def __init__(
        self,
        state: str,
        action: TicketAction,
        reason: RefusalReason,
        *,
        called_count: int = 0,
        max_calls: int = 0,
    ) -> None:
        self.state = state  # as stored: a value outside TicketState is refused, not crashed on
        self.action = action
        self.reason = reason
        self.called_count = called_count
        self.max_calls = max_calls
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.reason is RefusalReason.OTHER_DESK:
            return "ticket was called by another desk"
        if self.reason is RefusalReason.TOO_FEW_CALLS:
            return f"no-show needs {self.max_calls} calls, ticket has {self.called_count}"
        return f"cannot {_VERBS[self.action]} a ticket that is {self.state}"


_VERBS = {
    TicketAction.CALL: "call",
    TicketAction.RECALL: "recall",
    TicketAction.SERVE: "serve",
    TicketAction.NO_SHOW: "mark as no-show",
    TicketAction.PARK: "park",
    TicketAction.RESUME: "resume",
    TicketAction.TRANSFER: "transfer",
    TicketAction.FINISH: "finish",
}


class TicketFacts(Protocol):
    """What the rule reads of a ticket; both stores' `Ticket` rows have it."""

    @property
    def state(self) -> str: ...

    @property
    def called_count(self) -> int: ...

    @property
    def desk_id(self) -> str | None: ...


def next_state(
    ticket: TicketFacts,
    action: TicketAction,
    *,
    desk_id: str | None = None,
    max_calls: int | None = None,
) -> TicketState:
    """The state `action` leads `ticket` to, or `TransitionRefused` saying why it may not.

    `desk_id` is the acting desk, needed for the actions in `CALLING_DESK_ONLY`; `max_calls` is the
    office's maximum of calls, needed for a no-show. Changes nothing: the caller applies the result."""
    try:
        state = TicketState(ticket.state)
    except ValueError:
        raise TransitionRefused(str(ticket.state), action, RefusalReason.NOT_ALLOWED) from None
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise TransitionRefused(state, action, RefusalReason.NOT_ALLOWED)
    if state is TicketState.CALLED and action in CALLING_DESK_ONLY:
        if desk_id is None:
            raise TypeError(f"next_state needs the acting desk_id to {action} a called ticket")
        if ticket.desk_id != desk_id:
            raise TransitionRefused(state, action, RefusalReason.OTHER_DESK)
    if action is TicketAction.NO_SHOW:
        if max_calls is None:
            raise TypeError("next_state needs the office's max_calls for a no-show")
        if ticket.called_count < max_calls:
            raise TransitionRefused(
                state,
                action,
                RefusalReason.TOO_FEW_CALLS,
                called_count=ticket.called_count,
                max_calls=max_calls,
            )
    return target


def allowed_actions(state: TicketState) -> frozenset[TicketAction]:
    """The actions the table allows from `state` (guards aside), e.g. to offer only those keys."""
    return frozenset(action for source, action in TRANSITIONS if source is state)
