"""SQL pre-selection for call-next: the few waiting tickets among which the ordering rule must choose.

The rule is defined once, in `sync.ordering`. This module only narrows the queue so the rule does not
see 2,000 tickets per call: SQL applies the rule's eligibility test and its first two sort keys
(reason rank, then slot or arrival time) and takes the first `limit` rows; of those it keeps only the
groups of (rank, time) ties that are whole: the last group may be cut, so it is dropped, unless it is
the only one, in which case all of its rows are fetched. `choose_next` then settles the rest (natural
ticket-number order, ticket id) among those candidates. Why that is exact: the candidates are every
eligible ticket whose (rank, time) is below some bound (or equal to the only group's), so the rule's
winner, which has the smallest (rank, time), is among them, and stays so when the arbitration drops
tickets other desks hold; and every candidate is eligible, so no other ticket can win.
`tests/central/test_queue_select.py` checks this against `choose_next` over the whole queue with
Hypothesis.

The SQL counterparts of the rule, each a plain comparison with a bound time (no date arithmetic in
SQL, so SQLite and PostgreSQL agree):
- not recall-blocked: `now >= last_called_at + block`  ⇔  `last_called_at <= now - block`;
- appointment due: `max(slot - early, issued_at) <= now`  ⇔  `slot <= now + early AND issued_at <= now`;
- served by the desk: the ticket has services, and none outside the desk's (rows of `ticket_services`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, or_, select, type_coerce

from sync.central import store
from sync.ordering import OrderingRules, QueueEntry, Reason
from sync.sqltypes import UtcDateTime

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.orm import Session

# Enough to hold a whole slot's checked-in appointments (ties on rank and time) in one query.
PRESELECT_LIMIT = 64

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class Candidates:
    entries: list[QueueEntry]
    complete: bool  # True: these are all eligible tickets (not excluded), not just the first ones


def preselect(
    session: Session,
    office_id: str,
    desk_id: str | None,
    desk_service_ids: Collection[str],
    now: datetime,
    rules: OrderingRules,
    *,
    exclude: Collection[str] = (),
    limit: int = PRESELECT_LIMIT,
    leased_away_from: str | None = None,
) -> Candidates:
    """The eligible waiting tickets that can come first under `sync.ordering`, best first."""
    if not desk_service_ids:
        return Candidates([], complete=True)
    ticket, appointment = store.Ticket, store.Appointment
    rank, when = _rank_and_time(now, rules)
    query = (
        select(
            ticket.id,
            ticket.number,
            ticket.issued_at,
            ticket.priority,
            ticket.last_called_at,
            ticket.target_desk_id,
            ticket.service_ids,
            appointment.slot_start,
            rank.label("rank"),
            when.label("when"),
        )
        .outerjoin(appointment, appointment.id == ticket.appointment_id)
        .where(*_eligible(office_id, desk_id, desk_service_ids, now, rules, exclude))
        .where(*([_held_elsewhere(leased_away_from, now)] if leased_away_from else []))
    )
    rows = session.execute(query.order_by(rank, when, ticket.id).limit(limit)).all()
    complete = len(rows) < limit
    if not complete:
        # The cut may split the last group of (rank, time) ties, whose order only the ticket number
        # settles: leave that group out, or, when it is the only one, fetch all of it.
        last = rows[-1]
        before_cut = [row for row in rows if (row.rank, row.when) != (last.rank, last.when)]
        rows = before_cut or session.execute(_ties(query, rank, when, last.rank, last.when)).all()
    return Candidates([_entry(row) for row in rows], complete)


def _rank_and_time(now: datetime, rules: OrderingRules) -> tuple[ColumnElement[int], ColumnElement[datetime]]:
    """SQL for the first two keys of `sync.ordering.order_key`: the reason's rank and its time."""
    ticket, appointment = store.Ticket, store.Appointment
    urgent = ticket.priority > 0
    walk_in = appointment.slot_start.is_(None)
    due = and_(
        appointment.slot_start <= now + timedelta(minutes=rules.early_window_minutes),
        ticket.issued_at <= now,
    )
    rank = case(
        (urgent, int(Reason.URGENT)),
        (walk_in, int(Reason.WALK_IN)),
        (due, int(Reason.APPOINTMENT_DUE)),
        else_=int(Reason.APPOINTMENT_EARLY),
    )
    when = type_coerce(
        case((or_(urgent, walk_in), ticket.issued_at), else_=appointment.slot_start), UtcDateTime()
    )
    return rank, when


def _eligible(
    office_id: str,
    desk_id: str | None,
    desk_service_ids: Collection[str],
    now: datetime,
    rules: OrderingRules,
    exclude: Collection[str],
) -> list[ColumnElement[bool]]:
    """SQL for `sync.ordering.is_eligible`, plus: waiting, this office, not excluded."""
    ticket, link = store.Ticket, store.TicketService
    own_link = link.ticket_id == ticket.id
    conditions: list[ColumnElement[bool]] = [
        ticket.office_id == office_id,
        ticket.state == "waiting",
        ticket.target_desk_id.is_(None)
        if desk_id is None
        else or_(ticket.target_desk_id.is_(None), ticket.target_desk_id == desk_id),
        or_(
            ticket.last_called_at.is_(None),
            ticket.last_called_at <= now - timedelta(minutes=rules.recall_block_minutes),
        ),
        exists().where(own_link),
        ~exists().where(own_link, link.service_id.not_in(list(desk_service_ids))),
    ]
    if exclude:
        conditions.append(ticket.id.not_in(list(exclude)))
    return conditions


def _held_elsewhere(desk_id: str, now: datetime) -> ColumnElement[bool]:
    """Not leased to another desk (until its lease's expiry plus the margin)."""
    lease = store.TicketLease
    return ~exists().where(
        lease.ticket_id == store.Ticket.id,
        lease.desk_id != desk_id,
        lease.expires_at > now - store.LEASE_MARGIN,
    )


def _ties(
    query: Select[*_Columns],
    rank: ColumnElement[int],
    when: ColumnElement[datetime],
    cut_rank: int,
    cut_when: datetime,
) -> Select[*_Columns]:
    return query.where(rank == cut_rank, when == cut_when)


def _entry(row: Row[*tuple[Any, ...]]) -> QueueEntry:
    return QueueEntry(
        ticket_id=row.id,
        number=row.number,
        issued_at=row.issued_at,
        priority=row.priority,
        last_called_at=row.last_called_at,
        target_desk_id=row.target_desk_id,
        service_ids=frozenset(row.service_ids),
        slot_start=row.slot_start,
    )
