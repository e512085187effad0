"""Generated office days for the figures' tests: Hypothesis builds each ticket's path through the queue
(waiting, served with parks, no-show, transferred, served without a call) as events with whole-second
times, and records what the path means independently of `sync.statistics` (served seconds, which
tickets name which service) so the properties have something to compare with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from sync.clock import OFFICE_ZONE
from sync.statistics import DeskPresence, Event, EventKind

if TYPE_CHECKING:
    from collections.abc import Sequence

DAY = date(2026, 3, 2)
OPENING = datetime(2026, 3, 2, 8, 0, tzinfo=OFFICE_ZONE)
DESKS = ("d1", "d2", "d3")
SERVICES = ("s1", "s2", "s3")


def clerk_of(desk_id: str) -> str:
    return "c" + desk_id[1:]


@dataclass
class GeneratedDay:
    events: list[Event] = field(default_factory=list)
    served_seconds: float = 0.0  # the serving segments, summed without parks, of served tickets
    tickets_per_service: dict[str, int] = field(default_factory=dict)
    visits: int = 0
    transfers: int = 0
    booked_slots: dict[str, datetime] = field(default_factory=dict)
    # Logins per desk, one after the other; `logged_out` False: the session ran out (12 h).
    logins: list[Login] = field(default_factory=list)

    @property
    def presence(self) -> list[DeskPresence]:
        return [login.presence for login in self.logins]


SESSION_HOURS = 12


@dataclass(frozen=True)
class Login:
    desk_id: str
    started: datetime
    ended: datetime | None  # None: never logged out, the session expired

    @property
    def presence(self) -> DeskPresence:
        end = self.ended or self.started + timedelta(hours=SESSION_HOURS)
        return DeskPresence(self.desk_id, clerk_of(self.desk_id), self.started, end)


@st.composite
def _path(draw: st.DrawFn, index: int, day: GeneratedDay) -> None:
    ticket = f"t{index:03d}"
    arrival = OPENING + timedelta(seconds=draw(st.integers(0, 8 * 3600)))
    services = tuple(draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True)))
    booked = draw(st.booleans())
    slot = arrival + timedelta(seconds=draw(st.integers(-600, 1800))) if booked else None
    desk = draw(st.sampled_from(DESKS))
    kind = draw(st.sampled_from(["waiting", "served", "no_show", "transfer", "direct"]))
    day.visits += 1
    events = day.events
    events.append(Event(EventKind.ISSUE, ticket, arrival, service_ids=services, slot=slot))
    if slot is not None:
        day.booked_slots[ticket] = slot
    _count_services(day, services)
    if kind == "waiting":
        return
    now = arrival + timedelta(seconds=draw(st.integers(0, 3600)))
    if kind == "direct":  # served at the desk without a call
        _serve(draw, day, ticket, desk, now)
        return
    calls = 3 if kind == "no_show" else draw(st.integers(1, 3))
    for _ in range(calls):
        events.append(Event(EventKind.CALL, ticket, now, desk_id=desk, clerk_id=clerk_of(desk)))
        now += timedelta(seconds=draw(st.integers(30, 240)))
    if kind == "no_show":
        events.append(Event(EventKind.NO_SHOW, ticket, now))
        return
    if kind == "served":
        _serve(draw, day, ticket, desk, now)
        return
    # transfer: served for a while (or not at all), then a successor for other services
    if draw(st.booleans()):
        now = _serve(draw, day, ticket, desk, now, finish=False)
    successor = ticket + "x"
    new_services = (draw(st.sampled_from(SERVICES)),)
    events.append(Event(EventKind.TRANSFER, ticket, now, service_ids=new_services, new_ticket_id=successor))
    day.transfers += 1
    _count_services(day, new_services)
    now += timedelta(seconds=draw(st.integers(1, 1800)))  # after the transfer that creates it
    target = draw(st.sampled_from(DESKS))
    events.append(Event(EventKind.CALL, successor, now, desk_id=target, clerk_id=clerk_of(target)))
    _serve(draw, day, successor, target, now + timedelta(seconds=draw(st.integers(10, 120))))


def _serve(
    draw: st.DrawFn, day: GeneratedDay, ticket: str, desk: str, now: datetime, *, finish: bool = True
) -> datetime:
    """Serve, park and resume 0–2 times, then finish (or stop for a transfer); returns the end time."""
    events = day.events
    events.append(Event(EventKind.SERVE, ticket, now, desk_id=desk, clerk_id=clerk_of(desk)))
    for _ in range(draw(st.integers(0, 2))):
        segment = draw(st.integers(1, 900))  # a park in the same second as its resume is ambiguous
        day.served_seconds += segment
        now += timedelta(seconds=segment)
        events.append(Event(EventKind.PARK, ticket, now))
        now += timedelta(seconds=draw(st.integers(1, 1800)))
        desk = draw(st.sampled_from(DESKS))
        events.append(Event(EventKind.RESUME, ticket, now, desk_id=desk, clerk_id=clerk_of(desk)))
    segment = draw(st.integers(0, 1200))
    day.served_seconds += segment
    now += timedelta(seconds=segment)
    if finish:
        events.append(Event(EventKind.FINISH, ticket, now))
    return now


def _count_services(day: GeneratedDay, services: Sequence[str]) -> None:
    for service in services:
        day.tickets_per_service[service] = day.tickets_per_service.get(service, 0) + 1


@st.composite
def days(draw: st.DrawFn, max_tickets: int = 25) -> GeneratedDay:
    day = GeneratedDay()
    for index in range(draw(st.integers(0, max_tickets))):
        draw(_path(index, day))
    for desk in DESKS:
        # from the evening before (clipped at midnight) through the day; each starts after the last ended
        now = OPENING - timedelta(hours=10) + timedelta(seconds=draw(st.integers(0, 3600)))
        for _ in range(draw(st.integers(0, 3))):
            now += timedelta(seconds=draw(st.integers(1, 6 * 3600)))
            logged_out = draw(st.booleans())
            length = timedelta(seconds=draw(st.integers(1, 5 * 3600)))
            day.logins.append(Login(desk, now, now + length if logged_out else None))
            if not logged_out:
                break  # its session runs 12 h; the next login would end it (not generated here)
            now += length
    return day
