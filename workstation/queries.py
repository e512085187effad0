"""Read models for the screens: frozen dataclasses, never ORM objects (DESIGN §3).

Built for a busy day (5,000 appointments, 2,000 waiting tickets) within the F2 budget: each read
model is a handful of column queries on indexed columns, services are joined in bulk (no query per
row), and the counter view can be fetched in parts (`current_ticket`, `queue_rows`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, case, exists, func, or_, select

from sync.clock import OFFICE_ZONE, office_day, office_day_bounds
from sync.ordering import (
    OrderingRules,
    QueueEntry,
    Reason,
    choice_for,
    is_eligible,
    order_key,
)
from workstation.i18n import _
from workstation.models import (
    Appointment,
    CardRead,
    Case,
    Desk,
    Office,
    Service,
    ServiceOutcome,
    Ticket,
    TicketState,
    appointment_services,
    desk_services,
    ticket_services,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

CURRENT_STATES = (TicketState.CALLED, TicketState.SERVING)
SEARCH_LIMIT = 50


# --- read models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRef:
    id: str
    name: str
    code: str = ""  # the catalogue's code (which documents a finish prints: `documents.finish_inputs`)


@dataclass(frozen=True)
class DeskRef:
    id: str
    name: str


@dataclass(frozen=True)
class AppointmentInfo:
    appointment_id: str
    slot_start: datetime
    booking_reference: str
    citizen_name: str
    status: str


@dataclass(frozen=True)
class CurrentTicket:
    """The desk's called or served ticket."""

    ticket_id: str
    number: str
    state: str
    services: tuple[ServiceRef, ...]
    issued_at: datetime
    waited_minutes: float  # first call − arrival (DESIGN §7), up to now if never called
    called_count: int
    first_called_at: datetime | None
    last_called_at: datetime | None
    appointment: AppointmentInfo | None
    explanation: str
    case_id: str | None
    version: int


@dataclass(frozen=True)
class QueueRow:
    ticket_id: str
    number: str
    services: tuple[ServiceRef, ...]
    waiting_minutes: float
    due_explanation: str
    priority: int
    state: str
    version: int


@dataclass(frozen=True)
class AppointmentRow:
    appointment_id: str
    slot_start: datetime
    booking_reference: str
    citizen_name: str
    services: tuple[ServiceRef, ...]
    status: str


@dataclass(frozen=True)
class CounterView:
    current: CurrentTicket | None
    queue: list[QueueRow]
    appointments: list[AppointmentRow]
    waiting_count: int
    service_level_minutes: int


@dataclass(frozen=True)
class CaseServiceView:
    service_id: str
    name: str
    code: str
    fee_cents: int
    duration_minutes: int
    required_documents: tuple[str, ...]
    documents_checked: tuple[str, ...]
    needs_card_read: bool
    needs_capture: bool
    outcome: str | None


@dataclass(frozen=True)
class CaseView:
    case_id: str
    ticket_id: str
    number: str
    state: str
    citizen_name: str | None
    birth_date: date | None
    booking_reference: str | None
    slot_start: datetime | None
    appointment_id: str | None
    opened_at: datetime
    finished_at: datetime | None
    served_seconds: float
    notes: str
    services: tuple[CaseServiceView, ...]


@dataclass(frozen=True)
class SearchHit:
    key: str  # "ticket:<id>" or "appointment:<id>"
    kind: str  # ticket | appointment
    ticket_id: str | None
    appointment_id: str | None
    label: str
    detail: str
    state: str


@dataclass(frozen=True)
class TransferTargets:
    desks: tuple[DeskRef, ...]
    services: tuple[ServiceRef, ...]


# --- small lookups the commands share -------------------------------------------------------------


def current_ticket_row(session: Session, office_id: str, desk_id: str) -> Ticket | None:
    """The ticket this desk has called or is serving (at most one by the commands' rules)."""
    ticket: Ticket | None = session.scalar(_latest_current(select(Ticket), office_id, desk_id))
    return ticket


def _latest_current(query: Select[Any], office_id: str, desk_id: str) -> Select[Any]:
    """Narrow `query` to the desk's latest called or serving ticket."""
    current = (Ticket.office_id == office_id) & Ticket.state.in_(CURRENT_STATES) & (Ticket.desk_id == desk_id)
    return query.where(current).order_by(Ticket.last_called_at.desc()).limit(1)


def desk_service_ids(session: Session, desk_id: str) -> frozenset[str]:
    return frozenset(
        session.scalars(select(desk_services.c.service_id).where(desk_services.c.desk_id == desk_id))
    )


def waiting_entries(session: Session, office_id: str) -> list[QueueEntry]:
    """Every waiting ticket of the office as the ordering rule sees it (two queries in all)."""
    return [queued.entry for queued in _queue_entries(session, office_id, desk_id=None)]


@dataclass(frozen=True)
class _Queued:
    entry: QueueEntry
    state: TicketState
    version: int


def _queue_entries(session: Session, office_id: str, desk_id: str | None) -> list[_Queued]:
    """Waiting tickets, and with `desk_id` that desk's parked ones too."""
    shown = Ticket.state == TicketState.WAITING
    if desk_id is not None:
        shown = or_(shown, (Ticket.state == TicketState.PARKED) & (Ticket.desk_id == desk_id))
    return _queued(session.connection().execute(_entries_where(Ticket.office_id == office_id, shown)).all())


def _entries_where(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Tickets as the ordering rule sees them, in one query: each ticket with its service ids joined
    into one text (ids never hold commas)."""
    return (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.issued_at,
            Ticket.priority,
            Ticket.last_called_at,
            Ticket.target_desk_id,
            Ticket.version,
            Ticket.state,
            Appointment.slot_start,
            func.group_concat(ticket_services.c.service_id),
        )
        .outerjoin(Appointment, Appointment.id == Ticket.appointment_id)
        .outerjoin(ticket_services, ticket_services.c.ticket_id == Ticket.id)
        .where(*conditions)
        .group_by(Ticket.id)
    )


def _queued(rows: Sequence[Sequence[Any]]) -> list[_Queued]:
    service_sets: dict[str | None, frozenset[str]] = {None: frozenset()}
    for joined in {row[-1] for row in rows} - service_sets.keys():
        service_sets[joined] = frozenset(joined.split(","))
    waiting = TicketState.WAITING
    return [
        _Queued(
            QueueEntry(
                ticket_id,
                number,
                issued_at,
                service_sets[joined_services],
                priority,
                last_called_at,
                slot_start,
                target_desk_id if state == waiting else None,
            ),
            TicketState(state),
            version,
        )
        for (
            ticket_id,
            number,
            issued_at,
            priority,
            last_called_at,
            target_desk_id,
            version,
            state,
            slot_start,
            joined_services,
        ) in rows
    ]


CALL_PRESELECTION = 50


def call_candidates(
    session: Session,
    office_id: str,
    desk_id: str,
    served: frozenset[str],
    now: datetime,
    rules: OrderingRules,
    limit: int = CALL_PRESELECTION,
) -> list[QueueEntry]:
    """The waiting tickets `choose_next` has to look at for this desk, found by SQL.

    The database applies the eligibility of DESIGN §7 and orders by the rule's first two keys
    (reason rank, then slot or arrival); only the natural ticket-number tie-break is left to the pure
    function. When the preselection ends inside a tie on those keys, it returns every waiting ticket
    instead, so the choice is always the rule's own."""
    if not served:
        return []
    rows = (
        session.connection()
        .execute(
            _CALL_CANDIDATES,
            {
                "office_id": office_id,
                "desk_id": desk_id,
                "served": sorted(served),
                "now": now,
                "early_limit": now + timedelta(minutes=rules.early_window_minutes),
                "recall_limit": now - timedelta(minutes=rules.recall_block_minutes),
                "limit": limit,
            },
        )
        .all()
    )
    if len(rows) == limit and tuple(rows[0][1:]) == tuple(rows[-1][1:]):
        return waiting_entries(session, office_id)  # a tie wider than the preselection
    return waiting_entries_by_id(session, {row[0] for row in rows})


def call_candidates_statement() -> Select[str, int, datetime]:
    """`call_candidates`' query, built once with bound parameters: building it on every F2 cost more
    than running it (bench/call_candidates.py: 1.4 → 0.4 ms a call with a filled queue)."""
    now = bindparam("now", type_=Ticket.issued_at.type)
    rank = case(
        (Ticket.priority > 0, int(Reason.URGENT)),
        (Appointment.slot_start.is_(None), int(Reason.WALK_IN)),
        (
            (Appointment.slot_start <= bindparam("early_limit", type_=Appointment.slot_start.type))
            & (Ticket.issued_at <= now),
            int(Reason.APPOINTMENT_DUE),
        ),
        else_=int(Reason.APPOINTMENT_EARLY),
    )
    when = case(
        (Ticket.priority > 0, Ticket.issued_at),
        (Appointment.slot_start.is_not(None), Appointment.slot_start),
        else_=Ticket.issued_at,
    )
    has_services = exists().where(ticket_services.c.ticket_id == Ticket.id)
    foreign_service = exists().where(
        ticket_services.c.ticket_id == Ticket.id,
        ticket_services.c.service_id.not_in(bindparam("served", expanding=True)),
    )
    recall_limit = bindparam("recall_limit", type_=Ticket.last_called_at.type)
    return (
        select(Ticket.id, rank, when)
        .outerjoin(Appointment, Appointment.id == Ticket.appointment_id)
        .where(
            Ticket.office_id == bindparam("office_id"),
            Ticket.state == TicketState.WAITING,
            or_(Ticket.target_desk_id.is_(None), Ticket.target_desk_id == bindparam("desk_id")),
            or_(Ticket.last_called_at.is_(None), Ticket.last_called_at <= recall_limit),
            has_services,
            ~foreign_service,
        )
        .order_by(rank, when)
        .limit(bindparam("limit"))
    )


_CALL_CANDIDATES = call_candidates_statement()


def waiting_entries_by_id(session: Session, ticket_ids: set[str]) -> list[QueueEntry]:
    """Those of `ticket_ids` that still wait (a leased ticket may have been called out of order since,
    or marked by a pull: it must not stand in F2's way)."""
    if not ticket_ids:
        return []
    rows = session.connection().execute(_WAITING_BY_ID, {"ids": sorted(ticket_ids)}).all()
    return [queued.entry for queued in _queued(rows)]


# Built once (as `_CALL_CANDIDATES`): it runs on every F2.
_WAITING_BY_ID = _entries_where(
    Ticket.id.in_(bindparam("ids", expanding=True)), Ticket.state == TicketState.WAITING
)


def _services_of(session: Session, pairs: Select[str, str]) -> dict[str, frozenset[str]]:
    """Owner id -> its service ids, for many owners in one query."""
    by_owner: dict[str, list[str]] = defaultdict(list)
    for owner_id, service_id in session.connection().execute(pairs).all():
        by_owner[owner_id].append(service_id)
    return {owner_id: frozenset(ids) for owner_id, ids in by_owner.items()}


def service_names(session: Session, office_id: str) -> dict[str, ServiceRef]:
    return {
        row.id: ServiceRef(row.id, row.name)
        for row in session.execute(select(Service.id, Service.name).where(Service.office_id == office_id))
    }


class _ServiceLabels:
    """Service ids -> sorted service refs; the same few combinations repeat over thousands of rows."""

    def __init__(self, session: Session, office_id: str) -> None:
        self.names = service_names(session, office_id)
        self.cache: dict[frozenset[str], tuple[ServiceRef, ...]] = {}

    def __call__(self, ids: Iterable[str]) -> tuple[ServiceRef, ...]:
        key = ids if isinstance(ids, frozenset) else frozenset(ids)
        refs = self.cache.get(key)
        if refs is None:
            refs = tuple(sorted((self.names.get(i, ServiceRef(i, i)) for i in key), key=lambda ref: ref.name))
            self.cache[key] = refs
        return refs


def _rules(session: Session, office_id: str) -> tuple[OrderingRules, int]:
    office = session.get(Office, office_id)
    if office is None:
        return OrderingRules(), 15
    return (
        OrderingRules(
            recall_block_minutes=office.recall_block_minutes,
            early_window_minutes=office.early_window_minutes,
        ),
        office.service_level_minutes,
    )


def _minutes(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds() / 60)


def citizen_name(given_name: str, family_name: str) -> str:
    return f"{given_name} {family_name}".strip()


# --- the counter view -----------------------------------------------------------------------------


def queue_rows(session: Session, office_id: str, desk_id: str, now: datetime) -> list[QueueRow]:
    """The desk's queue in call order: waiting tickets it may serve, then its parked cases."""
    rules, _level = _rules(session, office_id)
    labels = _ServiceLabels(session, office_id)
    served = desk_service_ids(session, desk_id)
    far_future = now + timedelta(days=3650)  # ignore the recall block: a blocked ticket still waits
    waiting: list[tuple[tuple[object, ...], QueueRow]] = []
    parked: list[QueueRow] = []
    for queued in _queue_entries(session, office_id, desk_id):
        entry, version = queued.entry, queued.version
        if queued.state == TicketState.PARKED:
            parked.append(
                QueueRow(
                    entry.ticket_id,
                    entry.number,
                    labels(entry.service_ids),
                    _minutes(now - entry.issued_at),
                    _("geparkt"),
                    entry.priority,
                    str(TicketState.PARKED),
                    version,
                )
            )
            continue
        if not is_eligible(entry, served, far_future, rules, desk_id):
            continue
        explanation = choice_for(entry, now, rules, _).explanation
        if entry.last_called_at is not None and now - entry.last_called_at < timedelta(
            minutes=rules.recall_block_minutes
        ):
            explanation = _("kürzlich aufgerufen, {explanation}").format(explanation=explanation)
        row = QueueRow(
            entry.ticket_id,
            entry.number,
            labels(entry.service_ids),
            _minutes(now - entry.issued_at),
            explanation,
            entry.priority,
            str(TicketState.WAITING),
            version,
        )
        waiting.append((order_key(entry, now, rules), row))
    waiting.sort(key=lambda pair: pair[0])
    parked.sort(key=lambda row: row.number)
    return [row for _key, row in waiting] + parked


def current_ticket(session: Session, office_id: str, desk_id: str, now: datetime) -> CurrentTicket | None:
    # The open case's id comes along with the ticket (one query less than looking it up after).
    open_case_id = (
        select(Case.id)
        .where(Case.ticket_id == Ticket.id, Case.finished_at.is_(None))
        .order_by(Case.opened_at.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    found = session.execute(_latest_current(select(Ticket, open_case_id), office_id, desk_id)).first()
    if found is None:
        return None
    ticket, case_id = found
    rules, _level = _rules(session, office_id)
    appointment = ticket.appointment
    entry = QueueEntry(
        ticket_id=ticket.id,
        number=ticket.number,
        issued_at=ticket.issued_at,
        service_ids=frozenset(service.id for service in ticket.services),
        priority=ticket.priority,
        slot_start=appointment.slot_start if appointment else None,
    )
    waited_until = ticket.first_called_at or now
    return CurrentTicket(
        ticket_id=ticket.id,
        number=ticket.number,
        state=str(ticket.state),
        services=tuple(ServiceRef(service.id, service.name, service.code) for service in ticket.services),
        issued_at=ticket.issued_at,
        waited_minutes=_minutes(waited_until - ticket.issued_at),
        called_count=ticket.called_count,
        first_called_at=ticket.first_called_at,
        last_called_at=ticket.last_called_at,
        appointment=(
            AppointmentInfo(
                appointment.id,
                appointment.slot_start,
                appointment.booking_reference,
                citizen_name(appointment.given_name, appointment.family_name),
                str(appointment.status),
            )
            if appointment is not None
            else None
        ),
        explanation=choice_for(entry, waited_until, rules, _).explanation,
        case_id=case_id,
        version=ticket.version,
    )


def appointments_of_day(session: Session, office_id: str, now: datetime) -> list[AppointmentRow]:
    start, end = office_day_bounds(office_day(now))
    in_day = (
        (Appointment.office_id == office_id)
        & (Appointment.slot_start >= start)
        & (Appointment.slot_start < end)
    )
    labels = _ServiceLabels(session, office_id)
    rows = (
        session.connection()
        .execute(
            select(
                Appointment.id,
                Appointment.slot_start,
                Appointment.booking_reference,
                Appointment.given_name,
                Appointment.family_name,
                Appointment.status,
                func.group_concat(appointment_services.c.service_id),
            )
            .outerjoin(appointment_services, appointment_services.c.appointment_id == Appointment.id)
            .where(in_day)
            .group_by(Appointment.id)
            .order_by(Appointment.slot_start, Appointment.booking_reference)
        )
        .all()
    )
    return [
        AppointmentRow(
            appointment_id,
            slot_start,
            reference,
            citizen_name(given_name, family_name),
            labels(joined.split(",") if joined else ()),
            status,
        )
        for appointment_id, slot_start, reference, given_name, family_name, status, joined in rows
    ]


def counter_view(session: Session, office_id: str, desk_id: str, now: datetime) -> CounterView:
    queue = queue_rows(session, office_id, desk_id, now)
    _rules_unused, service_level = _rules(session, office_id)
    return CounterView(
        current=current_ticket(session, office_id, desk_id, now),
        queue=queue,
        appointments=appointments_of_day(session, office_id, now),
        waiting_count=sum(1 for row in queue if row.state == TicketState.WAITING),
        service_level_minutes=service_level,
    )


# --- the case screen, search, transfer targets ----------------------------------------------------


def case_view(session: Session, case_id: str) -> CaseView | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    ticket = session.get_one(Ticket, case.ticket_id)
    appointment = ticket.appointment
    services = tuple(
        CaseServiceView(
            service_id=case_service.service_id,
            name=case_service.service.name,
            code=case_service.service.code,
            fee_cents=case_service.service.fee_cents,
            duration_minutes=case_service.service.duration_minutes,
            required_documents=tuple(case_service.service.required_documents or ()),
            documents_checked=tuple(case_service.documents_checked or ()),
            needs_card_read=case_service.service.needs_card_read,
            needs_capture=case_service.service.needs_capture,
            outcome=str(case_service.outcome) if case_service.outcome else None,
        )
        for case_service in sorted(case.services, key=lambda cs: cs.service.name)
    )
    return CaseView(
        case_id=case.id,
        ticket_id=ticket.id,
        number=ticket.number,
        state=str(ticket.state),
        citizen_name=citizen_name(appointment.given_name, appointment.family_name) if appointment else None,
        birth_date=appointment.birth_date if appointment else None,
        booking_reference=appointment.booking_reference if appointment else None,
        slot_start=appointment.slot_start if appointment else None,
        appointment_id=appointment.id if appointment else None,
        opened_at=case.opened_at,
        finished_at=case.finished_at,
        served_seconds=case.served_seconds,
        notes=case.notes,
        services=services,
    )


def search(session: Session, office_id: str, text: str, now: datetime) -> list[SearchHit]:
    """Tickets by number; appointments by booking reference or name (case-insensitive)."""
    needle = text.strip()
    if not needle:
        return []
    pattern = f"%{_escape_like(needle.lower())}%"
    prefix = f"{_escape_like(needle.lower())}%"
    hits: list[SearchHit] = []
    tickets = session.execute(
        select(Ticket.id, Ticket.number, Ticket.state, Ticket.issued_at)
        .where(Ticket.office_id == office_id, func.lower(Ticket.number).like(prefix, escape="\\"))
        .where(Ticket.state != TicketState.TRANSFERRED)
        .order_by(Ticket.issued_at.desc())
        .limit(SEARCH_LIMIT)
    )
    for row in tickets:
        hits.append(
            SearchHit(
                f"ticket:{row.id}",
                "ticket",
                row.id,
                None,
                _("Wartenummer {number}").format(number=row.number),
                _("seit {time}").format(time=f"{row.issued_at.astimezone(OFFICE_ZONE):%H:%M}"),
                str(row.state),
            )
        )
    full_name = func.lower(Appointment.given_name + " " + Appointment.family_name)
    appointments = session.execute(
        select(
            Appointment.id,
            Appointment.booking_reference,
            Appointment.given_name,
            Appointment.family_name,
            Appointment.slot_start,
            Appointment.status,
        )
        .where(
            Appointment.office_id == office_id,
            or_(
                func.lower(Appointment.booking_reference).like(prefix, escape="\\"),
                full_name.like(pattern, escape="\\"),
            ),
        )
        .order_by(func.abs(func.julianday(Appointment.slot_start) - func.julianday(now.replace(tzinfo=None))))
        .limit(SEARCH_LIMIT)
    )
    for appointment in appointments:
        slot = appointment.slot_start.astimezone(OFFICE_ZONE)
        hits.append(
            SearchHit(
                f"appointment:{appointment.id}",
                "appointment",
                None,
                appointment.id,
                citizen_name(appointment.given_name, appointment.family_name),
                _("Termin {date} {time}, {reference}").format(
                    date=f"{slot:%d.%m.}", time=f"{slot:%H:%M}", reference=appointment.booking_reference
                ),
                str(appointment.status),
            )
        )
    return hits


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def transfer_targets(session: Session, office_id: str, desk_id: str) -> TransferTargets:
    desks = session.execute(
        select(Desk.id, Desk.name)
        .where(Desk.office_id == office_id, Desk.id != desk_id)
        .order_by(Desk.number)
    )
    services = session.execute(
        select(Service.id, Service.name).where(Service.office_id == office_id).order_by(Service.name)
    )
    return TransferTargets(
        tuple(DeskRef(row.id, row.name) for row in desks),
        tuple(ServiceRef(row.id, row.name) for row in services),
    )


def finish_concerns(session: Session, case_id: str, outcomes: Mapping[str, str]) -> list[str]:
    """What speaks against finishing services as done: for each service marked "completed", its
    unticked required documents and a card read it needs but the case lacks (German, one line each)."""
    case = session.get(Case, case_id)
    if case is None:
        return []
    card_read = session.scalar(select(CardRead.id).where(CardRead.case_id == case_id).limit(1))
    has_card_read = card_read is not None
    concerns: list[str] = []
    for case_service in case.services:
        if outcomes.get(case_service.service_id) != ServiceOutcome.COMPLETED.value:
            continue
        service = case_service.service
        missing = [doc for doc in service.required_documents if doc not in case_service.documents_checked]
        if missing:
            concerns.append(
                _("{service}: Unterlagen nicht abgehakt – {documents}").format(
                    service=service.name, documents=", ".join(missing)
                )
            )
        if service.needs_card_read and not has_card_read:
            concerns.append(_("{service}: Ausweis nicht gelesen").format(service=service.name))
    return concerns


def waiting_ticket_of_appointment(session: Session, appointment_id: str) -> str | None:
    """The waiting ticket of a checked-in appointment (None: not checked in, or no longer waiting)."""
    return session.scalar(
        select(Ticket.id)
        .where(Ticket.appointment_id == appointment_id, Ticket.state == TicketState.WAITING)
        .limit(1)
    )
