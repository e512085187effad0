"""The call-next ordering rule (DESIGN §7): examples from the design and Hypothesis properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.ordering import (
    OrderingRules,
    QueueEntry,
    Reason,
    choose_next,
    due_at,
    is_eligible,
    number_key,
    order_key,
)

NOW = datetime(2026, 3, 2, 9, 23, tzinfo=UTC)  # 10:23 in Berlin
RULES = OrderingRules()
DESK_SERVICES = frozenset({"pa", "rp"})


def entry(ticket_id: str, number: str, waited: float, **fields: Any) -> QueueEntry:
    values: dict[str, Any] = {"service_ids": frozenset({"pa"})} | fields
    return QueueEntry(ticket_id, number, NOW - timedelta(minutes=waited), **values)


def test_a_due_appointment_comes_before_walk_ins_and_is_explained() -> None:
    walk_in = entry("w", "A101", 40)
    appointment = entry("t", "T201", 10, slot_start=datetime(2026, 3, 2, 9, 20, tzinfo=UTC))
    choice = choose_next([walk_in, appointment], DESK_SERVICES, NOW, RULES)
    assert choice is not None
    assert choice.ticket_id == "t"
    assert choice.reason == Reason.APPOINTMENT_DUE
    # Slot 10:20 Berlin, due from 10:15 (early window): eight minutes at 10:23.
    assert choice.explanation == "Termin 10:20, fällig seit 8 min"


def test_urgent_first_then_appointments_then_walk_ins_then_early_appointments() -> None:
    entries = [
        entry("early", "T300", 2, slot_start=NOW + timedelta(minutes=30)),
        entry("walk", "A101", 30),
        entry("due", "T200", 5, slot_start=NOW - timedelta(minutes=1)),
        entry("urgent", "A150", 1, priority=1),
    ]
    order = []
    remaining = list(entries)
    while (choice := choose_next(remaining, DESK_SERVICES, NOW, RULES)) is not None:
        order.append(choice.ticket_id)
        remaining = [e for e in remaining if e.ticket_id != choice.ticket_id]
    assert order == ["urgent", "due", "walk", "early"]


def test_an_idle_desk_may_take_an_appointment_early_and_says_so() -> None:
    choice = choose_next(
        [entry("e", "T1", 3, slot_start=NOW + timedelta(minutes=12))], DESK_SERVICES, NOW, RULES
    )
    assert choice is not None
    assert choice.reason == Reason.APPOINTMENT_EARLY
    assert choice.explanation == "Termin 10:35, fällig in 7 min"


def test_walk_ins_by_arrival_and_ties_by_natural_number() -> None:
    same_time = NOW - timedelta(minutes=10)
    entries = [
        QueueEntry("b", "A100", same_time, frozenset({"pa"})),
        QueueEntry("a", "A99", same_time, frozenset({"pa"})),
        QueueEntry("c", "A98", same_time + timedelta(seconds=1), frozenset({"pa"})),
    ]
    choice = choose_next(entries, DESK_SERVICES, NOW, RULES)
    assert choice is not None
    assert choice.number == "A99"
    assert number_key("S3-07") < number_key("S3-10") < number_key("S10-01")


def test_recently_called_foreign_and_transferred_tickets_are_skipped() -> None:
    recalled = entry("r", "A1", 50, last_called_at=NOW - timedelta(minutes=4, seconds=59))
    foreign = entry("f", "K1", 50, service_ids=frozenset({"kfz"}))
    mixed = entry("m", "A2", 50, service_ids=frozenset({"pa", "kfz"}))
    for_other_desk = entry("o", "A3", 50, target_desk_id="desk-9")
    assert choose_next([recalled, foreign, mixed, for_other_desk], DESK_SERVICES, NOW, RULES) is None
    choice = choose_next([for_other_desk], DESK_SERVICES, NOW, RULES, desk_id="desk-9")
    assert choice is not None
    assert choice.ticket_id == "o"
    unblocked = choose_next([recalled], DESK_SERVICES, NOW + timedelta(seconds=1), RULES)
    assert unblocked is not None
    assert unblocked.ticket_id == "r"


# --- properties ----------------------------------------------------------------------------------

SERVICES = ("pa", "rp", "kfz")


@st.composite
def queue_entries(draw: st.DrawFn) -> list[QueueEntry]:
    count = draw(st.integers(0, 12))
    entries = []
    for index in range(count):
        issued = NOW - timedelta(seconds=draw(st.integers(0, 3 * 3600)))
        slot = None
        if draw(st.booleans()):
            slot = NOW + timedelta(minutes=draw(st.integers(-90, 60)))
        last_called = None
        if draw(st.integers(0, 3)) == 0:
            last_called = NOW - timedelta(seconds=draw(st.integers(0, 900)))
        entries.append(
            QueueEntry(
                ticket_id=f"t{index:02d}",
                number=f"{draw(st.sampled_from('AKT'))}{draw(st.integers(1, 30))}",
                issued_at=issued,
                service_ids=frozenset(draw(st.sets(st.sampled_from(SERVICES), min_size=1, max_size=2))),
                priority=1 if draw(st.integers(0, 5)) == 0 else 0,
                last_called_at=last_called,
                slot_start=slot,
                target_desk_id=draw(st.sampled_from([None, None, None, "desk-1", "desk-2"])),
            )
        )
    return entries


desk_services = st.sets(st.sampled_from(SERVICES), min_size=1).map(frozenset)


@settings(max_examples=200, deadline=None)
@given(entries=queue_entries(), served=desk_services)
def test_the_choice_is_eligible_and_none_only_when_nobody_is(
    entries: list[QueueEntry], served: frozenset[str]
) -> None:
    choice = choose_next(entries, served, NOW, RULES, desk_id="desk-1")
    eligible = [e for e in entries if is_eligible(e, served, NOW, RULES, "desk-1")]
    assert (choice is None) == (not eligible)
    if choice is None:
        return
    chosen = next(e for e in entries if e.ticket_id == choice.ticket_id)
    assert chosen.service_ids <= served  # never a ticket whose services the desk doesn't serve
    assert chosen.last_called_at is None or NOW - chosen.last_called_at >= timedelta(minutes=5)
    assert chosen.target_desk_id in (None, "desk-1")


@settings(max_examples=200, deadline=None)
@given(entries=queue_entries(), served=desk_services)
def test_nobody_eligible_ranks_before_the_choice(entries: list[QueueEntry], served: frozenset[str]) -> None:
    choice = choose_next(entries, served, NOW, RULES, desk_id="desk-1")
    if choice is None:
        return
    eligible = [e for e in entries if is_eligible(e, served, NOW, RULES, "desk-1")]
    chosen = next(e for e in entries if e.ticket_id == choice.ticket_id)
    for other in eligible:
        if other is chosen:
            continue
        if other.priority > 0:  # urgent first
            assert chosen.priority > 0
            assert chosen.issued_at <= other.issued_at
        elif chosen.priority == 0 and other.slot_start is not None and due_at(other, RULES) <= NOW:
            # a due appointment is only passed over by an earlier slot
            assert chosen.slot_start is not None
            assert due_at(chosen, RULES) <= NOW
            assert chosen.slot_start <= other.slot_start
        elif chosen.priority == 0 and other.slot_start is None and chosen.slot_start is None:
            # walk-ins by arrival, ties by number
            assert (chosen.issued_at, number_key(chosen.number)) <= (
                other.issued_at,
                number_key(other.number),
            )
        assert order_key(chosen, NOW, RULES) < order_key(other, NOW, RULES)


@settings(max_examples=200, deadline=None)
@given(entries=queue_entries(), served=desk_services, shuffle_seed=st.integers(0, 1000))
def test_the_choice_does_not_depend_on_the_input_order(
    entries: list[QueueEntry], served: frozenset[str], shuffle_seed: int
) -> None:
    shuffled = list(entries)
    random.Random(shuffle_seed).shuffle(shuffled)
    first = choose_next(entries, served, NOW, RULES, desk_id="desk-1")
    second = choose_next(shuffled, served, NOW, RULES, desk_id="desk-1")
    assert first == second


@settings(max_examples=200, deadline=None)
@given(entries=queue_entries(), served=desk_services)
def test_calling_repeatedly_serves_every_eligible_ticket_once(
    entries: list[QueueEntry], served: frozenset[str]
) -> None:
    remaining = list(entries)
    called: list[str] = []
    while (choice := choose_next(remaining, served, NOW, RULES, desk_id="desk-1")) is not None:
        called.append(choice.ticket_id)
        remaining = [e for e in remaining if e.ticket_id != choice.ticket_id]
    eligible = {e.ticket_id for e in entries if is_eligible(e, served, NOW, RULES, "desk-1")}
    assert len(called) == len(set(called))
    assert set(called) == eligible
    keys = [order_key(next(e for e in entries if e.ticket_id == t), NOW, RULES) for t in called]
    assert keys == sorted(keys)
