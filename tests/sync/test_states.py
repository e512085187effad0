"""One ticket state machine (`sync/states.py`), and both sides keep to it.

First the rule's own facts, from DESIGN §7. Then Hypothesis drives the real code paths — the
workstation's `Counter` over a migrated SQLite store, and the central service's `apply.push` over its
own store — and checks that each side accepts exactly what `next_state` accepts, lands where it says,
and that every visit the workstation records is one the central service applies without a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sync.central import apply, store
from sync.central.store import CentralStore
from sync.protocol import Operation, OperationResult, PushRequest
from sync.states import (
    INITIAL_STATE,
    TERMINAL_STATES,
    TRANSITIONS,
    RefusalReason,
    TicketAction,
    TicketState,
    TransitionRefused,
    allowed_actions,
    next_state,
)
from workstation import commands, models
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.errors import CommandRefused
from workstation.sync_engine import operation_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

OFFICE, PA, CLERK, OTHER_DESK = "office-st", "svc-st-pa", "clerk-st", "desk-st-other"
WORKSTATION, DIVERGED = "ws-st", "ws-st-diverged"  # DIVERGED sends what this workstation would refuse
MAX_CALLS = 3
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CURRENT = (TicketState.CALLED, TicketState.SERVING)  # a desk's current ticket is in one of these
# The workstation offers these only for its desk's current ticket (no ticket id to pass).
ON_CURRENT_TICKET = frozenset(
    {TicketAction.RECALL, TicketAction.NO_SHOW, TicketAction.PARK, TicketAction.FINISH}
)
NOTHING_CURRENT = {"Es ist keine Wartenummer aufgerufen.", "Es wird gerade kein Vorgang bearbeitet."}


# --- the rule on its own ----------------------------------------------------------------------------


@dataclass
class Facts:
    """A ticket as the rule sees it, for the rule's own tests."""

    state: str
    called_count: int = 0
    desk_id: str | None = None


def test_a_whole_visit_follows_design_section_7() -> None:
    ticket = Facts(INITIAL_STATE)
    assert ticket.state == "waiting"
    for action, expected in (
        (TicketAction.CALL, "called"),
        (TicketAction.RECALL, "called"),
        (TicketAction.SERVE, "serving"),
        (TicketAction.PARK, "parked"),
        (TicketAction.RESUME, "serving"),
        (TicketAction.FINISH, "finished"),
    ):
        ticket.state = next_state(ticket, action, desk_id="d1", max_calls=MAX_CALLS)
        ticket.desk_id = "d1"
        assert ticket.state == expected


def test_no_show_only_after_the_office_maximum_of_calls() -> None:
    for count in range(MAX_CALLS):
        with pytest.raises(TransitionRefused) as refused:
            next_state(Facts("called", count, "d1"), TicketAction.NO_SHOW, max_calls=MAX_CALLS)
        assert refused.value.reason is RefusalReason.TOO_FEW_CALLS
        assert (refused.value.called_count, refused.value.max_calls) == (count, MAX_CALLS)
        assert str(refused.value) == f"no-show needs {MAX_CALLS} calls, ticket has {count}"
    called_enough = Facts("called", MAX_CALLS, "d1")
    assert next_state(called_enough, TicketAction.NO_SHOW, max_calls=MAX_CALLS) is TicketState.NO_SHOW
    with pytest.raises(TypeError):  # the office's maximum is not optional
        next_state(called_enough, TicketAction.NO_SHOW)


def test_a_called_ticket_belongs_to_its_desk_but_may_be_sent_on() -> None:
    called_at_d1 = Facts("called", 1, "d1")
    for action in (TicketAction.RECALL, TicketAction.SERVE):
        with pytest.raises(TransitionRefused) as refused:
            next_state(called_at_d1, action, desk_id="d2")
        assert refused.value.reason is RefusalReason.OTHER_DESK
        assert str(refused.value) == "ticket was called by another desk"
        assert next_state(called_at_d1, action, desk_id="d1") in (TicketState.CALLED, TicketState.SERVING)
    assert next_state(called_at_d1, TicketAction.TRANSFER, desk_id="d2") is TicketState.TRANSFERRED
    assert next_state(Facts("waiting"), TicketAction.SERVE, desk_id="d2") is TicketState.SERVING


@given(state=st.sampled_from(sorted({"finished", "no_show", "cancelled", "transferred"})))
def test_ended_tickets_accept_nothing(state: str) -> None:
    assert TicketState(state) in TERMINAL_STATES
    assert allowed_actions(TicketState(state)) == frozenset()
    for action in TicketAction:
        with pytest.raises(TransitionRefused) as refused:
            next_state(Facts(state, MAX_CALLS, "d1"), action, desk_id="d1", max_calls=MAX_CALLS)
        assert refused.value.reason is RefusalReason.NOT_ALLOWED
        assert str(refused.value).startswith("cannot ")
        assert str(refused.value).endswith(f"is {state}")


@given(state=st.text(max_size=12).filter(lambda text: text not in set(TicketState)))
def test_a_state_the_rule_does_not_know_is_refused_not_crashed_on(state: str) -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_state(Facts(state), TicketAction.CALL)
    assert refused.value.state == state
    assert refused.value.reason is RefusalReason.NOT_ALLOWED


def reachable_from(start: TicketState) -> set[TicketState]:
    reached, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = TRANSITIONS[(state, action)]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    return reached


def test_every_state_but_cancelled_is_reached_from_waiting_and_every_live_ticket_can_end() -> None:
    assert set(TicketState) - reachable_from(INITIAL_STATE) == {
        TicketState.CANCELLED
    }  # no action cancels yet
    for state in set(TicketState) - TERMINAL_STATES:
        assert reachable_from(state) & {TicketState.FINISHED, TicketState.NO_SHOW}, state


def test_the_stores_hold_the_enum_values() -> None:
    assert models.TicketState is TicketState  # one enum, not a twin
    assert {state.value for state in TicketState} == {
        "waiting", "called", "serving", "parked", "finished", "no_show", "transferred", "cancelled",
    }  # fmt: skip
    central_default = store.Ticket.__table__.c.state.default
    assert central_default is not None
    assert central_default.arg == INITIAL_STATE.value


# --- both sides over real stores ----------------------------------------------------------------------


class Sides:
    """A workstation's local store and a central store that hold the same small office."""

    def __init__(self, root: Path) -> None:
        self.local = LocalStore(root / "local.sqlite3")
        self.local.migrate()
        self.central = CentralStore(f"sqlite:///{root / 'central.sqlite3'}")
        self.central.create_schema()
        self._made = 0
        self._pushed_seq = 0
        self._diverged_seq = 0
        with self.local.session() as session:
            session.add(models.Office(id=OFFICE, name="Bürgeramt", max_calls=MAX_CALLS))
            session.flush()
            session.add(models.Service(id=PA, office_id=OFFICE, code="PA", name="Personalausweis"))
            session.add(models.Clerk(id=CLERK, office_id=OFFICE, name="Erika Mustermann"))
            session.commit()
        with self.central.write() as session:
            session.add(store.Office(id=OFFICE, name="Bürgeramt", max_calls=MAX_CALLS))
            session.flush()
            session.add(store.Service(id=PA, office_id=OFFICE, code="PA", name="Personalausweis"))
            session.add(store.Clerk(id=CLERK, office_id=OFFICE, name="Erika Mustermann"))
        self.add_desk(OTHER_DESK)

    def fresh(self, prefix: str) -> str:
        self._made += 1
        return f"{prefix}-{self._made}"

    def add_desk(self, desk_id: str | None = None) -> str:
        """A new desk serving PA on both sides (each example gets a free one)."""
        desk_id = desk_id or self.fresh("desk")
        with self.local.session() as session:
            desk = models.Desk(id=desk_id, office_id=OFFICE, number=self._made, name=desk_id)
            desk.services = [session.get_one(models.Service, PA)]
            session.add(desk)
            session.commit()
        with self.central.write() as session:
            session.add(
                store.Desk(id=desk_id, office_id=OFFICE, number=self._made, name=desk_id, service_ids=[PA])
            )
        return desk_id

    def counter(self, desk_id: str) -> Counter:
        return Counter(self.local, DeskContext(WORKSTATION, OFFICE, desk_id, CLERK), clock=lambda: NOW)

    def place(self, state: TicketState, desk_id: str | None, called_count: int) -> tuple[str, str]:
        """A ticket already in `state` on both sides (with its open case when serving or parked)."""
        ticket_id, case_id = self.fresh("t"), self.fresh("case")
        called_at = NOW - timedelta(minutes=5) if called_count else None
        ticket: dict[str, Any] = {
            "id": ticket_id,
            "office_id": OFFICE,
            "number": f"A{self._made}",
            "issued_at": NOW - timedelta(minutes=20),
            "priority": 0,
            "state": state,
            "called_count": called_count,
            "first_called_at": called_at,
            "last_called_at": called_at,
            "desk_id": desk_id,
            "clerk_id": CLERK if desk_id else None,
            "origin": "kiosk",
        }
        has_case = state in (TicketState.SERVING, TicketState.PARKED)
        case: dict[str, Any] = {
            "id": case_id,
            "ticket_id": ticket_id,
            "office_id": OFFICE,
            "desk_id": desk_id,
            "clerk_id": CLERK,
            "opened_at": NOW - timedelta(minutes=3),
            "serving_since": NOW - timedelta(minutes=3) if state is TicketState.SERVING else None,
        }
        with self.local.session() as session:
            local_ticket = models.Ticket(**ticket, version=1)
            local_ticket.services = [session.get_one(models.Service, PA)]
            session.add(local_ticket)
            if has_case:
                session.flush()  # the case's ticket first: no relationship tells the flush the order
                local_case = models.Case(**case, served_seconds=0.0, notes="")
                local_case.services = [models.CaseService(service_id=PA, documents_checked=[])]
                session.add(local_case)
            session.commit()
        with self.central.write() as session:
            session.add(store.Ticket(**ticket, service_ids=[PA]))
            if has_case:
                session.flush()
                session.add(store.Case(**case, service_ids=[PA]))
        return ticket_id, case_id

    def local_ticket(self, ticket_id: str) -> models.Ticket:
        with self.local.session() as session:
            return session.get_one(models.Ticket, ticket_id)

    def central_ticket(self, ticket_id: str) -> store.Ticket:
        with self.central.read() as session:
            return session.get_one(store.Ticket, ticket_id)

    def outbox_size(self) -> int:
        with self.local.session() as session:
            return len(session.scalars(select(models.OutboxOperation.seq)).all())

    def push_new(self) -> list[OperationResult]:
        """Push what the workstation appended since the last push, as the sync engine sends it."""
        with self.local.session() as session:
            rows = session.scalars(
                select(models.OutboxOperation)
                .where(models.OutboxOperation.seq > self._pushed_seq)
                .order_by(models.OutboxOperation.seq)
            ).all()
            operations = [operation_of(row) for row in rows]
        if operations:
            self._pushed_seq = operations[-1].seq
        return self._push(WORKSTATION, operations)

    def push_diverged(self, kind: str, args: dict[str, Any]) -> OperationResult:
        """Push one operation from a workstation whose copy of the ticket is out of date."""
        self._diverged_seq += 1
        operation = Operation(
            op_id=self.fresh("op"), seq=self._diverged_seq, kind=kind, args=args, created_at=NOW
        )
        [answer] = self._push(DIVERGED, [operation])
        return answer

    def _push(self, workstation_id: str, operations: list[Operation]) -> list[OperationResult]:
        request = PushRequest(workstation_id=workstation_id, office_id=OFFICE, operations=operations)
        with self.central.write() as session:
            return apply.push(session, request, NOW).results

    def dispose(self) -> None:
        self.local.dispose()
        self.central.dispose()


@pytest.fixture(scope="module")
def table_sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    sides = Sides(tmp_path_factory.mktemp("table"))
    yield sides
    sides.dispose()


@pytest.fixture(scope="module")
def walk_sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    sides = Sides(tmp_path_factory.mktemp("walks"))
    yield sides
    sides.dispose()


def act_locally(counter: Counter, action: TicketAction, ticket_id: str, is_current: bool) -> None:
    """The clerk's key for `action`: on the desk's current ticket, or on a ticket chosen in a list."""
    chosen = None if is_current else ticket_id
    match action:
        case TicketAction.CALL:
            counter.call_ticket(ticket_id)
        case TicketAction.RECALL:
            counter.recall()
        case TicketAction.SERVE:
            counter.citizen_arrived(chosen)
        case TicketAction.NO_SHOW:
            counter.no_show()
        case TicketAction.PARK:
            counter.park()
        case TicketAction.RESUME:
            counter.resume(ticket_id)
        case TicketAction.TRANSFER:
            counter.transfer([PA], None, chosen)
        case TicketAction.FINISH:
            counter.finish({PA: models.ServiceOutcome.COMPLETED})


def diverged_operation(
    sides: Sides, action: TicketAction, ticket_id: str, desk_id: str, case_id: str
) -> tuple[str, dict[str, Any]]:
    """The operation `action` travels as, from a workstation that believes it may act."""
    at = NOW.isoformat()
    acting = {"desk_id": desk_id, "clerk_id": CLERK}
    match action:
        case TicketAction.CALL | TicketAction.RECALL:
            call = {"call_id": sides.fresh("call"), "called_at": at, "recall": action is TicketAction.RECALL}
            return "ticket.call", {"ticket_id": ticket_id, **acting, **call}
        case TicketAction.SERVE:
            return "ticket.serve", {
                "ticket_id": ticket_id,
                "case_id": sides.fresh("case"),
                "at": at,
                **acting,
            }
        case TicketAction.NO_SHOW:
            return "ticket.no_show", {"ticket_id": ticket_id, "at": at}
        case TicketAction.PARK:
            return "ticket.park", {"ticket_id": ticket_id, "case_id": case_id, "at": at}
        case TicketAction.RESUME:
            return "ticket.resume", {"ticket_id": ticket_id, "case_id": case_id, "at": at, **acting}
        case TicketAction.TRANSFER:
            successor = sides.fresh("t")
            return "ticket.transfer", {
                "ticket_id": ticket_id,
                "new_ticket_id": successor,
                "service_ids": [PA],
                "target_desk_id": None,
                "at": at,
            }
        case TicketAction.FINISH:
            outcomes = {PA: "completed"}
            return "case.finish", {"ticket_id": ticket_id, "case_id": case_id, "outcomes": outcomes, "at": at}


def expected_after(
    ticket: models.Ticket, action: TicketAction, desk_id: str
) -> TicketState | TransitionRefused:
    try:
        return next_state(ticket, action, desk_id=desk_id, max_calls=MAX_CALLS)
    except TransitionRefused as refusal:
        return refusal


def same_on_both_sides(sides: Sides, ticket_id: str) -> tuple[str, int, str | None]:
    local, central = sides.local_ticket(ticket_id), sides.central_ticket(ticket_id)
    assert type(local.state) is TicketState  # the local column loads members, not bare strings
    seen = (local.state, local.called_count, local.desk_id)
    assert (central.state, central.called_count, central.desk_id) == seen
    return seen


@pytest.mark.parametrize("action", list(TicketAction), ids=str)
@pytest.mark.parametrize("state", list(TicketState), ids=str)  # every pair, so no transition is missed
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elsewhere=st.booleans(), called_count=st.integers(0, MAX_CALLS + 1))
def test_both_sides_accept_exactly_what_the_rule_accepts(
    table_sides: Sides, state: TicketState, action: TicketAction, elsewhere: bool, called_count: int
) -> None:
    """From every state, every action: the workstation's command and the central apply both accept it
    and land in the rule's state, or both refuse it — the workstation in German, the central service
    with the rule's reason (a finish is kept all the same, flagged for review)."""
    elsewhere = elsewhere and action not in ON_CURRENT_TICKET  # only the ticket's own desk has that key
    sides = table_sides
    desk = sides.add_desk()
    ticket_desk = None if state is TicketState.WAITING else OTHER_DESK if elsewhere else desk
    ticket_id, case_id = sides.place(state, ticket_desk, called_count)
    before = sides.local_ticket(ticket_id)
    expected = expected_after(before, action, desk)
    is_current = state in CURRENT and ticket_desk == desk
    outbox_before = sides.outbox_size()

    if isinstance(expected, TicketState):
        act_locally(sides.counter(desk), action, ticket_id, is_current)
        [answer] = sides.push_new()
        assert (answer.status, answer.flagged) == ("applied", False), answer.reason
        assert same_on_both_sides(sides, ticket_id)[0] is expected
        return

    with pytest.raises(CommandRefused) as refused:
        act_locally(sides.counter(desk), action, ticket_id, is_current)
    message = refused.value.user_message
    assert before.number in message or message in NOTHING_CURRENT, message
    assert sides.outbox_size() == outbox_before  # a refused command leaves no operation
    answer = sides.push_diverged(*diverged_operation(sides, action, ticket_id, desk, case_id))
    if action is TicketAction.FINISH:
        assert (answer.status, answer.flagged) == ("applied", True)
        assert answer.reason is not None
        assert f"ticket was {state}" in answer.reason
    else:
        assert (answer.status, answer.reason) == ("rejected", str(expected))
        assert same_on_both_sides(sides, ticket_id)[0] is state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), length=st.integers(1, 10))
def test_a_visit_the_workstation_records_is_one_the_central_service_applies(
    walk_sides: Sides, data: st.DataObject, length: int
) -> None:
    """Random visits by two desks: each key is taken or refused as the rule says, and pushing the
    whole outbox afterwards applies every operation, leaving the same tickets on both sides."""
    sides = walk_sides
    here, there = sides.add_desk(), sides.add_desk()
    ticket_id = sides.counter(here).issue_walk_in([PA]).ticket_id
    taken = 0
    for _step in range(length):
        before = sides.local_ticket(ticket_id)
        # Mostly a key the table offers now (so visits get far), sometimes any key at all.
        offered = sorted(allowed_actions(TicketState(before.state))) or list(TicketAction)
        action = data.draw(st.sampled_from(offered) | st.sampled_from(list(TicketAction)), label="action")
        by_other_desk = data.draw(st.booleans(), label="by the other desk")
        desk = there if by_other_desk else here
        if action in ON_CURRENT_TICKET and before.desk_id is not None:
            desk = before.desk_id  # only the desk that has the ticket offers these keys
        expected = expected_after(before, action, desk)
        is_current = before.state in CURRENT and before.desk_id == desk
        if isinstance(expected, TicketState):
            act_locally(sides.counter(desk), action, ticket_id, is_current)
            taken += 1
            assert sides.local_ticket(ticket_id).state is expected
        else:
            with pytest.raises(CommandRefused):
                act_locally(sides.counter(desk), action, ticket_id, is_current)
            assert sides.local_ticket(ticket_id).state == before.state

    answers = sides.push_new()
    assert len(answers) == 1 + taken  # the issue, then one operation per action taken
    assert [(a.status, a.flagged) for a in answers] == [("applied", False)] * len(answers), [
        a.reason for a in answers
    ]
    same_on_both_sides(sides, ticket_id)
    with sides.local.session() as session:
        successors = session.scalars(
            select(models.Ticket.id).where(models.Ticket.transferred_from_id == ticket_id)
        ).all()
    for successor in successors:
        assert same_on_both_sides(sides, successor)[0] is INITIAL_STATE


@pytest.mark.parametrize("action", sorted(ON_CURRENT_TICKET), ids=str)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=st.sampled_from(TicketState), called_count=st.integers(0, MAX_CALLS + 1))
def test_a_dialog_can_check_the_rule_before_it_asks(
    table_sides: Sides, action: TicketAction, state: TicketState, called_count: int
) -> None:
    """`commands.precheck` refuses with the very words the command would, and changes nothing."""
    sides = table_sides
    desk = sides.add_desk()
    ticket_id, _case_id = sides.place(state, None if state is TicketState.WAITING else desk, called_count)
    ctx = DeskContext(WORKSTATION, OFFICE, desk, CLERK)
    outbox_before = sides.outbox_size()
    with sides.local.session() as session:
        try:
            commands.precheck(session, ctx, action)
            prechecked = None
        except CommandRefused as refusal:
            prechecked = refusal.user_message
    assert (sides.local_ticket(ticket_id).state, sides.outbox_size()) == (state, outbox_before)
    try:
        act_locally(sides.counter(desk), action, ticket_id, is_current=True)
        acted = None
    except CommandRefused as refusal:
        acted = refusal.user_message
    assert prechecked == acted
    if acted is None:
        sides.push_new()  # keep the central side in step for the next examples
