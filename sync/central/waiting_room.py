"""What the waiting room sees of one office, read once per change: the latest calls, the queue per
service group with its wait estimate, and each of today's tickets as its status page shows it.

One `OfficeBoard` serves the call display and every open status page of the office, so 2,000 phones
cost one read per change, not 2,000. No personal data is read: numbers, services, desks, times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import store
from sync.clock import office_day, office_day_bounds
from sync.ordering import OrderingRules, QueueEntry
from sync.states import TicketState
from sync.waiting import UNKNOWN, WaitEstimate, estimate_wait, people_ahead_all

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PHOTO = "photo"  # the capture item the photo station takes (`sync.protocol.CaptureItem`)
CALLS_SHOWN = 12  # ZMS's 2 × 6
ACTIVE_DESK_WINDOW = timedelta(minutes=30)  # a desk that called within this counts as serving


class StatusKind(StrEnum):
    WAITING = "waiting"
    NEXT = "next"
    CALLED = "called"
    SERVING = "serving"
    FINISHED = "finished"
    EXPIRED = "expired"


@dataclass(frozen=True)
class CallShown:
    call_id: str
    number: str
    desk_number: int
    called_at: datetime
    is_recall: bool


@dataclass(frozen=True)
class GroupShown:
    prefix: str
    service_names: tuple[str, ...]
    waiting: int
    estimate: WaitEstimate


@dataclass(frozen=True)
class TicketStatus:
    number: str
    service_names: tuple[str, ...]
    kind: StatusKind
    ahead: int = 0
    estimate: WaitEstimate = UNKNOWN
    desk_number: int | None = None
    # Waiting for a service that needs a capture (`Service.needs_capture`) and no photo recorded yet
    # for it (`photo_taken`): the page sends the citizen to the photo station first.
    needs_photo: bool = False


@dataclass(frozen=True)
class OfficeBoard:
    office_id: str
    office_name: str
    now: datetime
    calls: tuple[CallShown, ...]
    groups: tuple[GroupShown, ...]
    tickets: dict[str, TicketStatus] = field(repr=False)  # today's tickets by id


@dataclass
class _Ticket:
    id: str
    number: str
    state: str
    issued_at: datetime
    service_ids: list[str]
    desk_id: str | None
    transferred_from_id: str | None


def read_board(session: Session, office_id: str, now: datetime) -> OfficeBoard | None:
    office = session.get(store.Office, office_id)
    if office is None:
        return None
    start, end = office_day_bounds(office_day(now))
    services = {
        s.id: s for s in session.scalars(select(store.Service).where(store.Service.office_id == office_id))
    }
    desks = {d.id: d for d in session.scalars(select(store.Desk).where(store.Desk.office_id == office_id))}
    tickets = [
        _Ticket(*row)
        for row in session.execute(
            select(
                store.Ticket.id,
                store.Ticket.number,
                store.Ticket.state,
                store.Ticket.issued_at,
                store.Ticket.service_ids,
                store.Ticket.desk_id,
                store.Ticket.transferred_from_id,
            ).where(
                store.Ticket.office_id == office_id,
                store.Ticket.issued_at >= start,
                store.Ticket.issued_at < end,
            )
        )
    ]
    by_id = {ticket.id: ticket for ticket in tickets}
    calls = session.execute(
        select(
            store.Call.id,
            store.Call.ticket_id,
            store.Call.desk_id,
            store.Call.called_at,
            store.Call.is_recall,
        )
        .where(store.Call.office_id == office_id, store.Call.called_at >= start, store.Call.called_at < end)
        .order_by(store.Call.called_at.desc(), store.Call.id)
    ).all()

    active_desks = {desk_id for _, _, desk_id, called_at, _ in calls if called_at >= now - ACTIVE_DESK_WINDOW}
    active_desks |= {
        t.desk_id
        for t in tickets
        if t.desk_id is not None and t.state in (TicketState.CALLED, TicketState.SERVING, TicketState.PARKED)
    }

    shown: list[CallShown] = []
    seen_tickets: set[str] = set()
    for call_id, ticket_id, desk_id, called_at, is_recall in calls:
        ticket = by_id.get(ticket_id)
        if ticket is None or ticket_id in seen_tickets or desk_id not in desks:
            continue
        seen_tickets.add(ticket_id)
        shown.append(CallShown(call_id, ticket.number, desks[desk_id].number, called_at, is_recall))
        if len(shown) == CALLS_SHOWN:
            break

    def prefix_of(ticket: _Ticket) -> str:
        first = services.get(ticket.service_ids[0]) if ticket.service_ids else None
        return first.ticket_prefix if first is not None else "?"

    def minutes_of(ticket: _Ticket) -> int:
        return sum(services[s].duration_minutes for s in ticket.service_ids if s in services)

    def desks_serving(service_ids: set[str], *, all_of: bool) -> int:
        def serves(desk: store.Desk) -> bool:
            offered = set(desk.service_ids)
            return service_ids <= offered if all_of else bool(service_ids & offered)

        return sum(1 for desk_id in active_desks if desk_id in desks and serves(desks[desk_id]))

    waiting = [t for t in tickets if t.state == TicketState.WAITING]
    slots = {
        ticket_id: slot_start
        for ticket_id, slot_start in session.execute(
            select(store.Ticket.id, store.Appointment.slot_start)
            .join(store.Appointment, store.Appointment.id == store.Ticket.appointment_id)
            .where(store.Ticket.id.in_([t.id for t in waiting]))
        )
    }
    rules = OrderingRules(office.recall_block_minutes, office.early_window_minutes)
    ahead = people_ahead_all(
        (
            QueueEntry(t.id, t.number, t.issued_at, frozenset(t.service_ids), slot_start=slots.get(t.id))
            for t in waiting
        ),
        now,
        rules,
    )

    group_services: dict[str, list[store.Service]] = {}
    for service in sorted(services.values(), key=lambda s: (s.ticket_prefix, s.code, s.id)):
        group_services.setdefault(service.ticket_prefix, []).append(service)
    group_minutes: dict[str, float] = {}
    groups: list[GroupShown] = []
    for prefix, members in group_services.items():
        in_group = [t for t in waiting if prefix_of(t) == prefix]
        durations = [minutes_of(t) for t in in_group] or [s.duration_minutes for s in members]
        group_minutes[prefix] = sum(durations) / len(durations)
        service_ids = {s.id for s in members}
        groups.append(
            GroupShown(
                prefix,
                tuple(s.name for s in members),
                len(in_group),
                estimate_wait(len(in_group), desks_serving(service_ids, all_of=False), group_minutes[prefix]),
            )
        )

    successor = {t.transferred_from_id: t for t in tickets if t.transferred_from_id is not None}
    photographed = photo_taken(session, office_id, start, end)

    def needs_photo(ticket: _Ticket) -> bool:
        """A service of the ticket needs a capture, and none with a photo is recorded for it or for
        a ticket it was transferred from (the photo was taken for the visit, not the number)."""
        if not any(services[s].needs_capture for s in ticket.service_ids if s in services):
            return False
        current: _Ticket | None = ticket
        for _ in range(10):
            if current is None:
                break
            if current.id in photographed:
                return False
            current = by_id.get(current.transferred_from_id or "")
        return True

    def status_of(ticket: _Ticket, hops: int = 0) -> TicketStatus:
        names = tuple(services[s].name for s in ticket.service_ids if s in services)
        state = ticket.state
        if state == TicketState.TRANSFERRED and ticket.id in successor and hops < 10:
            return status_of(successor[ticket.id], hops + 1)
        if state == TicketState.WAITING:
            before = ahead.get(ticket.id, 0)
            photo = needs_photo(ticket)
            if before == 0:
                return TicketStatus(ticket.number, names, StatusKind.NEXT, needs_photo=photo)
            serving = desks_serving(set(ticket.service_ids), all_of=True)
            estimate = estimate_wait(before, serving, group_minutes.get(prefix_of(ticket)))
            return TicketStatus(ticket.number, names, StatusKind.WAITING, before, estimate, needs_photo=photo)
        if state == TicketState.CALLED:
            desk = desks.get(ticket.desk_id or "")
            return TicketStatus(
                ticket.number, names, StatusKind.CALLED, desk_number=desk.number if desk else None
            )
        if state in (TicketState.SERVING, TicketState.PARKED):
            return TicketStatus(ticket.number, names, StatusKind.SERVING)
        if state in (TicketState.FINISHED, TicketState.TRANSFERRED):
            return TicketStatus(ticket.number, names, StatusKind.FINISHED)
        return TicketStatus(ticket.number, names, StatusKind.EXPIRED)  # no-show, cancelled

    return OfficeBoard(
        office_id=office.id,
        office_name=office.name,
        now=now,
        calls=tuple(shown),
        groups=tuple(groups),
        tickets={t.id: status_of(t) for t in tickets},
    )


def photo_taken(session: Session, office_id: str, start: datetime, end: datetime) -> set[str]:
    """The office's tickets issued in [start, end) with a photo recorded: attached at a desk
    (`TicketCapture`, from the `capture.attach` operation) or reported by the office's capture
    terminal (`TerminalCapture`)."""
    taken: set[str] = set()
    for model in (store.TicketCapture, store.TerminalCapture):
        rows = session.execute(
            select(model.ticket_id, model.items)
            .join(store.Ticket, store.Ticket.id == model.ticket_id)
            .where(
                model.office_id == office_id, store.Ticket.issued_at >= start, store.Ticket.issued_at < end
            )
        )
        taken |= {ticket_id for ticket_id, items in rows if PHOTO in items}
    return taken


def ticket_by_token(session: Session, token: str) -> tuple[str, str, str] | None:
    """(office id, ticket id, number) of the ticket with this status token, or None."""
    row = session.execute(
        select(store.Ticket.office_id, store.Ticket.id, store.Ticket.number).where(
            store.Ticket.status_token == token
        )
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def first_waiting_token(session: Session, office_id: str) -> str | None:
    """The status token of the office's longest-waiting ticket (for the demo's printed address)."""
    token: str | None = session.scalar(
        select(store.Ticket.status_token)
        .where(
            store.Ticket.office_id == office_id,
            store.Ticket.state == TicketState.WAITING,
            store.Ticket.status_token.is_not(None),
        )
        .order_by(store.Ticket.issued_at, store.Ticket.id)
        .limit(1)
    )
    return token
