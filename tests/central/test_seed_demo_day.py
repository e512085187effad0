"""The demo's day around the current time (`generate_day_around`), and the demo clock (`--at`).

The layout is checked as a property over the time of day (also at 06:00 and 22:00, and on the days
the clocks change); the booked-citizen flow runs end to end against the real central service, the
kiosk and a real workstation store, all on one demo clock."""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sync.central.demo_clock import Clock, demo_clock, parse_wall_time
from sync.central.embedded import EmbeddedCentral, start_demo_central
from sync.central.kiosk import kiosk_for
from sync.central.seed import BUERGERAMT_ID, ZULASSUNG_ID, SeedDay, day_window, generate_day_around
from sync.client import CentralClient
from sync.clock import OFFICE_ZONE
from tests.credentials import workstation_auth
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import Appointment, AppointmentStatus, Ticket, TicketState
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DAY = date(2026, 3, 2)
DST_START = date(2026, 3, 29)  # 02:00 → 03:00: a 23-hour day
DST_END = date(2026, 10, 25)  # 03:00 → 02:00: a 25-hour day
FIRST_MINUTE, LAST_MINUTE = 15, 23 * 60 + 45  # the promised range: 00:15 … 23:45


def _local(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), OFFICE_ZONE).astimezone(UTC)


def _check_day_around(day: SeedDay, now: datetime) -> None:
    """Everything the booked-citizen flow needs at `now`."""
    local_day = now.astimezone(OFFICE_ZONE).date()
    tickets = {t.appointment_id: t for t in day.tickets if t.appointment_id}
    assert day.day == local_day
    for office in (BUERGERAMT_ID, ZULASSUNG_ID):
        appointments = [a for a in day.appointments if a.office_id == office]
        assert all(a.slot_start.astimezone(OFFICE_ZONE).date() == local_day for a in appointments)
        assert any(a.slot_start < now for a in appointments)
        assert any(a.slot_start > now for a in appointments)
        finished = [a for a in appointments if a.status == "finished"]
        checked_in = [a for a in appointments if a.status == "checked_in"]
        booked = [a for a in appointments if a.status == "booked" and a.slot_start > now]
        assert finished, office
        assert checked_in, office
        assert booked, office
        assert all(tickets[a.id].state == "finished" and a.slot_start < now for a in finished)
        assert all(tickets[a.id].state == "waiting" for a in checked_in)
        assert any(
            t.office_id == office and t.state == "waiting" for t in day.tickets if not t.appointment_id
        )
    # At the Bürgeramt every slot is booked: someone checked in is due now (F2 calls an appointment
    # at once), and someone booked is due within the kiosk's 20 minutes.
    appointments = [a for a in day.appointments if a.office_id == BUERGERAMT_ID]
    due = timedelta(minutes=5)  # the early window
    assert any(a.status == "checked_in" and a.slot_start <= now + due for a in appointments)
    assert any(
        a.status == "booked" and now < a.slot_start <= now + timedelta(minutes=20) for a in appointments
    )
    walk_ins = [t for t in day.tickets if t.appointment_id is None]
    waiting = [t for t in walk_ins if t.state == "waiting"]
    assert len(waiting) == 8
    assert any(t.office_id == BUERGERAMT_ID for t in waiting)
    assert any(t.state == "finished" for t in walk_ins)
    assert all(now - timedelta(minutes=30) <= t.issued_at <= now for t in waiting)
    for ticket in day.tickets:
        assert ticket.issued_at <= now
        assert ticket.issued_at.astimezone(OFFICE_ZONE).date() == local_day
        if ticket.state == "finished":
            assert ticket.first_called_at is not None
            assert ticket.desk_id
            assert ticket.clerk_id
            assert ticket.issued_at <= ticket.first_called_at <= now
            desk = next(d for d in day.desks if d.id == ticket.desk_id)
            assert set(ticket.service_ids) <= set(desk.service_ids)
        else:
            assert ticket.first_called_at is None
            assert ticket.called_count == 0
    # Numbers in the order of issue, per office and prefix, never twice.
    by_prefix: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    for ticket in day.tickets:
        prefix = ticket.number.rstrip("0123456789")
        by_prefix[(ticket.office_id, prefix)].append((ticket.issued_at, int(ticket.number[len(prefix) :])))
    for issued in by_prefix.values():
        numbers = [number for _, number in sorted(issued)]
        assert numbers == list(range(101, 101 + len(numbers)))
    assert len({t.id for t in day.tickets}) == len(day.tickets)


@settings(max_examples=60, deadline=None)
@given(
    day=st.sampled_from([DAY, DST_START, DST_END, date(2026, 12, 31)]),
    minute=st.integers(FIRST_MINUTE, LAST_MINUTE),
    seed=st.integers(0, 1000),
)
@example(day=DAY, minute=6 * 60, seed=0)
@example(day=DAY, minute=22 * 60, seed=0)
@example(day=DAY, minute=FIRST_MINUTE, seed=0)
@example(day=DAY, minute=LAST_MINUTE, seed=0)
@example(day=DAY, minute=8 * 60 + 29, seed=0)
@example(day=DST_START, minute=2 * 60 + 30, seed=0)  # a wall time that does not exist that night
def test_at_any_time_of_day_the_day_lies_around_now(day: date, minute: int, seed: int) -> None:
    now = _local(day, minute) + timedelta(seconds=minute % 37)
    _check_day_around(generate_day_around(now, seed=seed), now)


@given(minute=st.integers(0, 24 * 60 - 1))
def test_even_next_to_midnight_the_day_stays_on_its_date(minute: int) -> None:
    now = _local(DAY, minute)
    day = generate_day_around(now)
    assert day.day == DAY
    assert len(day.appointments) == 150
    assert all(a.slot_start.astimezone(OFFICE_ZONE).date() == DAY for a in day.appointments)
    assert all(t.issued_at <= now for t in day.tickets)


def test_in_opening_hours_the_office_keeps_its_real_day_and_outside_it_is_shifted() -> None:
    real = day_window(_local(DAY, 10 * 60 + 30))
    assert not real.shifted
    assert (real.start, real.end) == (_local(DAY, 8 * 60), _local(DAY, 16 * 60))
    day = generate_day_around(_local(DAY, 10 * 60 + 30))
    slots = sorted({a.slot_start for a in day.appointments})
    assert slots[0] == _local(DAY, 8 * 60)
    assert slots[-1] == _local(DAY, 15 * 60 + 50)
    assert all((b - a) % timedelta(minutes=10) == timedelta(0) for a, b in itertools.pairwise(slots))
    early = day_window(_local(DAY, 6 * 60))
    assert early.shifted
    assert (early.start, early.end) == (_local(DAY, 4 * 60), _local(DAY, 12 * 60))
    late = day_window(_local(DAY, 22 * 60))  # compressed: the date ends first
    assert (late.start, late.end) == (_local(DAY, 20 * 60), _local(DAY, 23 * 60 + 59))


def test_the_demo_day_is_deterministic() -> None:
    now = _local(DAY, 14 * 60 + 5)
    assert generate_day_around(now, seed=2) == generate_day_around(now, seed=2)
    assert generate_day_around(now, seed=2) != generate_day_around(now, seed=3)


# --- the demo clock -------------------------------------------------------------------------------


class ManualClock:
    """The "real" clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_demo_clock_starts_at_the_wall_time_and_runs_with_real_time() -> None:
    real = ManualClock(datetime(2026, 3, 2, 20, 47, 13, tzinfo=UTC))  # 21:47 in Berlin
    clock = demo_clock(time(10, 30), real=real)
    assert clock() == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 10:30 in Berlin, winter time
    real.now += timedelta(minutes=7, seconds=5)
    assert clock() == datetime(2026, 3, 2, 9, 37, 5, tzinfo=UTC)
    assert clock().tzinfo == UTC
    assert demo_clock(None, real=real) is real


def test_the_demo_clock_uses_the_office_date_and_summer_time() -> None:
    real = ManualClock(datetime(2026, 7, 1, 22, 30, tzinfo=UTC))  # already 2 July in Berlin
    assert demo_clock(time(6, 0), real=real)() == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)


def test_wall_times_for_at() -> None:
    assert parse_wall_time("10:30") == time(10, 30)
    assert parse_wall_time(" 6:05 ") == time(6, 5)
    for wrong in ("24:00", "10:60", "1030", "10:3", "heute"):
        with pytest.raises(argparse.ArgumentTypeError, match="keine gültige Uhrzeit"):
            parse_wall_time(wrong)
    with pytest.raises(ValueError, match="wall time"):
        demo_clock(time(10, 30, tzinfo=UTC), real=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))


# --- end to end: central service, kiosk and workstation on one demo clock -------------------------


DemoOffice = tuple[EmbeddedCentral, Clock, SeedDay]


@pytest.fixture
def demo_office(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DemoOffice]:
    """`tresen demo --at HH:MM` in small: the day laid around the demo time, the central service on
    the demo clock (the "real" clock stands still, so the test knows every answer's time)."""
    real = ManualClock(datetime(2026, 3, 2, 5, 17, 42, tzinfo=UTC))
    clock = demo_clock(request.param, real=real)
    central, day = start_demo_central(f"sqlite:///{tmp_path / 'central.sqlite3'}", clock=clock, seed=4)
    assert day == generate_day_around(clock(), seed=4)
    yield central, clock, day
    central.stop()


@pytest.mark.parametrize("demo_office", [time(6, 0), time(10, 30), time(22, 0)], indirect=True)
def test_the_booked_citizen_flow_works_at_the_demo_time(demo_office: DemoOffice, tmp_path: Path) -> None:
    central, clock, day = demo_office
    now = clock()
    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
    clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
    ctx = DeskContext("ws-demo", BUERGERAMT_ID, desk.id, clerk.id)
    client = CentralClient(
        central.url, timeout=15.0, auth=workstation_auth(central.store, "ws-demo", BUERGERAMT_ID)
    )
    try:
        engine = SyncEngine(store, client, ctx, clock=clock)
        assert engine.sync_once().online
        counter = Counter(store, ctx, remote=engine, clock=clock)
        view = counter.view()
        shown = {row.status for row in view.appointments}
        assert {"finished", "checked_in", "booked"} <= shown
        # F2: the central service arbitrates on the same clock and calls a due ticket.
        called = counter.call_next()
        assert called is not None
        assert called.explanation
        with store.session() as session:
            ticket = session.get_one(Ticket, called.ticket_id)
            assert ticket.state == TicketState.CALLED
            assert ticket.issued_at <= now
        # A booked citizen standing at the desk is checked in there.
        booked = next(
            a
            for a in day.appointments
            if a.office_id == BUERGERAMT_ID and a.status == "booked" and a.slot_start > now
        )
        issued = counter.issue_walk_in([], appointment_id=booked.id)
        with store.session() as session:
            assert session.get_one(Appointment, booked.id).status == AppointmentStatus.CHECKED_IN
        assert engine.sync_once().pushed >= 1
        # The kiosk, on the same clock, finds citizens due for check-in around the demo time.
        kiosk = kiosk_for(central.store, central.url, BUERGERAMT_ID, seed=3, clock=clock)
        try:
            tickets = [kiosk.issue_once() for _ in range(12)]
        finally:
            kiosk.stop()
        assert any(t.origin == "appointment" for t in tickets)
        assert all(t.issued_at == now for t in tickets)  # the central service's clock is the demo's
        assert issued.number
    finally:
        client.close()
        store.dispose()
