"""The clerk's actions as commands: one plain function per action (DESIGN §4).

Each command checks the ticket's state, changes the local store **and** appends one business
operation to the outbox, in the caller's transaction: both reach the disk together or neither does.
Commands never commit and never touch the network; the caller (`workstation.counter.Counter`) owns
the transaction. `now` comes from the caller, so tests and replays decide the time.

Which transitions are legal is `sync.states` (the same table the central service applies pushed
operations with); a refused one raises `CommandRefused` with a German sentence and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

import uuid6
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, lazyload

from sync.clock import office_day, office_day_bounds, utc_now
from sync.ordering import OrderingRules, QueueEntry, choose_next
from sync.states import (
    DEFAULT_MAX_CALLS,
    INITIAL_STATE,
    RefusalReason,
    TicketAction,
    TransitionRefused,
    next_state,
)
from workstation import queries
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.labels import state_label
from workstation.models import (
    SCHEMA_VERSION,
    Appointment,
    AppointmentStatus,
    Call,
    Case,
    CaseService,
    Desk,
    DeskLease,
    Office,
    OutboxOperation,
    Service,
    ServiceOutcome,
    SyncState,
    Ticket,
    TicketState,
)
from workstation.operation_kinds import OperationKind

if TYPE_CHECKING:  # the protocol's pydantic models stay off the clerk's start and key presses
    from collections.abc import Mapping, Sequence

    from sync.protocol import TicketSnapshot

__all__ = [
    "CallResult",
    "CaseResult",
    "CommandRefused",
    "DeskContext",
    "FinishResult",
    "IssueResult",
    "TicketResult",
    "TransferResult",
    "append_operation",
    "call_next",
    "call_ticket",
    "citizen_arrived",
    "finish",
    "issue_walk_in",
    "no_show",
    "park",
    "precheck",
    "recall",
    "record_call",
    "resume",
    "transfer",
]

MAX_PRIORITY = 9


@dataclass(frozen=True)
class DeskContext:
    """Who acts where: this workstation, its office, the desk it is bound to, the logged-in clerk."""

    workstation_id: str
    office_id: str
    desk_id: str
    clerk_id: str


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallResult:
    ticket_id: str
    number: str
    call_count: int
    explanation: str | None
    call_id: str = ""


@dataclass(frozen=True)
class CaseResult:
    """The citizen is being served: `case_id` is the visit's case."""

    ticket_id: str
    number: str
    case_id: str


@dataclass(frozen=True)
class TicketResult:
    ticket_id: str
    number: str
    state: TicketState


@dataclass(frozen=True)
class TransferResult:
    ticket_id: str  # the old ticket, now transferred
    new_ticket_id: str  # waiting for the target, same number and arrival
    number: str
    service_ids: tuple[str, ...]
    target_desk_id: str | None


@dataclass(frozen=True)
class FinishResult:
    ticket_id: str
    number: str
    case_id: str
    served_seconds: float
    outcomes: Mapping[str, ServiceOutcome]


@dataclass(frozen=True)
class IssueResult:
    ticket_id: str
    number: str
    service_ids: tuple[str, ...]
    priority: int


# --- the outbox ---------------------------------------------------------------------------------


def append_operation(
    session: Session,
    ctx: DeskContext,
    kind: OperationKind | str,
    args: dict[str, Any],
    base_version: int | None,
    *,
    created_at: datetime | None = None,
) -> OutboxOperation:
    """Append one operation with a fresh UUIDv7 and the workstation's next sequence number.

    The sequence never goes back, not even below what the central service acknowledged already:
    reusing a number would make the central service answer with another operation's result."""
    acked_seq = (
        select(SyncState.acked_seq).where(SyncState.workstation_id == ctx.workstation_id).scalar_subquery()
    )
    highest, acked = session.execute(select(func.max(OutboxOperation.seq), acked_seq)).one()  # one round trip
    operation = OutboxOperation(
        seq=max(highest or 0, acked or 0) + 1,
        op_id=str(uuid6.uuid7()),
        workstation_id=ctx.workstation_id,
        kind=str(kind),
        args=args,
        base_version=base_version,
        schema_version=SCHEMA_VERSION,
        created_at=created_at or utc_now(),
    )
    session.add(operation)
    session.flush()  # a failing insert fails the command, before the caller commits anything
    return operation


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- calling ------------------------------------------------------------------------------------


def call_next(
    session: Session, ctx: DeskContext, now: datetime, *, lost_call_id: str | None = None
) -> CallResult | None:
    """Call the next ticket by the ordering rule; None when nobody waits for this desk.

    `lost_call_id`: the central call-next this local choice replaces (its answer was lost), so the
    central service can settle a call it made that the clerk never saw (`sync.central.apply`)."""
    require_free_desk(session, ctx)
    rules = office_rules(session, ctx.office_id)
    served = queries.desk_service_ids(session, ctx.desk_id)
    candidates = queries.call_candidates(session, ctx.office_id, ctx.desk_id, served, now, rules)
    chosen = _choose(session, ctx, candidates, served, now, rules)
    if chosen is None:
        return None
    ticket, explanation = chosen
    return _call(
        session, ctx, ticket, now, TicketAction.CALL, explanation=explanation, lost_call_id=lost_call_id
    )


def call_from_lease(session: Session, ctx: DeskContext, now: datetime) -> CallResult | None:
    """Call the best ticket this desk holds a valid lease on, by the ordering rule, with the lease's
    fencing token (no network); None when the desk holds none that can be called now."""
    leases = {
        lease.ticket_id: lease.token
        for lease in session.scalars(
            select(DeskLease).where(DeskLease.desk_id == ctx.desk_id, DeskLease.valid_until > now)
        )
    }
    if not leases:
        return None
    require_free_desk(session, ctx)
    rules = office_rules(session, ctx.office_id)
    served = queries.desk_service_ids(session, ctx.desk_id)
    # Only the leased tickets, still waiting here; the rule decides among them (and their eligibility).
    candidates = queries.waiting_entries_by_id(session, set(leases))
    chosen = _choose(session, ctx, candidates, served, now, rules)
    if chosen is None:
        return None
    ticket, explanation = chosen
    session.execute(delete(DeskLease).where(DeskLease.ticket_id == ticket.id))
    token = leases[ticket.id]
    return _call(session, ctx, ticket, now, TicketAction.CALL, explanation=explanation, lease_token=token)


def _choose(
    session: Session,
    ctx: DeskContext,
    candidates: list[QueueEntry],
    served: frozenset[str],
    now: datetime,
    rules: OrderingRules,
) -> tuple[Ticket, str] | None:
    """The ticket the ordering rule calls among `candidates`, with the rule's explanation."""
    choice = choose_next(candidates, served, now, rules, desk_id=ctx.desk_id)
    if choice is None:
        return None
    # Calling touches neither services nor appointment: skip their eager loads (one query less).
    ticket = session.get_one(
        Ticket, choice.ticket_id, options=[lazyload(Ticket.services), lazyload(Ticket.appointment)]
    )
    return ticket, choice.explanation


def call_ticket(session: Session, ctx: DeskContext, ticket_id: str, now: datetime) -> CallResult:
    """Call one particular waiting ticket (the clerk chose it in the queue or found it by search)."""
    require_free_desk(session, ctx)
    ticket = _ticket(session, ctx, ticket_id)
    return _call(session, ctx, ticket, now, TicketAction.CALL, explanation=None)


def recall(session: Session, ctx: DeskContext, now: datetime) -> CallResult:
    """Call the desk's current ticket once more (the citizen has not come yet)."""
    ticket = _current(session, ctx, _("Es ist keine Wartenummer aufgerufen."))
    return _call(session, ctx, ticket, now, TicketAction.RECALL, explanation=None)


def _call(
    session: Session,
    ctx: DeskContext,
    ticket: Ticket,
    now: datetime,
    action: TicketAction,
    *,
    explanation: str | None,
    lease_token: int | None = None,
    lost_call_id: str | None = None,
) -> CallResult:
    """Call (`TicketAction.CALL`) or recall (`TicketAction.RECALL`) `ticket` to this desk."""
    new_state = _advance(ticket, action, ctx)
    recall = action is TicketAction.RECALL
    base_version = ticket.version
    call_id = str(uuid6.uuid7())
    ticket.state = new_state
    ticket.called_count += 1
    ticket.first_called_at = ticket.first_called_at or now
    ticket.last_called_at = now
    ticket.desk_id, ticket.clerk_id = ctx.desk_id, ctx.clerk_id
    session.add(
        Call(
            id=call_id,
            ticket_id=ticket.id,
            desk_id=ctx.desk_id,
            clerk_id=ctx.clerk_id,
            called_at=now,
            is_recall=recall,
        )
    )
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_CALL,
        {
            "ticket_id": ticket.id,
            "desk_id": ctx.desk_id,
            "clerk_id": ctx.clerk_id,
            "call_id": call_id,
            "called_at": _iso(now),
            "recall": recall,
        }
        | ({"lease_token": lease_token} if lease_token is not None else {})
        | ({"lost_call_id": lost_call_id} if lost_call_id is not None else {}),
        base_version,
        created_at=now,
    )
    return CallResult(ticket.id, ticket.number, ticket.called_count, explanation, call_id)


def record_call(
    session: Session,
    ctx: DeskContext,
    ticket_snapshot: TicketSnapshot,
    call_id: str,
    explanation: str | None = None,
) -> CallResult:
    """Store a call the central service already arbitrated and applied: no outbox operation."""
    ticket = session.get(Ticket, ticket_snapshot.id)
    if ticket is None:
        ticket = Ticket(id=ticket_snapshot.id)
        session.add(ticket)
    for field in (
        "office_id",
        "number",
        "appointment_id",
        "issued_at",
        "priority",
        "called_count",
        "first_called_at",
        "last_called_at",
        "desk_id",
        "clerk_id",
        "target_desk_id",
        "transferred_from_id",
        "origin",
        "version",
    ):
        setattr(ticket, field, getattr(ticket_snapshot, field))
    ticket.state = TicketState(ticket_snapshot.state)  # the snapshot carries the bare value
    ticket.services = _services(session, ticket_snapshot.office_id, ticket_snapshot.service_ids)
    if session.get(Call, call_id) is None:
        session.add(
            Call(
                id=call_id,
                ticket_id=ticket.id,
                desk_id=ticket_snapshot.desk_id or ctx.desk_id,
                clerk_id=ticket_snapshot.clerk_id or ctx.clerk_id,
                called_at=ticket_snapshot.last_called_at or ticket_snapshot.issued_at,
                is_recall=False,
            )
        )
    session.flush()
    return CallResult(ticket.id, ticket.number, ticket.called_count, explanation, call_id)


# --- at the desk --------------------------------------------------------------------------------


def citizen_arrived(
    session: Session, ctx: DeskContext, now: datetime, ticket_id: str | None = None
) -> CaseResult:
    """The called citizen stands at the desk: serve the ticket and open its case.

    `ticket_id` serves a waiting ticket directly (a citizen who came to the desk without a call)."""
    if ticket_id is None:
        ticket = _current(session, ctx, _("Es ist keine Wartenummer aufgerufen."))
    else:
        require_free_desk(session, ctx)
        ticket = _ticket(session, ctx, ticket_id)
    new_state = _advance(ticket, TicketAction.SERVE, ctx)
    base_version = ticket.version
    case_id = str(uuid6.uuid7())
    service_ids = [service.id for service in ticket.services]
    ticket.state = new_state
    ticket.desk_id, ticket.clerk_id = ctx.desk_id, ctx.clerk_id
    case = Case(
        id=case_id,
        ticket_id=ticket.id,
        office_id=ticket.office_id,
        desk_id=ctx.desk_id,
        clerk_id=ctx.clerk_id,
        opened_at=now,
        serving_since=now,
        served_seconds=0.0,
        notes="",
    )
    case.services = [CaseService(service_id=service_id, documents_checked=[]) for service_id in service_ids]
    session.add(case)
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_SERVE,
        {
            "ticket_id": ticket.id,
            "case_id": case_id,
            "desk_id": ctx.desk_id,
            "clerk_id": ctx.clerk_id,
            "at": _iso(now),
            "service_ids": service_ids,
        },
        base_version,
        created_at=now,
    )
    return CaseResult(ticket.id, ticket.number, case_id)


def no_show(session: Session, ctx: DeskContext, now: datetime) -> TicketResult:
    """Close the called ticket as "nicht erschienen" — only after the office's maximum of calls."""
    ticket = _current(session, ctx, _("Es ist keine Wartenummer aufgerufen."))
    max_calls = office_rules_row(session, ctx.office_id).max_calls
    new_state = _advance(ticket, TicketAction.NO_SHOW, ctx, max_calls=max_calls)
    base_version = ticket.version
    ticket.state = new_state
    if ticket.appointment is not None:
        ticket.appointment.status = AppointmentStatus.NO_SHOW
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_NO_SHOW,
        {"ticket_id": ticket.id, "at": _iso(now)},
        base_version,
        created_at=now,
    )
    return TicketResult(ticket.id, ticket.number, ticket.state)


def park(session: Session, ctx: DeskContext, now: datetime) -> TicketResult:
    """Set the case aside (e.g. the citizen fetches a document); the service time stops."""
    ticket = _current(session, ctx, _("Es wird gerade kein Vorgang bearbeitet."))
    new_state = _advance(ticket, TicketAction.PARK, ctx)
    case = open_case_of(session, ticket)
    base_version = ticket.version
    _close_segment(case, now)
    ticket.state = new_state
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_PARK,
        {"ticket_id": ticket.id, "case_id": case.id, "at": _iso(now)},
        base_version,
        created_at=now,
    )
    return TicketResult(ticket.id, ticket.number, ticket.state)


def resume(session: Session, ctx: DeskContext, ticket_id: str, now: datetime) -> CaseResult:
    """Take a parked case up again at this desk; the service time runs again."""
    require_free_desk(session, ctx)
    ticket = _ticket(session, ctx, ticket_id)
    new_state = _advance(ticket, TicketAction.RESUME, ctx)
    case = open_case_of(session, ticket)
    base_version = ticket.version
    case.serving_since = now
    case.desk_id, case.clerk_id = ctx.desk_id, ctx.clerk_id
    ticket.state = new_state
    ticket.desk_id, ticket.clerk_id = ctx.desk_id, ctx.clerk_id
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_RESUME,
        {
            "ticket_id": ticket.id,
            "case_id": case.id,
            "desk_id": ctx.desk_id,
            "clerk_id": ctx.clerk_id,
            "at": _iso(now),
        },
        base_version,
        created_at=now,
    )
    return CaseResult(ticket.id, ticket.number, case.id)


def transfer(
    session: Session,
    ctx: DeskContext,
    service_ids: Sequence[str],
    target_desk_id: str | None,
    now: datetime,
    ticket_id: str | None = None,
) -> TransferResult:
    """Send the citizen on to other services or another desk: a new waiting ticket keeps the number
    and the arrival time (so the waiting time counts from the first arrival); the old one ends as
    transferred. Without `ticket_id` the desk's current ticket is transferred."""
    if ticket_id is None:
        ticket = _current(session, ctx, _("Es ist keine Wartenummer aufgerufen."))
    else:
        ticket = _ticket(session, ctx, ticket_id)
    new_state = _advance(ticket, TicketAction.TRANSFER, ctx)
    if not service_ids:
        raise CommandRefused(_("Bitte mindestens eine Dienstleistung für die Weiterleitung wählen."))
    services = _services(session, ctx.office_id, service_ids)
    if target_desk_id is not None:
        target = session.get(Desk, target_desk_id)
        if target is None or target.office_id != ctx.office_id:
            raise CommandRefused(_("Der gewählte Schalter ist unbekannt."))
    base_version = ticket.version
    for case in session.scalars(select(Case).where(Case.ticket_id == ticket.id, Case.finished_at.is_(None))):
        _close_segment(case, now)
    ticket.state = new_state
    successor = Ticket(
        id=str(uuid6.uuid7()),
        office_id=ticket.office_id,
        number=ticket.number,
        appointment_id=ticket.appointment_id,
        issued_at=ticket.issued_at,
        priority=ticket.priority,
        state=INITIAL_STATE,
        called_count=0,
        target_desk_id=target_desk_id,
        transferred_from_id=ticket.id,
        origin=ticket.origin,
        version=0,
    )
    successor.services = services
    session.add(successor)
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_TRANSFER,
        {
            "ticket_id": ticket.id,
            "new_ticket_id": successor.id,
            "service_ids": [service.id for service in services],
            "target_desk_id": target_desk_id,
            "at": _iso(now),
        },
        base_version,
        created_at=now,
    )
    return TransferResult(
        ticket.id, successor.id, ticket.number, tuple(service.id for service in services), target_desk_id
    )


def finish(
    session: Session,
    ctx: DeskContext,
    outcomes: Mapping[str, ServiceOutcome | str],
    notes: str,
    now: datetime,
) -> FinishResult:
    """Finish the case being served with one outcome per service of the case."""
    ticket = _current(session, ctx, _("Es wird gerade kein Vorgang bearbeitet."))
    new_state = _advance(ticket, TicketAction.FINISH, ctx)
    case = open_case_of(session, ticket)
    by_service = {case_service.service_id: case_service for case_service in case.services}
    try:
        chosen = {service_id: ServiceOutcome(outcome) for service_id, outcome in outcomes.items()}
    except ValueError:
        raise CommandRefused(_("Unbekanntes Ergebnis für eine Dienstleistung.")) from None
    unknown = set(chosen) - set(by_service)
    missing = set(by_service) - set(chosen)
    if unknown:
        raise CommandRefused(_("Ein Ergebnis betrifft eine Dienstleistung, die nicht zum Vorgang gehört."))
    if missing:
        names = sorted(by_service[service_id].service.name for service_id in missing)
        raise CommandRefused(
            _("Bitte für jede Dienstleistung ein Ergebnis wählen; es fehlt: {names}.").format(
                names=", ".join(names)
            )
        )
    base_version = ticket.version
    for service_id, outcome in chosen.items():
        by_service[service_id].outcome = outcome
    _close_segment(case, now)
    case.finished_at = now
    case.notes = notes
    ticket.state = new_state
    if ticket.appointment is not None:
        ticket.appointment.status = AppointmentStatus.FINISHED
    append_operation(
        session,
        ctx,
        OperationKind.CASE_FINISH,
        {
            "ticket_id": ticket.id,
            "case_id": case.id,
            "outcomes": {service_id: str(outcome) for service_id, outcome in chosen.items()},
            "notes": notes,
            "at": _iso(now),
        },
        base_version,
        created_at=now,
    )
    return FinishResult(ticket.id, ticket.number, case.id, case.served_seconds, chosen)


def issue_walk_in(
    session: Session,
    ctx: DeskContext,
    service_ids: Sequence[str],
    priority: int,
    now: datetime,
    appointment_id: str | None = None,
    issued_elsewhere: NumberFloor | None = None,
    number_mark: str | None = None,
) -> IssueResult:
    """Issue a waiting number at the desk, from the desk's own range (`S3-07` at desk 3), so desks
    never hand out the same number even while offline.

    With `appointment_id` the number is a check-in of that appointment at the desk.
    `issued_elsewhere` names the highest number of the range this store may not hold (restored from
    a backup: `workstation.number_witness`); `number_mark` is a copied store's letter
    (`workstation.store_instance`)."""
    if not 0 <= priority <= MAX_PRIORITY:
        raise CommandRefused(_("Ungültige Dringlichkeit."))
    appointment: Appointment | None = None
    if appointment_id is not None:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None or appointment.office_id != ctx.office_id:
            raise CommandRefused(_("Der Termin ist unbekannt."))
        if appointment.status != AppointmentStatus.BOOKED:
            raise CommandRefused(
                _("Der Termin kann nicht eingecheckt werden ({state}).").format(
                    state=state_label(appointment.status)
                )
            )
        service_ids = service_ids or [service.id for service in appointment.services]
    if not service_ids:
        raise CommandRefused(_("Bitte mindestens eine Dienstleistung wählen."))
    services = _services(session, ctx.office_id, service_ids)
    desk = session.get(Desk, ctx.desk_id)
    if desk is None:
        raise CommandRefused(_("Dieser Schalter ist im lokalen Bestand unbekannt; bitte abgleichen."))
    number = next_desk_number(session, desk, now, issued_elsewhere, number_mark)
    ticket = Ticket(
        id=str(uuid6.uuid7()),
        office_id=ctx.office_id,
        number=number,
        appointment_id=appointment_id,
        issued_at=now,
        priority=priority,
        state=INITIAL_STATE,
        called_count=0,
        origin="appointment" if appointment is not None else "desk",
        version=0,
    )
    ticket.services = services
    session.add(ticket)
    if appointment is not None:
        appointment.status = AppointmentStatus.CHECKED_IN
    append_operation(
        session,
        ctx,
        OperationKind.TICKET_ISSUE,
        {
            "ticket_id": ticket.id,
            "number": number,
            "service_ids": [service.id for service in services],
            "priority": priority,
            "appointment_id": appointment_id,
            "at": _iso(now),
            "origin": ticket.origin,
        },
        None,
        created_at=now,
    )
    return IssueResult(ticket.id, number, tuple(service.id for service in services), priority)


def desk_number_prefix(desk: Desk, mark: str | None = None) -> str:
    """`S3-` at desk 3; a copied store adds its own letter (`S3K-`, `workstation.store_instance`)."""
    return f"S{desk.number}{mark or ''}-"


class NumberFloor(Protocol):
    def highest(self, office_id: str, prefix: str, day: date) -> int: ...


def next_desk_number(
    session: Session,
    desk: Desk,
    now: datetime,
    issued_elsewhere: NumberFloor | None = None,
    mark: str | None = None,
) -> str:
    """The desk's next number of the office's day (local midnight to midnight), after the highest in
    the store and the highest `issued_elsewhere` knows of."""
    prefix = desk_number_prefix(desk, mark)
    day = office_day(now)
    day_start, _day_end = office_day_bounds(day)
    numbers = session.scalars(
        select(Ticket.number).where(
            Ticket.office_id == desk.office_id,
            Ticket.number.startswith(prefix, autoescape=True),
            Ticket.issued_at >= day_start,
        )
    )
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    highest = max((int(m.group(1)) for n in numbers if (m := pattern.match(n))), default=0)
    if issued_elsewhere is not None:
        highest = max(highest, issued_elsewhere.highest(desk.office_id, prefix, day))
    return f"{prefix}{highest + 1:02d}"


# --- shared lookups -----------------------------------------------------------------------------


def office_rules_row(session: Session, office_id: str) -> Office:
    """The office's settings; defaults when the office has not been synced yet."""
    office = session.get(Office, office_id)
    if office is None:
        return Office(
            id=office_id,
            name="",
            max_calls=DEFAULT_MAX_CALLS,
            recall_block_minutes=5,
            early_window_minutes=5,
            service_level_minutes=15,
        )
    return office


def office_rules(session: Session, office_id: str) -> OrderingRules:
    office = office_rules_row(session, office_id)
    return OrderingRules(
        recall_block_minutes=office.recall_block_minutes, early_window_minutes=office.early_window_minutes
    )


def open_case_of(session: Session, ticket: Ticket) -> Case:
    case = session.scalar(
        select(Case)
        .where(Case.ticket_id == ticket.id, Case.finished_at.is_(None))
        .order_by(Case.opened_at.desc())
    )
    if case is None:
        raise CommandRefused(
            _("Zu Wartenummer {number} ist kein Vorgang geöffnet.").format(number=ticket.number)
        )
    return case


def _close_segment(case: Case, at: datetime) -> None:
    """Add the running serving segment to the case's service time (DESIGN §7: summed over parks)."""
    if case.serving_since is not None:
        case.served_seconds += max(0.0, (at - case.serving_since).total_seconds())
        case.serving_since = None


def _ticket(session: Session, ctx: DeskContext, ticket_id: str) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.office_id != ctx.office_id:
        raise CommandRefused(_("Diese Wartenummer ist unbekannt."))
    return ticket


def _current(session: Session, ctx: DeskContext, absent: str) -> Ticket:
    """The desk's current ticket (called or serving here); `absent` is the refusal when there is none."""
    ticket = queries.current_ticket_row(session, ctx.office_id, ctx.desk_id)
    if ticket is None:
        raise CommandRefused(absent)
    return ticket


def precheck(session: Session, ctx: DeskContext, action: TicketAction) -> None:
    """Raise the `CommandRefused` that `action` on the desk's current ticket would raise, changing
    nothing: a dialog (no-show, finish) can check the rule before it asks the clerk."""
    if action in (TicketAction.PARK, TicketAction.FINISH):
        ticket = _current(session, ctx, _("Es wird gerade kein Vorgang bearbeitet."))
    else:
        ticket = _current(session, ctx, _("Es ist keine Wartenummer aufgerufen."))
    max_calls = office_rules_row(session, ctx.office_id).max_calls if action is TicketAction.NO_SHOW else None
    _advance(ticket, action, ctx, max_calls=max_calls)


def _advance(
    ticket: Ticket, action: TicketAction, ctx: DeskContext, *, max_calls: int | None = None
) -> TicketState:
    """The state `action` moves `ticket` to (sync.states), or the clerk's German refusal."""
    try:
        return next_state(ticket, action, desk_id=ctx.desk_id, max_calls=max_calls)
    except TransitionRefused as refusal:
        raise _refused(ticket.number, refusal) from None


def _refused(number: str, refusal: TransitionRefused) -> CommandRefused:
    """Word a refused transition for the clerk: what is wrong with this ticket, and what to do."""
    action, state = refusal.action, refusal.state
    if refusal.reason is RefusalReason.TOO_FEW_CALLS:
        message = _(
            "„Nicht erschienen“ ist erst nach {max_calls} Aufrufen möglich; "
            "Wartenummer {number} wurde {count}-mal aufgerufen. Bitte erneut aufrufen (F3)."
        ).format(max_calls=refusal.max_calls, number=number, count=refusal.called_count)
    elif state == TicketState.CALLED and action in (TicketAction.PARK, TicketAction.FINISH):
        message = _("Wartenummer {number} ist aufgerufen, der Vorgang ist noch nicht geöffnet (F5).").format(
            number=number
        )
    elif state == TicketState.SERVING and action in (
        TicketAction.RECALL,
        TicketAction.NO_SHOW,
        TicketAction.SERVE,
    ):
        message = _("Wartenummer {number} wird bereits bearbeitet.").format(number=number)
    elif action in (TicketAction.RECALL, TicketAction.NO_SHOW):  # nothing of this desk's to call
        message = _("Es ist keine Wartenummer aufgerufen.")
    elif action in (TicketAction.PARK, TicketAction.FINISH):
        message = _("Es wird gerade kein Vorgang bearbeitet.")
    else:
        templates = {
            TicketAction.CALL: _("Wartenummer {number} wartet nicht ({state})."),
            TicketAction.SERVE: _("Wartenummer {number} kann nicht bedient werden ({state})."),
            TicketAction.RESUME: _("Wartenummer {number} ist nicht geparkt ({state})."),
            TicketAction.TRANSFER: _("Wartenummer {number} kann nicht weitergeleitet werden ({state})."),
        }
        message = templates[action].format(number=number, state=state_label(state))
    return CommandRefused(message)


def require_free_desk(session: Session, ctx: DeskContext) -> None:
    current = queries.current_ticket_row(session, ctx.office_id, ctx.desk_id)
    if current is not None:
        raise CommandRefused(
            _(
                "An diesem Schalter ist noch Wartenummer {number} offen. Bitte zuerst abschließen, "
                "parken, weiterleiten oder als nicht erschienen markieren."
            ).format(number=current.number)
        )


def _services(session: Session, office_id: str, service_ids: Sequence[str]) -> list[Service]:
    wanted = list(dict.fromkeys(service_ids))
    found = {
        service.id: service
        for service in session.scalars(
            select(Service).where(Service.id.in_(wanted), Service.office_id == office_id)
        )
    }
    if len(found) != len(wanted):
        raise CommandRefused(_("Eine gewählte Dienstleistung ist an diesem Standort unbekannt."))
    return [found[service_id] for service_id in wanted]
