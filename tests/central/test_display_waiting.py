"""Properties of the one wait rule (`sync.waiting`): the estimate and the count of people ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sync.ordering import OrderingRules, QueueEntry, order_key
from sync.waiting import ROUNDING_MINUTES, WaitEstimate, estimate_wait, people_ahead, people_ahead_all


def bounds(estimate: WaitEstimate) -> tuple[int, int]:
    assert estimate.low is not None
    assert estimate.high is not None
    return estimate.low, estimate.high


ahead_counts = st.integers(min_value=0, max_value=500)
desk_counts = st.integers(min_value=1, max_value=30)
durations = st.floats(min_value=0.5, max_value=120, allow_nan=False)


@given(ahead_counts, desk_counts, durations)
def test_the_range_is_ordered_rounded_and_at_least_one_step_wide(
    ahead: int, desks: int, minutes: float
) -> None:
    estimate = estimate_wait(ahead, desks, minutes)
    assert estimate.low is not None
    assert estimate.high is not None
    assert 0 <= estimate.low < estimate.high
    assert estimate.low % ROUNDING_MINUTES == 0
    assert estimate.high % ROUNDING_MINUTES == 0
    expected = ahead * minutes / desks
    assert estimate.low <= expected <= estimate.high  # the honest middle lies inside the range


@given(ahead_counts, ahead_counts, desk_counts, durations)
def test_more_people_ahead_never_shortens_the_wait(a: int, b: int, desks: int, minutes: float) -> None:
    fewer, more = estimate_wait(min(a, b), desks, minutes), estimate_wait(max(a, b), desks, minutes)
    assert bounds(fewer)[0] <= bounds(more)[0]
    assert bounds(fewer)[1] <= bounds(more)[1]


@given(ahead_counts, desk_counts, desk_counts, durations)
def test_more_desks_never_lengthen_the_wait(ahead: int, a: int, b: int, minutes: float) -> None:
    slow, fast = estimate_wait(ahead, min(a, b), minutes), estimate_wait(ahead, max(a, b), minutes)
    assert bounds(fast)[0] <= bounds(slow)[0]
    assert bounds(fast)[1] <= bounds(slow)[1]


@given(
    ahead_counts,
    st.integers(max_value=0),
    st.one_of(st.none(), st.floats(max_value=0), st.just(float("nan"))),
)
def test_without_desks_or_duration_the_wait_is_unknown(
    ahead: int, no_desks: int, no_minutes: float | None
) -> None:
    assert not estimate_wait(ahead, no_desks, 10.0).known
    assert not estimate_wait(ahead, 3, no_minutes).known
    assert not estimate_wait(ahead, 3, float("inf")).known


START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
services = st.frozensets(st.sampled_from(["an", "pa", "ab", "zu"]), min_size=1, max_size=2)


@st.composite
def queues(draw: st.DrawFn) -> list[QueueEntry]:
    size = draw(st.integers(min_value=1, max_value=25))
    return [
        QueueEntry(
            ticket_id=f"t{i}",
            number=f"A{101 + i}",
            issued_at=START + timedelta(minutes=draw(st.integers(0, 120))),
            service_ids=draw(services),
            priority=draw(st.sampled_from([0, 0, 0, 1])),
            slot_start=draw(
                st.one_of(st.none(), st.just(START + timedelta(minutes=draw(st.integers(0, 180)))))
            ),
        )
        for i in range(size)
    ]


@given(queues(), st.integers(0, 240))
def test_all_at_once_agrees_with_one_by_one(queue: list[QueueEntry], minutes: int) -> None:
    now, rules = START + timedelta(minutes=minutes), OrderingRules()
    at_once = people_ahead_all(queue, now, rules)
    assert at_once == {entry.ticket_id: people_ahead(entry, queue, now, rules) for entry in queue}


@given(queues(), st.integers(0, 240))
def test_the_first_in_the_call_order_has_nobody_ahead(queue: list[QueueEntry], minutes: int) -> None:
    now, rules = START + timedelta(minutes=minutes), OrderingRules()
    first = min(queue, key=lambda entry: order_key(entry, now, rules))
    assert people_ahead(first, queue, now, rules) == 0
    ahead = people_ahead_all(queue, now, rules)
    assert all(0 <= count < len(queue) for count in ahead.values())
    # nobody is ahead of themselves, and a ticket's count only counts tickets that share a service
    for entry in queue:
        sharing = sum(1 for other in queue if other is not entry and other.service_ids & entry.service_ids)
        assert ahead[entry.ticket_id] <= sharing
