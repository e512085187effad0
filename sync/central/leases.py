"""Leases with fencing tokens (DESIGN §4): each active desk holds a few waiting tickets of its
services, so F2 there calls one of them at once, online and offline, as an outbox operation that
carries the lease's token.

- `grant` keeps the desk's valid leases (extended), drops those whose ticket is no longer waiting,
  and adds the next tickets by the one ordering rule that no other desk holds, up to `want`.
- Nobody else gets a leased ticket before its expiry plus `MARGIN` (`held_elsewhere` feeds the
  arbitration's exclusion); each new grant of a ticket increments its token, so a call made under
  an earlier lease is refused (`check_call`) — a desk paused past its expiry cannot call a ticket
  that has moved on to another desk.
- k and the lease time trade first-come-first-served order against outage endurance: a desk calls
  its own leased tickets even when a better one arrived meanwhile, for at most k calls.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import queue_select, store
from sync.central.errors import OperationRejected
from sync.central.store import TicketLease
from sync.clock import OFFICE_ZONE
from sync.ordering import OrderingRules, choose_next

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

from sync.central.store import LEASE_MARGIN as MARGIN

LEASE_TIME = timedelta(minutes=10)  # an outage this long is served from the leases alone


def grant(
    session: Session, desk: store.Desk, workstation_id: str, want: int, now: datetime
) -> list[TicketLease]:
    """The desk's leases after this call (see the module's docstring), locked for this transaction."""
    own = _lock_current_leases(session, desk.id, now)
    waiting = set(
        session.scalars(
            select(store.Ticket.id).where(
                store.Ticket.id.in_([lease.ticket_id for lease in own]), store.Ticket.state == "waiting"
            )
        )
    )
    kept: list[TicketLease] = []
    for lease in own:
        if lease.ticket_id in waiting and lease.expires_at > now and len(kept) < want:
            lease.expires_at, lease.workstation_id = now + LEASE_TIME, workstation_id
            kept.append(lease)
        else:
            lease.expires_at = min(lease.expires_at, now - MARGIN)  # released: free for everyone now
    office = session.get(store.Office, desk.office_id)
    assert office is not None  # foreign key
    rules = OrderingRules(
        recall_block_minutes=office.recall_block_minutes,
        early_window_minutes=office.early_window_minutes,
        zone=OFFICE_ZONE,
    )
    taken = {lease.ticket_id for lease in kept}
    while len(kept) < want:
        candidates = queue_select.preselect(
            session, office.id, desk.id, desk.service_ids, now, rules, exclude=taken, leased_away_from=desk.id
        )
        choice = choose_next(candidates.entries, desk.service_ids, now, rules, desk_id=desk.id)
        if choice is None:
            break
        taken.add(choice.ticket_id)
        ticket = session.scalar(
            select(store.Ticket)
            .where(store.Ticket.id == choice.ticket_id, store.Ticket.state == "waiting")
            .with_for_update(skip_locked=True)
        )
        if ticket is None:
            continue  # another desk is taking it right now
        granted = _lease(session, ticket.id, desk.id, workstation_id, now)
        if granted is not None:
            kept.append(granted)
    return kept


def _lock_current_leases(session: Session, desk_id: str, now: datetime) -> list[TicketLease]:
    """The desk's leases not yet released, locked in the store's lock order: the desk's row, then
    the tickets in id order, then their leases. (Locking the desk's lease rows first deadlocked with
    another desk granted one of those tickets: it holds the ticket and waits for its lease row.)"""
    desk_row = select(store.Desk.id).where(store.Desk.id == desk_id)
    session.scalars(desk_row.with_for_update(key_share=True)).one()  # one grant per desk at a time
    current = (TicketLease.desk_id == desk_id, TicketLease.expires_at > now - MARGIN)
    ticket_ids = list(session.scalars(select(TicketLease.ticket_id).where(*current)))
    store.lock_tickets(session, ticket_ids)
    query = select(TicketLease).where(TicketLease.ticket_id.in_(ticket_ids), *current)
    return list(session.scalars(query.order_by(TicketLease.ticket_id).with_for_update()))


def _lease(
    session: Session, ticket_id: str, desk_id: str, workstation_id: str, now: datetime
) -> TicketLease | None:
    """A new lease of the locked ticket `ticket_id`; None when another desk was granted it since the
    queue was read (the read takes no locks)."""
    lease = session.get(TicketLease, ticket_id, with_for_update=True)
    if lease is not None and lease.desk_id != desk_id and lease.expires_at > now - MARGIN:
        return None
    if lease is None:
        lease = TicketLease(ticket_id=ticket_id, token=0)
        session.add(lease)
    lease.token += 1
    lease.desk_id, lease.workstation_id, lease.expires_at = desk_id, workstation_id, now + LEASE_TIME
    session.flush()
    return lease


def check_call(session: Session, ticket_id: str, desk_id: str, token: int | None, now: datetime) -> None:
    """Refuse a call that a lease forbids: made under a token that is no longer the ticket's, or
    without a token for a ticket another desk holds."""
    lease = session.get(TicketLease, ticket_id, with_for_update=True)
    if token is not None:
        if lease is None or lease.token != token:
            raise OperationRejected("lease token stale: the ticket was leased to another desk meanwhile")
        return
    if lease is not None and lease.desk_id != desk_id and lease.expires_at > now - MARGIN:
        raise OperationRejected(f"ticket leased to desk {lease.desk_id!r}")


def revoke_for(session: Session, ticket_id: str, calling_desk_id: str) -> None:
    """The central service hands `ticket_id` to `calling_desk_id`: another desk's lease on it ends,
    and its token moves on, so a call the holder makes under it is refused (and the holder told)."""
    lease = session.get(TicketLease, ticket_id, with_for_update=True)
    if lease is not None and lease.desk_id != calling_desk_id:
        lease.token += 1
        lease.desk_id = calling_desk_id  # no longer the holder's; the called ticket leaves the queue
