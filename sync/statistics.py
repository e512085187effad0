"""The office's figures (DESIGN §7), defined once: screens, reports, exports and the central SQL use these.

Two layers:
- `fold_events` turns a day's queue events (in any order) into one `TicketFacts` per ticket: what the
  central store keeps per ticket (times of arrival, first and last call, show-up, summed service
  segments, final state, desk and clerk);
- `day_figures` reduces those facts to `Tally`s and counts per group (booked / walk-in / together, per
  hour, desk, service, clerk). Every figure is a count or a sum, so groups add up and the central
  service can compute the same numbers in SQL (`sync.central.statistics_sql`); the derived values
  (averages, rates, idle time) are computed from them here only (`GroupFigures` properties).

Definitions, as DESIGN §7 states them, with the choices it leaves open made explicit:
- waiting time = first call − arrival (ticket issue; for appointments the check-in, which issues the
  ticket), ≥ 0. An appointment served at the desk without a call counts its show-up as the call.
  Waiting belongs to the visit: a transfer's successor keeps the original arrival, so its waiting is
  not counted again (a transfer counts once per service, the visit once).
- walk time = show-up − last call (only tickets that were called and showed up).
- service time = the served segments summed (finish − show-up minus every park); counted for tickets
  that ended served: finished, or transferred after being served (the part before the transfer).
- no-show rate = no-shows / called tickets; service level = visits called within the office's target
  / visits called; punctuality = appointments called within 5 min of their slot / appointments called.
- per hour = the office-zone hour of arrival (so every hour's figures sum to the day's);
  per desk and clerk = the desk and clerk that last handled the ticket; per service = each service
  the ticket asked for.
- idle time per desk = the time clerks were logged in at the desk (`DeskPresence`: login to logout
  or session expiry, within the day, and for today up to now) minus the walk and service time of the
  tickets it handled (a desk is busy from the last call to the show-up, and while serving). A desk
  with no recorded login (an offline login, days before logins were recorded) has no idle time
  (None), never an estimate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sync.clock import OFFICE_ZONE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TARGET_MINUTES",
    "PUNCTUALITY_MINUTES",
    "DayFigures",
    "DeskPresence",
    "Event",
    "EventKind",
    "GroupFigures",
    "Tally",
    "TicketFacts",
    "day_figures",
    "fold_events",
    "logged_in_seconds",
]

_K = TypeVar("_K", int, str)

DEFAULT_TARGET_MINUTES = 15
PUNCTUALITY_MINUTES = 5

# Final ticket states (sync.states) as the facts carry them.
FINISHED, NO_SHOW, TRANSFERRED = "finished", "no_show", "transferred"


class EventKind(enum.StrEnum):
    ISSUE = "issue"
    CALL = "call"
    SERVE = "serve"
    PARK = "park"
    RESUME = "resume"
    TRANSFER = "transfer"
    FINISH = "finish"
    NO_SHOW = "no_show"


# Same-moment events apply in the order the queue allows them (issue before call before serve …);
# a park and its resume, or a transfer and its successor's call, in the same instant stay ambiguous.
_RANK = {kind: rank for rank, kind in enumerate(EventKind)}


@dataclass(frozen=True)
class Event:
    """One thing that happened to a ticket. `slot` only on the issue of an appointment's ticket;
    `new_ticket_id` and `service_ids` on a transfer name the successor and what it asks for."""

    kind: EventKind
    ticket_id: str
    at: datetime
    desk_id: str | None = None
    clerk_id: str | None = None
    service_ids: tuple[str, ...] = ()
    slot: datetime | None = None
    new_ticket_id: str | None = None


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: str
    arrival: datetime
    service_ids: tuple[str, ...]
    booked: bool = False
    slot: datetime | None = None
    transferred_from: str | None = None
    state: str = "waiting"
    first_call: datetime | None = None
    last_call: datetime | None = None
    show_up: datetime | None = None
    service_seconds: float = 0.0
    serving_since: datetime | None = None  # an open segment (not yet counted)
    finished_at: datetime | None = None
    desk_id: str | None = None
    clerk_id: str | None = None


def fold_events(events: Iterable[Event]) -> list[TicketFacts]:
    """Each ticket's facts after all `events`, whatever order they arrived in (sorted by time here)."""
    facts: dict[str, TicketFacts] = {}
    for event in sorted(events, key=lambda e: (e.at, _RANK[e.kind], e.ticket_id)):
        if event.kind is EventKind.ISSUE:
            facts[event.ticket_id] = TicketFacts(
                ticket_id=event.ticket_id,
                arrival=event.at,
                service_ids=event.service_ids,
                booked=event.slot is not None,
                slot=event.slot,
            )
            continue
        ticket = facts.get(event.ticket_id)
        if ticket is None:  # an event for a ticket issued on another day: not this day's figures
            continue
        facts[event.ticket_id] = _apply(ticket, event)
        if event.kind is EventKind.TRANSFER and event.new_ticket_id is not None:
            facts[event.new_ticket_id] = TicketFacts(
                ticket_id=event.new_ticket_id,
                arrival=ticket.arrival,  # the successor keeps the original arrival and number
                service_ids=event.service_ids,
                booked=ticket.booked,
                slot=ticket.slot,
                transferred_from=ticket.ticket_id,
            )
    return sorted(facts.values(), key=lambda f: f.ticket_id)


def _apply(ticket: TicketFacts, event: Event) -> TicketFacts:
    at = event.at
    match event.kind:
        case EventKind.CALL:
            return replace(
                ticket,
                state="called",
                first_call=ticket.first_call or at,
                last_call=at,
                desk_id=event.desk_id,
                clerk_id=event.clerk_id,
            )
        case EventKind.SERVE:
            return replace(
                ticket,
                state="serving",
                show_up=ticket.show_up or at,
                serving_since=at,
                desk_id=event.desk_id,
                clerk_id=event.clerk_id,
            )
        case EventKind.RESUME:
            return replace(
                ticket, state="serving", serving_since=at, desk_id=event.desk_id, clerk_id=event.clerk_id
            )
        case EventKind.PARK:
            return replace(_close_segment(ticket, at), state="parked")
        case EventKind.TRANSFER:
            return replace(_close_segment(ticket, at), state=TRANSFERRED)
        case EventKind.FINISH:
            return replace(_close_segment(ticket, at), state=FINISHED, finished_at=at)
        case EventKind.NO_SHOW:
            return replace(ticket, state=NO_SHOW)
        case _:
            return ticket


def _close_segment(ticket: TicketFacts, at: datetime) -> TicketFacts:
    if ticket.serving_since is None:
        return ticket
    served = max(0.0, (at - ticket.serving_since).total_seconds())
    return replace(ticket, service_seconds=ticket.service_seconds + served, serving_since=None)


# --- the figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """How many, their sum and their maximum, in seconds."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0

    def add(self, seconds: float) -> Tally:
        return Tally(self.count + 1, self.total + seconds, max(self.maximum, seconds))

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.total + other.total, max(self.maximum, other.maximum))

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one group of tickets (the day, an hour, a desk, a service, a clerk)."""

    tickets: int = 0
    visits: int = 0  # tickets that are not a transfer's successor
    called: int = 0
    served: int = 0  # finished
    no_shows: int = 0
    waiting: Tally = field(default_factory=Tally)  # per visit called
    within_target: int = 0
    appointments_called: int = 0
    punctual: int = 0
    walk: Tally = field(default_factory=Tally)
    service: Tally = field(default_factory=Tally)
    # Seconds clerks were logged in (per desk only; None: no login recorded, or not a desk's group).
    logged_in_seconds: float | None = None

    def __add__(self, other: GroupFigures) -> GroupFigures:
        return GroupFigures(
            tickets=self.tickets + other.tickets,
            visits=self.visits + other.visits,
            called=self.called + other.called,
            served=self.served + other.served,
            no_shows=self.no_shows + other.no_shows,
            waiting=self.waiting + other.waiting,
            within_target=self.within_target + other.within_target,
            appointments_called=self.appointments_called + other.appointments_called,
            punctual=self.punctual + other.punctual,
            walk=self.walk + other.walk,
            service=self.service + other.service,
            logged_in_seconds=_optional(_plus, self.logged_in_seconds, other.logged_in_seconds),
        )

    @property
    def no_show_rate(self) -> float | None:
        return _share(self.no_shows, self.called)

    @property
    def service_level(self) -> float | None:
        return _share(self.within_target, self.waiting.count)

    @property
    def punctuality(self) -> float | None:
        return _share(self.punctual, self.appointments_called)

    @property
    def idle_seconds(self) -> float | None:
        """Logged in, nothing called: the login time not spent on walks and service (≥ 0); per desk."""
        if self.logged_in_seconds is None:
            return None
        busy = self.walk.total + self.service.total
        return max(0.0, self.logged_in_seconds - busy)


@dataclass(frozen=True)
class DayFigures:
    day: date
    target_minutes: int
    total: GroupFigures
    booked: GroupFigures
    walk_in: GroupFigures
    hours: Mapping[int, GroupFigures]
    desks: Mapping[str, GroupFigures]
    services: Mapping[str, GroupFigures]
    clerks: Mapping[str, GroupFigures]

    @property
    def has_data(self) -> bool:
        return self.total.tickets > 0


def day_start(day: date, zone: ZoneInfo = OFFICE_ZONE) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone)


def ticket_figures(ticket: TicketFacts, target_minutes: int) -> GroupFigures:
    """One ticket's contribution to every group it belongs to."""
    is_visit = ticket.transferred_from is None
    called_at = ticket.first_call or ticket.show_up
    waiting, within, appointments_called, punctual = Tally(), 0, 0, 0
    if is_visit and called_at is not None:
        seconds = max(0.0, (called_at - ticket.arrival).total_seconds())
        waiting = waiting.add(seconds)
        within = int(seconds <= target_minutes * 60)
        if ticket.slot is not None:
            appointments_called = 1
            punctual = int(called_at - ticket.slot <= timedelta(minutes=PUNCTUALITY_MINUTES))
    walk = Tally()
    if ticket.last_call is not None and ticket.show_up is not None:
        walk = walk.add(max(0.0, (ticket.show_up - ticket.last_call).total_seconds()))
    service = Tally()
    if ticket.show_up is not None and ticket.state in (FINISHED, TRANSFERRED):
        service = service.add(ticket.service_seconds)
    return GroupFigures(
        tickets=1,
        visits=int(is_visit),
        called=int(ticket.first_call is not None),
        served=int(ticket.state == FINISHED),
        no_shows=int(ticket.state == NO_SHOW),
        waiting=waiting,
        within_target=within,
        appointments_called=appointments_called,
        punctual=punctual,
        walk=walk,
        service=service,
    )


def day_figures(
    facts: Iterable[TicketFacts],
    day: date,
    *,
    target_minutes: int = DEFAULT_TARGET_MINUTES,
    presence: Iterable[DeskPresence] = (),
    now: datetime | None = None,
    zone: ZoneInfo = OFFICE_ZONE,
) -> DayFigures:
    """The day's figures over the tickets that arrived on `day` (office zone); the desks' idle time
    from `presence` (logins still open count up to `now`, when given)."""
    total, booked, walk_in = GroupFigures(), GroupFigures(), GroupFigures()
    hours: dict[int, GroupFigures] = {}
    desks: dict[str, GroupFigures] = {}
    services: dict[str, GroupFigures] = {}
    clerks: dict[str, GroupFigures] = {}
    for ticket in facts:
        if ticket.arrival.astimezone(zone).date() != day:
            continue
        figures = ticket_figures(ticket, target_minutes)
        total += figures
        if ticket.booked:
            booked += figures
        else:
            walk_in += figures
        _add(hours, ticket.arrival.astimezone(zone).hour, figures)
        if ticket.desk_id is not None:
            _add(desks, ticket.desk_id, figures)
        if ticket.clerk_id is not None:
            _add(clerks, ticket.clerk_id, figures)
        for service_id in dict.fromkeys(ticket.service_ids):
            _add(services, service_id, figures)
    for desk_id, seconds in logged_in_seconds(presence, day, now=now, zone=zone).items():
        desks[desk_id] = replace(desks.get(desk_id, GroupFigures()), logged_in_seconds=seconds)
    return DayFigures(
        day=day,
        target_minutes=target_minutes,
        total=total,
        booked=booked,
        walk_in=walk_in,
        hours=dict(sorted(hours.items())),
        desks=dict(sorted(desks.items())),
        services=dict(sorted(services.items())),
        clerks=dict(sorted(clerks.items())),
    )


@dataclass(frozen=True)
class DeskPresence:
    """A clerk logged in at a desk from `started` until `ended` (the logout, or the session's expiry
    when there was none; a later time while the session is still open)."""

    desk_id: str
    clerk_id: str
    started: datetime
    ended: datetime


def logged_in_seconds(
    presence: Iterable[DeskPresence], day: date, *, now: datetime | None = None, zone: ZoneInfo = OFFICE_ZONE
) -> dict[str, float]:
    """Per desk, the seconds of `day` (office zone) someone was logged in there, up to `now` if given.

    The logins of one desk do not overlap (the central service ends a desk's open login when the next
    one begins), so they add up."""
    start = day_start(day, zone)
    until = day_start(day + timedelta(days=1), zone)
    if now is not None:
        until = min(until, now)
    seconds: dict[str, float] = {}
    for login in presence:
        part = (min(login.ended, until) - max(login.started, start)).total_seconds()
        if part > 0:
            seconds[login.desk_id] = seconds.get(login.desk_id, 0.0) + part
    return dict(sorted(seconds.items()))


def _plus(a: float, b: float) -> float:
    return a + b


def _add(groups: dict[_K, GroupFigures], key: _K, figures: GroupFigures) -> None:
    groups[key] = groups.get(key, GroupFigures()) + figures


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _optional(pick: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)
