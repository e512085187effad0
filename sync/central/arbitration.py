"""Call-next arbitration: two desks never get the same ticket.

The order comes from the one ordering function (`sync.ordering`, DESIGN §7), shared with the
workstation's offline fallback; SQL only narrows the queue to the few tickets that can come first
(`queue_select`), so a call costs the same with 20 or 2,000 tickets waiting.
The claim is where the databases differ: PostgreSQL locks the chosen row with
`FOR UPDATE SKIP LOCKED` (a desk that loses the race moves on to its next choice instead of waiting);
SQLite runs the whole call in one `BEGIN IMMEDIATE` transaction, so there is only one caller at a time.
Either way the claim re-checks `state = 'waiting'`.
A call is idempotent per `call_id`: a desk retrying after a lost answer gets the same ticket again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import leases, queue_select, store
from sync.central.errors import CentralRefusal, NotFound
from sync.clock import OFFICE_ZONE
from sync.ordering import Choice, OrderingRules, choose_next

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

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
    rules = OrderingRules(
        recall_block_minutes=office.recall_block_minutes,
        early_window_minutes=office.early_window_minutes,
        zone=OFFICE_ZONE,
    )
    claimed = _claim_next(session, office.id, desk, rules, now)
    if claimed is None:
        return CallNextOutcome(None, None, None)
    ticket, choice = claimed
    leases.revoke_for(session, ticket.id, desk.id)  # a desk asking here holds no lease it could use

    call = ticket.record_call(request.call_id, desk.id, clerk.id, now, recall=False)
    session.add(call)
    session.flush()
    store.stamp(session, office.id, [ticket, call])
    return CallNextOutcome(ticket, call, choice.explanation)


def _claim_next(
    session: Session, office_id: str, desk: store.Desk, rules: OrderingRules, now: datetime
) -> tuple[store.Ticket, Choice] | None:
    """The rule's choice, locked; a ticket another desk holds or took is skipped for the next one."""
    skipped: set[str] = set()
    # Leased tickets are not skipped: a desk that asks the central service has no lease it could
    # call, and the rule's choice goes to it even when another desk holds it (docs/architecture.md,
    # "Leases": idle desks beside waiting citizens otherwise); that lease is revoked.
    candidates = queue_select.preselect(session, office_id, desk.id, desk.service_ids, now, rules)
    while True:
        remaining = [entry for entry in candidates.entries if entry.ticket_id not in skipped]
        choice = choose_next(remaining, desk.service_ids, now, rules, desk_id=desk.id)
        if choice is None:
            if candidates.complete:
                return None
            skipped.update(entry.ticket_id for entry in remaining)  # progress even if SQL and rule disagree
            candidates = queue_select.preselect(
                session,
                office_id,
                desk.id,
                desk.service_ids,
                now,
                rules,
                exclude=skipped,
            )
            continue
        ticket = session.scalar(
            select(store.Ticket)
            .where(store.Ticket.id == choice.ticket_id, store.Ticket.state == "waiting")
            .with_for_update(skip_locked=True)
        )
        if ticket is not None:
            return ticket, choice
        skipped.add(choice.ticket_id)
