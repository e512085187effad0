"""The figures of DESIGN §7: a day built by hand with its figures worked out by hand, and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.clock import OFFICE_ZONE
from sync.statistics import (
    DayFigures,
    DeskPresence,
    Event,
    EventKind,
    GroupFigures,
    Tally,
    day_figures,
    fold_events,
)
from tests.sync.statistics_days import DAY, GeneratedDay, days

if TYPE_CHECKING:
    import random

E = EventKind


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=OFFICE_ZONE)


def call(ticket: str, when: datetime, desk: str) -> Event:
    return Event(E.CALL, ticket, when, desk_id=desk, clerk_id="c" + desk[1:])


def serve(ticket: str, when: datetime, desk: str, kind: EventKind = E.SERVE) -> Event:
    return Event(kind, ticket, when, desk_id=desk, clerk_id="c" + desk[1:])


HAND_BUILT_DAY = [
    # W1: walk-in, waits 10 min, walks 1 min, served 9 min, parked 10 min, served 5 more.
    Event(E.ISSUE, "W1", at(8, 0), service_ids=("s1",)),
    call("W1", at(8, 10), "d1"),
    serve("W1", at(8, 11), "d1"),
    Event(E.PARK, "W1", at(8, 20)),
    serve("W1", at(8, 30), "d1", E.RESUME),
    Event(E.FINISH, "W1", at(8, 35)),
    # W2: walk-in, waits 25 min (over the target), recalled, served 7 min, transferred to s2 as W2b.
    Event(E.ISSUE, "W2", at(8, 5), service_ids=("s1",)),
    call("W2", at(8, 30), "d2"),
    call("W2", at(8, 32), "d2"),
    serve("W2", at(8, 33), "d2"),
    Event(E.TRANSFER, "W2", at(8, 40), service_ids=("s2",), new_ticket_id="W2b"),
    call("W2b", at(8, 50), "d1"),
    serve("W2b", at(8, 51), "d1"),
    Event(E.FINISH, "W2b", at(9, 1)),
    # A1: appointment 09:00, checked in 08:50, called 09:03 (punctual), served 10 min.
    Event(E.ISSUE, "A1", at(8, 50), service_ids=("s2",), slot=at(9, 0)),
    call("A1", at(9, 3), "d2"),
    serve("A1", at(9, 4), "d2"),
    Event(E.FINISH, "A1", at(9, 14)),
    # A2: appointment 09:00, checked in 09:00, called 09:10 (late), twice more, no-show.
    Event(E.ISSUE, "A2", at(9, 0), service_ids=("s1",), slot=at(9, 0)),
    call("A2", at(9, 10), "d2"),
    call("A2", at(9, 12), "d2"),
    call("A2", at(9, 13), "d2"),
    Event(E.NO_SHOW, "A2", at(9, 14)),
    # W3: walk-in, still waiting.
    Event(E.ISSUE, "W3", at(9, 20), service_ids=("s1",)),
]


def test_a_hand_built_day_has_the_figures_worked_out_by_hand() -> None:
    figures = day_figures(fold_events(HAND_BUILT_DAY), DAY, target_minutes=15)
    total = figures.total
    assert (total.tickets, total.visits, total.called, total.served, total.no_shows) == (6, 5, 5, 3, 1)
    # waiting per visit called: W1 10, W2 25, A1 13, A2 10 min; W2b keeps W2's arrival, not counted again
    assert total.waiting == Tally(4, (10 + 25 + 13 + 10) * 60, 25 * 60)
    assert total.waiting.mean == 14.5 * 60
    assert total.within_target == 3
    assert total.service_level == 0.75
    assert total.no_show_rate == 1 / 5
    assert (total.appointments_called, total.punctual, total.punctuality) == (2, 1, 0.5)
    assert total.walk == Tally(4, 4 * 60, 60)  # W1, W2 (after the recall), W2b, A1
    # W1 9+5 min (not the 10 min parked), W2 7 min before the transfer, W2b 10, A1 10
    assert total.service == Tally(4, (14 + 7 + 10 + 10) * 60, 14 * 60)

    assert figures.booked.waiting == Tally(2, (13 + 10) * 60, 13 * 60)
    assert figures.walk_in.waiting == Tally(2, (10 + 25) * 60, 25 * 60)
    assert (figures.booked.tickets, figures.walk_in.tickets) == (2, 4)

    assert list(figures.hours) == [8, 9]
    assert (figures.hours[8].tickets, figures.hours[9].tickets) == (4, 2)  # W2b arrived at 08:05 as W2
    assert figures.hours[9].no_shows == 1

    assert figures.services["s1"].waiting == Tally(3, (10 + 25 + 10) * 60, 25 * 60)
    assert figures.services["s2"].service == Tally(2, 20 * 60, 10 * 60)
    assert figures.services["s2"].visits == 1  # A1; W2b is W2's visit, counted under s1

    d1, d2 = figures.desks["d1"], figures.desks["d2"]
    assert d1.service == Tally(2, (14 + 10) * 60, 14 * 60)
    assert (d1.idle_seconds, d2.idle_seconds) == (None, None)  # no login recorded: no idle time
    assert figures.clerks["c2"] == d2


HAND_BUILT_LOGINS = [
    DeskPresence("d1", "c1", at(8, 0), at(9, 30)),
    DeskPresence("d2", "c2", at(8, 25), at(8, 45)),
    DeskPresence("d2", "c2", at(8, 50), at(9, 20)),
    DeskPresence("d3", "c3", at(0, 30) - timedelta(hours=2), at(0, 30)),  # from 22:30 the evening before
    DeskPresence("d3", "c3", at(10, 0), at(22, 0)),  # still logged in at 10:45 (expires 22:00)
]


def test_idle_time_per_desk_comes_from_the_recorded_logins() -> None:
    figures = day_figures(
        fold_events(HAND_BUILT_DAY), DAY, target_minutes=15, presence=HAND_BUILT_LOGINS, now=at(10, 45)
    )
    d1, d2, d3 = (figures.desks[d] for d in ("d1", "d2", "d3"))
    # d1 logged in 08:00–09:30 = 90 min; busy 2 min walking (W1, W2b) + 24 min serving (W1 14, W2b 10)
    assert d1.logged_in_seconds == 90 * 60
    assert d1.idle_seconds == (90 - 2 - 24) * 60
    # d2 logged in 08:25–08:45 and 08:50–09:20 = 50 min; busy 2 min walking + 17 serving (W2 7, A1 10)
    assert d2.idle_seconds == (50 - 2 - 17) * 60
    # d3 served no one: 00:00–00:30 (the evening's login, cut at midnight) and 10:00–10:45 (now)
    assert (d3.tickets, d3.idle_seconds) == (0, (30 + 45) * 60)
    assert figures.total.logged_in_seconds is None  # a desk's figure, not the day's
    assert figures.clerks["c2"] == replace(d2, logged_in_seconds=None)


def test_a_past_day_counts_an_open_login_until_its_expiry_within_the_day() -> None:
    late = [DeskPresence("d1", "c1", at(20, 0), at(20, 0) + timedelta(hours=12))]
    figures = day_figures([], DAY, presence=late)
    assert figures.desks["d1"].idle_seconds == 4 * 3600  # 20:00 to midnight


def test_a_day_without_tickets_has_no_data() -> None:
    figures = day_figures([], DAY)
    assert not figures.has_data
    assert figures.total.service_level is None
    assert figures.total.waiting.mean is None


def test_tickets_of_other_days_are_left_out() -> None:
    yesterday = [Event(E.ISSUE, "Y", at(9, 0) - timedelta(days=1), service_ids=("s1",))]
    assert not day_figures(fold_events(yesterday), DAY).has_data


def _sum(groups: list[GroupFigures]) -> GroupFigures:
    total = GroupFigures()
    for group in groups:
        total += group
    return total


@settings(max_examples=150, deadline=None)
@given(days())
def test_the_hours_sum_to_the_day(day: GeneratedDay) -> None:
    figures = day_figures(fold_events(day.events), DAY)
    assert _sum(list(figures.hours.values())) == figures.total
    assert figures.booked + figures.walk_in == figures.total


@settings(max_examples=150, deadline=None)
@given(days())
def test_parks_never_count_as_service_time(day: GeneratedDay) -> None:
    figures = day_figures(fold_events(day.events), DAY)
    assert figures.total.service.total == day.served_seconds


@settings(max_examples=150, deadline=None)
@given(days())
def test_a_transfer_counts_once_per_service_and_the_visit_once(day: GeneratedDay) -> None:
    figures = day_figures(fold_events(day.events), DAY)
    assert {s: g.tickets for s, g in figures.services.items()} == day.tickets_per_service
    assert figures.total.visits == day.visits
    assert figures.total.tickets == day.visits + day.transfers
    assert figures.total.waiting.count <= figures.total.visits


@settings(max_examples=150, deadline=None)
@given(days(), st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_the_order_events_arrived_in(day: GeneratedDay, rng: random.Random) -> None:
    shuffled = list(day.events)
    rng.shuffle(shuffled)
    expected: DayFigures = day_figures(fold_events(day.events), DAY)
    assert day_figures(fold_events(shuffled), DAY) == expected


@settings(max_examples=100, deadline=None)
@given(days())
def test_rates_are_shares(day: GeneratedDay) -> None:
    total = day_figures(fold_events(day.events), DAY).total
    for rate in (total.no_show_rate, total.service_level, total.punctuality):
        assert rate is None or 0.0 <= rate <= 1.0
    figures = day_figures(fold_events(day.events), DAY, presence=day.presence)
    for desk in figures.desks.values():
        assert desk.idle_seconds is None or 0 <= desk.idle_seconds <= (desk.logged_in_seconds or 0)


@settings(max_examples=150, deadline=None)
@given(days(), st.randoms(use_true_random=False))
def test_logins_count_whatever_order_they_come_in_and_never_beyond_the_day(
    day: GeneratedDay, rng: random.Random
) -> None:
    shuffled = list(day.presence)
    rng.shuffle(shuffled)
    figures = day_figures(fold_events(day.events), DAY, presence=day.presence)
    assert day_figures(fold_events(day.events), DAY, presence=shuffled) == figures
    for desk in figures.desks.values():
        assert desk.logged_in_seconds is None or 0 < desk.logged_in_seconds <= 24 * 3600
    assert _sum(list(figures.hours.values())) == figures.total  # logins change no hour and no total


@pytest.mark.parametrize(("target", "within"), [(14, 0), (15, 1), (16, 1)])
def test_the_service_level_uses_the_office_target(target: int, within: int) -> None:
    events = [Event(E.ISSUE, "T", at(10, 0), service_ids=("s1",)), call("T", at(10, 15), "d1")]
    figures = day_figures(fold_events(events), DAY, target_minutes=target)
    assert figures.total.within_target == within
