"""Call-next arbitration: two desks never get the same ticket.

The order comes from the one ordering function (`sync.ordering`, DESIGN §7), shared with the
workstation's offline fallback. The claim is where the databases differ:
PostgreSQL locks the chosen row with `FOR UPDATE SKIP LOCKED` (a desk that loses the race moves on to
its next choice instead of waiting); SQLite runs the whole call in one `BEGIN IMMEDIATE` transaction,
so there is only one caller at a time. Either way the claim re-checks `state = 'waiting'`.
A call is idempotent per `call_id`: a desk retrying after a lost answer gets the same ticket again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.central import store
from sync.central.errors import CentralRefusal, NotFound
from sync.ordering import OFFICE_ZONE, OrderingRules, QueueEntry, choose_next
from sync.protocol import CallNextRequest


@dataclass(frozen=True)
class CallNextOutcome:
    ticket: store.Ticket | None
    call: store.Call | None
    explanation: str | None


def call_next(session: Session, desk_id: str, request: CallNextRequest, now: datetime) -> CallNextOutcome:
    desk = session.get(store.Desk, desk_id)
    if desk is None:
        raise NotFound(f"unknown desk {desk_id!r}")
    clerk = session.get(store.Clerk, request.clerk_id)
    if clerk is None or clerk.office_id != desk.office_id:
        raise CentralRefusal(f"clerk {request.clerk_id!r} does not work at this office")
    earlier = session.get(store.Call, request.call_id)
    if earlier is not None:
        if earlier.desk_id != desk.id:
            raise CentralRefusal(f"call id {request.call_id!r} belongs to another desk")
        return CallNextOutcome(session.get(store.Ticket, earlier.ticket_id), earlier, None)

    office = session.get(store.Office, desk.office_id)
    assert office is not None  # foreign key
    candidates = _waiting_candidates(session, office.id)
    rules = OrderingRules(
        recall_block_minutes=office.recall_block_minutes,
        early_window_minutes=office.early_window_minutes,
        zone=OFFICE_ZONE,
    )
    while True:
        choice = choose_next(candidates, desk.service_ids, now, rules, desk_id=desk.id)
        if choice is None:
            return CallNextOutcome(None, None, None)
        ticket = session.scalar(
            select(store.Ticket)
            .where(store.Ticket.id == choice.ticket_id, store.Ticket.state == "waiting")
            .with_for_update(skip_locked=True)
        )
        if ticket is not None:
            break
        # Another desk holds or took it: next in line.
        candidates = [entry for entry in candidates if entry.ticket_id != choice.ticket_id]

    ticket.state = "called"
    ticket.called_count += 1
    ticket.first_called_at = ticket.first_called_at or now
    ticket.last_called_at = now
    ticket.desk_id, ticket.clerk_id = desk.id, clerk.id
    call = store.Call(
        id=request.call_id,
        office_id=office.id,
        ticket_id=ticket.id,
        desk_id=desk.id,
        clerk_id=clerk.id,
        called_at=now,
        is_recall=False,
    )
    session.add(call)
    session.flush()
    store.stamp(session, office.id, [ticket, call])
    return CallNextOutcome(ticket, call, choice.explanation)


def _waiting_candidates(session: Session, office_id: str) -> list[QueueEntry]:
    rows = session.execute(
        select(
            store.Ticket.id,
            store.Ticket.number,
            store.Ticket.issued_at,
            store.Ticket.priority,
            store.Ticket.last_called_at,
            store.Ticket.target_desk_id,
            store.Ticket.service_ids,
            store.Appointment.slot_start,
        )
        .outerjoin(store.Appointment, store.Appointment.id == store.Ticket.appointment_id)
        .where(store.Ticket.office_id == office_id, store.Ticket.state == "waiting")
    )
    return [
        QueueEntry(
            ticket_id=row.id,
            number=row.number,
            issued_at=row.issued_at,
            priority=row.priority,
            last_called_at=row.last_called_at,
            target_desk_id=row.target_desk_id,
            service_ids=frozenset(row.service_ids),
            slot_start=row.slot_start,
        )
        for row in rows
    ]
